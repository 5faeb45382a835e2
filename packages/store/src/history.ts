/**
 * Reading the build history for analysis (`rbuild graph`): each task's most
 * recent runs, and the durations stored with its cached actions. Read-only:
 * the index is opened with SQLite's read-only flag, never created, migrated
 * or healed, so analysing a workspace writes nothing. An index that is not
 * there, of another schema version, or unreadable is an empty history (what
 * `because` says why, for the caller to tell the user or not).
 *
 * `runs` has no index by task (see schema.ts, 4 -> 5), so the runs of the
 * newest ANALYSED_BUILDS builds are read once, newest build first (the
 * history keeps HISTORY_BUILDS, five times as many: reading them all would
 * cost `rbuild graph` up to a second on a 1,000-task workspace).
 * Builds answered from the freshness record and not folded in yet
 * (answered-builds.ts) are read from their file as the next Store would fold
 * them: copies of the build that made the record's entries, every task restored, newer than any in the
 * index (`build` -1: not numbered yet). The file is only read, never claimed.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type Database from "better-sqlite3";
import { SCHEMA_VERSION } from "./schema.js";
import { answeredBuildsFile, type AnsweredBuild } from "./answered-builds.js";

const load = createRequire(import.meta.url);

/** How many of the newest builds the analysis reads. */
const ANALYSED_BUILDS = 200;

/** One recorded run of a task in a build (what `rbuild graph`'s hints read, as @rbuild/graph's RecordedRun). */
export interface HistoryRun {
  /** The build's number in the index; -1 for a build answered from the freshness record and not folded in yet. */
  readonly build: number;
  readonly status: "ran" | "cached" | "failed" | "skipped" | "interrupted";
  /** For a cached run: where it came from. */
  readonly cache: "local" | "remote" | null;
  /** The run's time; for a cached run, the time its restore took. */
  readonly durationMs: number;
  readonly key: string | null;
  readonly outputsDigest: string | null;
  /** For a hit restored through a cache lookup: the time the restore took; else null (a run that ran, one found up to date, one with no evidence). */
  readonly restoreMs: number | null;
  /** The input paths that changed since the task's previous key (from `run_evidence`; empty without). */
  readonly changedInputs: readonly string[];
  /** Each output path's digest (`symlink:<target>` for a link, `dir` for a directory), when recorded; else null. */
  readonly outputs: Readonly<Record<string, string>> | null;
}

export interface TaskRecords {
  /** Newest first, at most `perTask`. */
  readonly runs: HistoryRun[];
  /** The durations recorded with the task's actions in the index (one per cached key). */
  readonly actionDurationsMs: number[];
}

export interface History {
  readonly tasks: Map<string, TaskRecords>;
  /** Why the history is empty, when it is for a reason other than no builds: an old or unreadable index. */
  readonly because?: string;
}

/** Each task's `perTask` most recent runs (default 20) and its actions' durations, from the index in `dir`. */
export function readHistory(dir: string, perTask = 20): History {
  const path = join(dir, "index.sqlite");
  if (!existsSync(path)) return { tasks: new Map() };
  let db: Database.Database | undefined;
  try {
    db = new (load("better-sqlite3") as typeof Database)(path, { readonly: true, fileMustExist: true, timeout: 5_000 });
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version !== SCHEMA_VERSION) return { tasks: new Map(), because: `the cache index has schema version ${version}, this rbuild reads ${SCHEMA_VERSION}` };
    const tasks = new Map<string, TaskRecords>();
    const records = (task: string): TaskRecords => {
      let found = tasks.get(task);
      if (found === undefined) tasks.set(task, (found = { runs: [], actionDurationsMs: [] }));
      return found;
    };
    const evidence = readEvidence(db);
    const runs = db
      .prepare("SELECT build, task, status, cache, duration_ms, key, outputs_digest FROM runs WHERE build >= coalesce((SELECT id FROM builds ORDER BY id DESC LIMIT 1 OFFSET ?), 0) AND status NOT IN ('undone', 'undo-failed') ORDER BY build DESC")
      .raw();
    for (const [build, task, status, cache, durationMs, key, outputsDigest] of runs.iterate(ANALYSED_BUILDS - 1) as Iterable<[number, string, HistoryRun["status"], HistoryRun["cache"], number, string | null, string | null]>) {
      const kept = records(task).runs;
      if (kept.length < perTask) kept.push({ build, status, cache, durationMs, key, outputsDigest, ...(evidence.get(`${task}\0${build}`) ?? NO_EVIDENCE) });
    }
    const pending = pendingAnsweredBuilds(dir);
    if (pending.length > 0) {
      const copied = db.prepare("SELECT task, key, outputs_digest FROM runs WHERE build = ?").raw();
      const copies = new Map<string, HistoryRun[]>();
      // Oldest first, each put in front: the newest ends up first.
      for (const from of pending) {
        for (const [task, key, outputsDigest] of copied.all(from) as [string, string | null, string | null][]) {
          copies.set(task, [{ build: -1, status: "cached", cache: key === null ? null : "local", durationMs: 0, key, outputsDigest, ...NO_EVIDENCE }, ...(copies.get(task) ?? [])]);
        }
      }
      for (const [task, runs] of copies) {
        const kept = records(task);
        kept.runs.unshift(...runs);
        kept.runs.length = Math.min(kept.runs.length, perTask);
      }
    }
    for (const [task, durationMs] of db.prepare("SELECT task, duration_ms FROM actions").raw().iterate() as Iterable<[string, number]>) {
      records(task).actionDurationsMs.push(durationMs);
    }
    return { tasks };
  } catch (error) {
    return { tasks: new Map(), because: `the cache index ${path} could not be read (${(error as Error).message})` };
  } finally {
    db?.close();
  }
}

type Evidence = Pick<HistoryRun, "restoreMs" | "changedInputs" | "outputs">;

const NO_EVIDENCE: Evidence = { restoreMs: null, changedInputs: [], outputs: null };

/** Every run's evidence, by task and build (`task\0build`); a row whose JSON does not parse counts as none. */
function readEvidence(db: Database.Database): Map<string, Evidence> {
  const found = new Map<string, Evidence>();
  const rows = db.prepare("SELECT task, build, restore_ms, changed, outputs FROM run_evidence").raw();
  for (const [task, build, restoreMs, changed, outputs] of rows.iterate() as Iterable<[string, number, number | null, string, string | null]>) {
    try {
      const changedInputs = JSON.parse(changed) as unknown;
      const digests = outputs === null ? null : (JSON.parse(outputs) as unknown);
      if (!Array.isArray(changedInputs) || (digests !== null && (typeof digests !== "object" || Array.isArray(digests)))) continue;
      found.set(`${task}\0${build}`, { restoreMs, changedInputs: changedInputs.filter((path) => typeof path === "string"), outputs: digests as Record<string, string> | null });
    } catch {
      // Damaged JSON: no evidence for that run.
    }
  }
  return found;
}

/** The builds (the ids they copy) waiting in the answered builds' file, oldest first; torn lines are skipped. */
function pendingAnsweredBuilds(dir: string): number[] {
  let text: string;
  try {
    text = readFileSync(answeredBuildsFile(dir), "utf8");
  } catch {
    return []; // None waiting.
  }
  const builds: number[] = [];
  for (const line of text.split("\n")) {
    try {
      const build = line === "" ? undefined : (JSON.parse(line) as Partial<AnsweredBuild>);
      if (typeof build?.from === "number") builds.push(build.from);
    } catch {
      // A torn line (a crash mid-append), as the Store skips it.
    }
  }
  return builds.slice(-ANALYSED_BUILDS);
}
