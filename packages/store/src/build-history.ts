/**
 * Reading the history and the error database (`rbuild history`, `errors`,
 * `show`): the builds newest first, one task's runs newest first, failures
 * grouped by task and signature, and one run with what the cache still holds
 * of it. Read through an open Store (which has folded the builds answered
 * from the freshness record into the index), without writing.
 *
 * What each read costs, with RUN_HISTORY_BUILDS builds of 1,000 tasks whose
 * runs are all kept (200,000 runs) and HISTORY_BUILDS builds in all: the builds are their own table; a task's runs are found walking
 * `runs_by_build` from the newest build until `limit` are found (a task in
 * most builds: a few thousand rows); failures come from the partial index
 * `runs_errors`, which holds nothing else (see schema.ts).
 */
import type Database from "better-sqlite3";
import type { Digest } from "@rbuild/hash";
import { parseColumn } from "./index-damage.js";
import type { ManifestEntry } from "./layer.js";
import type { LogLine, RunImageRecord, Store } from "./store.js";

/** `cancelled`: its caller stopped the tasks that failed (`rbuild watch`, after an edit made them stale). */
export type BuildOutcome = "ok" | "failed" | "interrupted" | "cancelled" | "unfinished";

/** One build of the history. */
export interface BuildRecord {
  readonly id: number;
  readonly started: number;
  /** Null when it never finished (it is running, or its process died). */
  readonly finished: number | null;
  readonly outcome: BuildOutcome;
  readonly targets: readonly string[];
  readonly commit: string | null;
  readonly host: string | null;
  /** For a build answered from the freshness record (nothing to do): the build it repeated. */
  readonly repeated: number | null;
  /** How many of its tasks ran, were cached, failed, were skipped and were interrupted (groups only when they failed or were skipped, as the summary counts). */
  readonly tasks: { readonly ran: number; readonly cached: number; readonly failed: number; readonly skipped: number; readonly interrupted: number };
}

/**
 * One run of a task: `run` 0 is its newest, 1 the one before, and so on. A
 * retried task has a run per attempt; a failed build's undo of it is a run
 * too, with status `undone` or `undo-failed`, after its runs in that build.
 */
export interface TaskRun {
  readonly task: string;
  readonly run: number;
  readonly build: number;
  readonly started: number;
  readonly commit: string | null;
  readonly host: string | null;
  /** `interrupted`: stopped (Ctrl-C, or cancelled by `rbuild watch`) before it finished. */
  readonly status: "ran" | "cached" | "failed" | "skipped" | "interrupted" | "undone" | "undo-failed";
  readonly cache: "local" | "remote" | null;
  /** Which attempt of a task with retries it was (1 for the first); null for a task run once. */
  readonly attempt: number | null;
  readonly durationMs: number;
  readonly exitCode: number | null;
  readonly reasons: readonly string[];
  readonly key: string | null;
  /** The failure's message, for a run that failed. */
  readonly error: string | null;
  /** The digest of its log (see schema.ts, `runs.log`). */
  readonly log: string | null;
  readonly outputsDigest: string | null;
  readonly layer: string | null;
}

/** Failures of one task with one signature. */
export interface ErrorGroup {
  readonly task: string;
  readonly signature: string;
  readonly count: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
  /** The newest failure's build, exit code, error and last log lines. */
  readonly lastBuild: number;
  readonly exitCode: number | null;
  readonly error: string | null;
  readonly tail: readonly string[];
}

/** What the cache still holds of a run's outputs. */
export type RunOutputs =
  /** `stack`: a transform's layers below `layer`, bottom first, each with the task whose action has it as its own layer (null: none now). */
  | { readonly state: "stored"; readonly manifest: readonly ManifestEntry[]; readonly layer: Digest | null; readonly stack: readonly StackLayer[] }
  /** none: it left none to store (it failed, was interrupted or skipped, or is a group); impure: not cached; gone: removed since (gc); replaced: the key now holds another result. */
  | { readonly state: "none" | "impure" | "gone" | "replaced" };

/** One run with its outputs and log, for `rbuild show`. */
export interface RunDetail extends TaskRun {
  readonly outputs: RunOutputs;
  /** Its log; "none" when it has none (it said nothing, or never ran), "gone" when the log's blob was removed. */
  readonly logLines: readonly LogLine[] | "none" | "gone";
}

const RUN_COLUMNS =
  "r.build, b.started, b.git_commit, b.host, r.status, r.cache, r.attempt, r.duration_ms, r.exit_code, r.reasons, r.key, r.error, r.log, r.outputs_digest, r.layer";
type RunColumns = [
  number,
  number,
  string | null,
  string | null,
  TaskRun["status"],
  TaskRun["cache"],
  number | null,
  number,
  number | null,
  string,
  string | null,
  string | null,
  string | null,
  string | null,
  string | null,
];

function runOf(task: string, run: number, row: RunColumns): TaskRun {
  const [build, started, commit, host, status, cache, attempt, durationMs, exitCode, reasons, key, error, log, outputsDigest, layer] = row;
  return { task, run, build, started, commit, host, status, cache, attempt, durationMs, exitCode, reasons: parseColumn<string[]>(reasons, "runs.reasons"), key, error, log, outputsDigest, layer };
}

/** The newest `limit` builds, newest first. */
export function listBuilds(store: Store, limit: number): BuildRecord[] {
  return store.usingIndex((db) => {
    const counts = db.prepare("SELECT status, count(*) FROM runs WHERE build = ? GROUP BY status").raw();
    const rows = db
      .prepare("SELECT id, started, finished, ok, interrupted, targets, git_commit, host, origin, tasks FROM builds ORDER BY id DESC LIMIT ?")
      .raw()
      .all(limit) as [number, number, number | null, number | null, number | null, string, string | null, string | null, number | null, string | null][];
    return rows.map(([id, started, finished, ok, interrupted, targets, commit, host, repeated, counted]) => {
      const tasks = { ran: 0, cached: 0, failed: 0, skipped: 0, interrupted: 0 };
      if (counted !== null) {
        // Counted as it finished: its runs may be gone (only failures are kept past RUN_HISTORY_BUILDS).
        const [ran, cached, failed, skipped, interrupted] = parseColumn<number[]>(counted, "builds.tasks");
        Object.assign(tasks, { ran: ran ?? 0, cached: cached ?? 0, failed: failed ?? 0, skipped: skipped ?? 0, interrupted: interrupted ?? 0 });
      } else for (const [status, n] of counts.all(id) as [keyof typeof tasks, number][]) if (status in tasks) tasks[status] = n;
      const outcome: BuildOutcome = finished === null ? "unfinished" : interrupted === 1 ? "interrupted" : interrupted === 2 ? "cancelled" : ok === 1 ? "ok" : "failed";
      return { id, started, finished, outcome, targets: parseColumn<string[]>(targets, "builds.targets"), commit, host, repeated, tasks };
    });
  });
}

/** The newest runs of `task`, newest first: `limit` of them, after skipping `skip`. */
export function taskRuns(store: Store, task: string, limit: number, skip = 0): TaskRun[] {
  return store.usingIndex((db) => {
    // Walks runs_by_build from the newest build (see the note at the top): no index by task.
    const rows = db
      .prepare(`SELECT ${RUN_COLUMNS} FROM runs r INDEXED BY runs_by_build JOIN builds b ON b.id = r.build WHERE r.task = ? ORDER BY r.build DESC, r.rowid DESC LIMIT ? OFFSET ?`)
      .raw()
      .all(task, limit, skip) as RunColumns[];
    return rows.map((row, i) => runOf(task, skip + i, row));
  });
}

/** Whether the history or the task states know `task` (a task state is a key lookup; the runs are scanned only if it has none). */
export function knowsTask(store: Store, task: string): boolean {
  return store.usingIndex(
    (db) =>
      db.prepare("SELECT 1 FROM task_state WHERE task = ?").get(task) !== undefined ||
      db.prepare("SELECT 1 FROM runs WHERE task = ? LIMIT 1").get(task) !== undefined,
  );
}

/** How many runs of `task` the history has (every run row is read). */
export function runCount(store: Store, task: string): number {
  return store.usingIndex((db) => db.prepare("SELECT count(*) FROM runs WHERE task = ?").pluck().get(task) as number);
}

/** The names of the tasks the index knows (their task states), for suggestions. */
export function knownTasks(store: Store): string[] {
  return store.usingIndex((db) => db.prepare("SELECT task FROM task_state").pluck().all() as string[]);
}

/**
 * Failures grouped by task and signature, the most recently seen first;
 * only `task`'s with `task`, only those of builds started at or after `since`.
 */
export function errorGroups(store: Store, filter: { readonly task?: string; readonly since?: number } = {}): ErrorGroup[] {
  return store.usingIndex((db) => {
    const where = ["r.signature IS NOT NULL"];
    const params: (string | number)[] = [];
    if (filter.task !== undefined) {
      where.push("r.task = ?");
      params.push(filter.task);
    }
    if (filter.since !== undefined) {
      where.push("b.started >= ?");
      params.push(filter.since);
    }
    const groups = db
      .prepare(
        `SELECT r.task, r.signature, count(*), min(b.started), max(r.build) FROM runs r INDEXED BY runs_errors JOIN builds b ON b.id = r.build
         WHERE ${where.join(" AND ")} GROUP BY r.task, r.signature ORDER BY max(r.build) DESC, r.task`,
      )
      .raw()
      .all(...params) as [string, string, number, number, number][];
    const last = db
      .prepare(
        "SELECT b.started, r.exit_code, r.error, r.tail FROM runs r INDEXED BY runs_errors JOIN builds b ON b.id = r.build WHERE r.signature IS NOT NULL AND r.task = ? AND r.signature = ? AND r.build = ?",
      )
      .raw();
    return groups.map(([task, signature, count, firstSeen, lastBuild]) => {
      const [lastSeen, exitCode, error, tail] = last.get(task, signature, lastBuild) as [number, number | null, string | null, string];
      return { task, signature, count, firstSeen, lastSeen, lastBuild, exitCode, error, tail: parseColumn<string[]>(tail, "runs.tail") };
    });
  });
}

/** The run of `task` that is `run` runs older than its newest (0: the newest), with its outputs and log; undefined when it has no such run. */
export function runDetail(store: Store, task: string, run = 0): RunDetail | undefined {
  const found = taskRuns(store, task, 1, run)[0];
  if (found === undefined) return undefined;
  const action = found.key === null ? undefined : store.usingIndex((db) => actionOf(db, found.key!));
  return { ...found, outputs: outputsOf(found, action), logLines: logOf(store, found, action) };
}

/** The image a container task's `key` was computed with, when the index has it (schema.ts, `run_images`). */
export function runImage(store: Store, key: string): RunImageRecord | undefined {
  return store.usingIndex((db) => {
    const row = db.prepare("SELECT kind, path, digest FROM run_images WHERE key = ?").raw().get(key) as [RunImageRecord["kind"], string, string] | undefined;
    return row === undefined ? undefined : { kind: row[0], path: row[1], digest: row[2] };
  });
}

/** A layer of a transform's stack, as `rbuild show` lists it. */
export interface StackLayer {
  readonly digest: Digest;
  readonly task: string | null;
}

interface ActionColumns {
  readonly layer: Digest | null;
  readonly stack: readonly StackLayer[];
  readonly manifest: readonly ManifestEntry[];
  readonly outputsDigest: string;
  readonly log: readonly LogLine[] | null;
  readonly logBlob: Digest | null;
}

/** The action stored under `key`, read without counting as a use (gc's order stays as builds left it). */
function actionOf(db: Database.Database, key: string): ActionColumns | undefined {
  const row = db.prepare("SELECT layer, manifest, outputs_digest, log, log_blob, stack FROM actions WHERE key = ?").raw().get(key) as
    | [Digest | null, string, string, string | null, Digest | null, string | null]
    | undefined;
  if (row === undefined) return undefined;
  const [layer, manifest, outputsDigest, log, logBlob, stackColumn] = row;
  const owner = db.prepare("SELECT task FROM actions WHERE layer = ? ORDER BY last_used DESC LIMIT 1").pluck();
  const stack = (stackColumn === null ? [] : parseColumn<Digest[]>(stackColumn, "actions.stack")).map((digest) => ({ digest, task: (owner.get(digest) as string | undefined) ?? null }));
  return { layer, stack, manifest: parseColumn<ManifestEntry[]>(manifest, "actions.manifest"), outputsDigest, log: log === null ? null : parseColumn<LogLine[]>(log, "actions.log"), logBlob };
}

function outputsOf(run: TaskRun, action: ActionColumns | undefined): RunOutputs {
  if (run.status === "failed" || run.status === "interrupted" || run.status === "skipped" || run.outputsDigest === null) return { state: "none" };
  if (run.key === null) return { state: run.layer === null ? "none" : "impure" };
  if (action === undefined) return { state: "gone" };
  if (action.outputsDigest !== run.outputsDigest) return { state: "replaced" };
  return { state: "stored", manifest: action.manifest, layer: action.layer, stack: action.stack };
}

function logOf(store: Store, run: TaskRun, action: ActionColumns | undefined): RunDetail["logLines"] {
  if (run.log !== null) {
    const blob = store.readBlob(run.log as Digest);
    // Its bytes match its digest: what the build wrote.
    if (blob.check === "ok") return JSON.parse(blob.bytes.toString("utf8")) as LogLine[];
    // A pure task's small log lives in its action's row, not in a blob of its own.
    if (action !== undefined && action.logBlob === null && action.log !== null && action.outputsDigest === run.outputsDigest) return action.log;
    return "gone";
  }
  // A cached run replayed its action's log; a run from before version 8 names none.
  if (run.status === "cached" && action !== undefined && action.outputsDigest === run.outputsDigest) {
    const log = store.readLog(action);
    return log === "missing" || log === "corrupt" ? "gone" : log.length === 0 ? "none" : log;
  }
  return "none";
}
