/**
 * The local store: `index.sqlite` (see schema.ts) plus `cas/` blobs, in the
 * workspace's `.rbuild/` directory. One Store is opened per rbuild process.
 * Reads go straight to SQLite; the writes a build makes along the way (stat
 * cache entries, task states) are buffered and written in one transaction by
 * `flush()`, so the per-task hot path does no write I/O besides blobs.
 *
 * Every use of the index goes through `#healing`: damage SQLite finds in the
 * middle of a build (or a row that does not parse) starts the index over,
 * with one info event, and the build goes on with the new one, losing only
 * what the old one remembered (see index-damage.ts).
 */
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type Database from "better-sqlite3";
import { digestBytes, type Digest, type FileState, type StatCacheBackend } from "@rbuild/hash";
import { Cas } from "./cas.js";
import type { IndexKeeper } from "./index-keeper.js";
import type { ManifestEntry } from "./layer.js";
import { isIndexDamage, parseColumn } from "./index-damage.js";
import { openIndex, startIndexOver, type Info } from "./open-index.js";
import { EVIDENCE_CHANGED, EVIDENCE_OUTPUTS, EVIDENCE_RUNS, HISTORY_BUILDS, INLINE_BLOB_LIMIT, PRUNE_EVIDENCE, PRUNE_HISTORY, RUN_HISTORY_BUILDS } from "./schema.js";
import { answeredBuildsFile, type AnsweredBuild } from "./answered-builds.js";
import { errorSignature, ERROR_TAIL_LINES } from "./error-signature.js";

/** One line of a task's log: `o` stdout, `e` stderr. */
export type LogLine = readonly ["o" | "e", string];

/** What a task produced, stored under its key. */
export interface ActionEntry {
  readonly key: string;
  readonly task: string;
  /** The layer blob, or null when the task has no outputs. */
  readonly layer: Digest | null;
  /**
   * For a transform (see diff-layer.ts): the layers `layer` is a difference
   * from, bottom first; the task's outputs are the stack applied in order.
   * Empty or absent: `layer` holds every output.
   */
  readonly stack?: readonly Digest[];
  readonly manifest: readonly ManifestEntry[];
  readonly outputsDigest: Digest;
  /** The log, when it was small enough to keep inline. */
  readonly log: readonly LogLine[] | null;
  /** The log's blob, when it was not. */
  readonly logBlob: Digest | null;
  readonly exitCode: number | null;
  readonly durationMs: number;
}

/**
 * A blob an action references, already stored: a file committed to the CAS,
 * or (up to INLINE_BLOB_LIMIT) its `bytes`, which the index keeps.
 */
export interface BlobRow {
  readonly digest: Digest;
  readonly size: number;
  readonly bytes?: Buffer;
}

/** A layer to extract: its blob file or its bytes, checked against its digest. */
export type LayerRead = { check: "ok"; layer: string | Buffer } | { check: "missing" | "corrupt" };

export interface TaskState {
  readonly key: string;
  /** The key record (JSON) the task had in its last build. */
  readonly record: string;
  /** Whether it succeeded then. */
  readonly ok: boolean;
  /** Why it ran the last time it ran. */
  readonly ranReasons: readonly string[];
}

export interface RunRow {
  readonly task: string;
  readonly key: string | null;
  readonly status: string;
  readonly cache: string | null;
  readonly pure: boolean;
  readonly durationMs: number;
  readonly exitCode: number | null;
  readonly reasons: readonly string[];
  readonly error: string | null;
  readonly outputsDigest: string | null;
  readonly layer: string | null;
  /** What the analysis needs beyond the row, for a run that looked the cache up or ran (schema.ts, `run_evidence`). */
  readonly evidence?: RunEvidence;
  /** The digest of the run's log (JSON of LogLine[]), when it ran and said something (schema.ts, `runs.log`). */
  readonly log?: string | null;
  /** For a failure the error database keeps (not an interrupt): its last log lines (at most ERROR_TAIL_LINES kept). */
  readonly tail?: readonly string[];
  /** Which attempt of a task with retries this is (1 for the first); left out for a task run once. */
  readonly attempt?: number;
  /** A group (a task without `run`): one that ran or was cached did nothing, and is not counted (as the summary does not). */
  readonly group?: true;
  /** A container task's image, as identified for its key (schema.ts, `run_images`). */
  readonly image?: RunImageRecord;
}

/** The image a container task's key was computed with: what `rbuild export --oci` needs to find it again. */
export interface RunImageRecord {
  readonly kind: "oci-layout" | "docker-archive" | "rootfs";
  /** Path of the layout, tarball or directory: relative to the workspace root when inside it, else absolute (image-path.ts). */
  readonly path: string;
  readonly digest: string;
}

/** Where a build ran: the git commit of the workspace (null outside git, or none yet) and the host's name. */
export interface BuildPlace {
  readonly commit: string | null;
  readonly host: string;
}

/** A run's evidence for the analysis; see schema.ts, `run_evidence`. */
export interface RunEvidence {
  /** For a hit restored through a cache lookup: the time it took; null for a run that ran. */
  readonly restoreMs: number | null;
  /** The input paths that changed since the task's previous key (at most EVIDENCE_CHANGED are kept). */
  readonly changedInputs: readonly string[];
  /** Each output's path and what it holds, when known: a file's digest, `symlink:<target>` or `dir`. */
  readonly outputs: readonly ManifestEntry[] | null;
}

export interface StoreStats {
  readonly actions: number;
  readonly blobs: number;
  readonly bytes: number;
  readonly statEntries: number;
  readonly builds: number;
  /** Of pure tasks that did not fail: how many were restored from the cache. */
  readonly cached: number;
  readonly ran: number;
}

export interface StoreOptions {
  /** The store directory (`.rbuild` or `RBUILD_CACHE_DIR`). */
  readonly dir: string;
  /** Called for conditions the user should hear about (an index that had to be reset). */
  readonly onInfo?: Info;
  readonly now?: () => number;
  /** The keeper of a long-lived process: checkpoints and history pruning are left to its thread. */
  readonly keeper?: IndexKeeper;
  /** What this process remembers of actions' last uses across its builds (see RecentUses). */
  readonly recentUses?: RecentUses;
}

type ActionRow = [key: string, task: string, layer: string | null, manifest: string, outputsDigest: string, log: string | null, logBlob: string | null, exitCode: number | null, durationMs: number, stack: string | null];

/** Saved actions are written to the index in batches of this many (and at the end of a build). */
const ACTION_BATCH = 64;

/**
 * Rows of one table by key, read the cheaper way for the build at hand: one
 * query per key for the first `limit` lookups (a one-file edit reaches a few
 * dozen tasks and a few hundred files), then the whole table at once (a cold
 * build or a fresh checkout asks about all of them). A row costs 5-10 us,
 * the whole of a 1,000-task workspace's 5-30 ms depending on the table.
 * With `limit` Infinity the table is read whole only when it is empty.
 * `value` makes an entry of a row's `columns`, in their order.
 */
class RowReader<T, Row extends unknown[]> {
  #all: Map<string, T> | undefined;
  #lookups = 0;
  #checked = false;
  readonly #one: string;
  readonly #every: string;
  readonly #any: string;
  constructor(
    private readonly sql: (text: string) => Database.Statement,
    table: string,
    key: string,
    columns: string,
    private readonly limit: number,
    private readonly value: (row: Row) => T,
  ) {
    this.#one = `SELECT ${columns} FROM ${table} WHERE ${key} = ?`;
    this.#every = `SELECT ${key}, ${columns} FROM ${table}`;
    this.#any = `SELECT 1 FROM ${table} LIMIT 1`;
  }

  get(key: string): T | undefined {
    this.#readIfEmpty();
    if (this.#all === undefined && this.#lookups++ < this.limit) {
      const row = this.sql(this.#one).raw().get(key) as Row | undefined;
      return row === undefined ? undefined : this.value(row);
    }
    this.#all ??= new Map((this.sql(this.#every).raw().all() as [string, ...Row][]).map(([name, ...row]) => [name, this.value(row as Row)]));
    return this.#all.get(key);
  }

  /** Whether the table has no row: it had none when first asked, and none was written since. */
  empty(): boolean {
    this.#readIfEmpty();
    return this.#all?.size === 0;
  }

  /** An empty table (a fresh workspace) is read whole at once: no lookup would find anything. */
  #readIfEmpty(): void {
    if (this.#checked) return;
    this.#checked = true;
    if (this.#all === undefined && this.sql(this.#any).get() === undefined) this.#all = new Map();
  }

  /** A row flush() wrote (undefined: deleted), so a table read whole stays as the index is. */
  written(key: string, value: T | undefined): void {
    if (value === undefined) this.#all?.delete(key);
    else this.#all?.set(key, value);
  }
}

function actionOfRow([key, task, layer, manifest, outputsDigest, log, logBlob, exitCode, durationMs, stack]: ActionRow): ActionEntry {
  return {
    key,
    task,
    layer: layer as Digest | null,
    ...(stack === null ? {} : { stack: parseColumn<Digest[]>(stack, "actions.stack") }),
    manifest: parseColumn<ManifestEntry[]>(manifest, "actions.manifest"),
    outputsDigest: outputsDigest as Digest,
    log: log === null ? null : parseColumn<LogLine[]>(log, "actions.log"),
    logBlob: logBlob as Digest | null,
    exitCode,
    durationMs,
  };
}

/** Rows of the stat cache and of task states, as RowReader reads them. */
type StatRow = [size: number, mtimeMs: number, ctimeMs: number, ino: number, digest: Digest];
type StateRow = [key: string, record: string, ok: number, ranReasons: string];

/** How precisely an action's last use is kept, for gc's least-recently-used order (see flush). */
const TOUCH_GRANULARITY_MS = 60 * 60 * 1000;

/**
 * Per index, the actions this process knows to have a last use no older than
 * TOUCH_GRANULARITY_MS before the time given (it wrote or checked it then).
 * A use within TOUCH_GRANULARITY_MS of that time is not written again: in the
 * daemon, a one-file build would otherwise look up the ~950 actions it found
 * up to date, to find each used less than an hour ago (5-10 ms). A last use
 * is then at most twice TOUCH_GRANULARITY_MS old, which gc's days do not see.
 */
export class RecentUses {
  readonly #byIndex = new Map<string, Map<string, number>>();

  /** The last uses known of the index at `path` (action key -> time). */
  of(path: string): Map<string, number> {
    let recent = this.#byIndex.get(path);
    if (recent === undefined || recent.size > RECENT_USES_LIMIT) this.#byIndex.set(path, (recent = new Map()));
    return recent;
  }
}

/** More than this many actions known and the memory starts over: a process's builds seldom use more. */
const RECENT_USES_LIMIT = 200_000;

/** Logs up to this size (as JSON) are kept in the index row; longer ones become blobs. */
export const INLINE_LOG_LIMIT = 16 * 1024;

export class Store implements StatCacheBackend {
  readonly dir: string;
  readonly cas: Cas;
  /**
   * A time on the filesystem's clock from when this store was opened: stat
   * cache entries are kept only for files last changed before it (racily clean).
   */
  readonly trustBefore: number;
  #db: Database.Database;
  readonly #onInfo: Info;
  /** Whether the index was started over during this store's life (see #healing). */
  #startedOver = false;
  /** The build beginBuild recorded, to record again in an index started over since. */
  #build: { readonly id: number; readonly started: number; readonly targets: string; readonly place: BuildPlace | undefined } | undefined;
  readonly #now: () => number;
  readonly #pendingStats = new Map<string, FileState>();
  readonly #pendingStates = new Map<string, TaskState>();
  /** Actions used in this build: their last_used is written by flush(), not one UPDATE per hit. */
  readonly #touched = new Set<string>();
  readonly #pendingActions = new Map<string, { entry: ActionEntry; blobs: readonly BlobRow[] }>();
  /** Bytes of inline blobs not written yet (readable before the batch that writes them). */
  readonly #pendingInline = new Map<string, Buffer>();
  #states!: RowReader<TaskState, StateRow>;
  readonly #statements = new Map<string, Database.Statement>();
  #stats!: RowReader<FileState, StatRow>;
  /**
   * Never read whole (manifests and logs are large), but a fresh workspace's
   * table, empty when first asked, answers from memory: a cold build looked up
   * 1,000 keys in an empty table, one query each (2 % of its main thread). An
   * action another process saves meanwhile is then missed, and its task runs
   * again, which is never wrong.
   */
  #actions!: RowReader<ActionEntry, ActionRow>;
  readonly #indexPath: string;
  readonly #keeper: IndexKeeper | undefined;
  readonly #recentUses: RecentUses;

  /** Whether a keeper's thread checkpoints and prunes this index. */
  get #keeperRunning(): boolean {
    return this.#keeper?.running ?? false;
  }

  private constructor(options: StoreOptions) {
    this.dir = options.dir;
    this.#now = options.now ?? Date.now;
    mkdirSync(this.dir, { recursive: true });
    this.cas = new Cas(join(this.dir, "cas"));
    this.#indexPath = join(this.dir, "index.sqlite");
    this.#onInfo = options.onInfo ?? (() => {});
    this.#keeper = options.keeper;
    this.#recentUses = options.recentUses ?? new RecentUses();
    this.#db = openIndex(this.#indexPath, this.#onInfo, this.#keeperRunning);
    this.trustBefore = this.fsClock();
    this.#openReaders();
    this.#foldAnsweredBuilds();
  }

  /** Readers of the index's tables, with nothing read yet. */
  #openReaders(): void {
    const sql = (text: string): Database.Statement => this.#sql(text);
    this.#stats = new RowReader(sql, "stat_cache", "path", "size, mtime_ms, ctime_ms, ino, digest", 2000, ([size, mtimeMs, ctimeMs, ino, digest]: StatRow) => ({ size, mtimeMs, ctimeMs, ino, digest }));
    this.#states = new RowReader(sql, "task_state", "task", "key, record, ok, ran_reasons", 500, ([key, record, ok, reasons]: StateRow) => ({ key, record, ok: ok === 1, ranReasons: parseColumn<string[]>(reasons, "task_state.ran_reasons") }));
    this.#actions = new RowReader(sql, "actions", "key", "key, task, layer, manifest, outputs_digest, log, log_blob, exit_code, duration_ms, stack", Infinity, actionOfRow);
  }

  /**
   * Runs `work`, which uses the index. If the index turns out damaged (see
   * index-damage.ts), it is started over, with one info event, and `work`
   * runs again on the new, empty one: what it read is then a miss, and what
   * it writes (the buffers flush() writes are kept until it succeeds) lands
   * in the new index. `work` must prepare its statements itself (#sql): the
   * old connection's are gone. Damage in the new index is a bug.
   */
  #healing<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      if (!isIndexDamage(error) || this.#startedOver) throw error;
      this.#startedOver = true;
      this.#onInfo("store-reset", `the cache index ${this.#indexPath} could not be used (${error.message}); starting it over, so tasks will run again`);
      try {
        this.#db.close();
      } catch {
        // A damaged file may not even close cleanly; it is deleted next.
      }
      this.#statements.clear();
      this.#db = startIndexOver(this.#indexPath, this.#onInfo, this.#keeperRunning);
      this.#openReaders();
      return work();
    }
  }

  static open(options: StoreOptions): Store {
    return new Store(options);
  }

  /** The time now on the filesystem's own clock: the mtime of a file written now. */
  fsClock(): number {
    const probe = join(this.dir, "stamp");
    writeFileSync(probe, `${process.pid}\n`);
    return statSync(probe).mtimeMs;
  }

  /** Records that the action `key` was used, without looking it up (written by flush). */
  touch(key: string): void {
    this.#touched.add(key);
  }

  /** A prepared statement, prepared once per store. */
  #sql(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  // --- stat cache (StatCacheBackend) ---

  get(path: string): FileState | undefined {
    return this.#pendingStats.get(path) ?? this.#healing(() => this.#stats.get(path));
  }

  set(path: string, state: FileState): void {
    this.#pendingStats.set(path, state);
  }

  /** Whether the stat cache has no entry at all (a fresh workspace): every input will be read. */
  statCacheEmpty(): boolean {
    return this.#pendingStats.size === 0 && this.#healing(() => this.#stats.empty());
  }

  // --- actions ---

  /** The action stored under `key`, if any. Marks it used (for LRU gc). */
  lookup(key: string): ActionEntry | undefined {
    const pending = this.#pendingActions.get(key);
    if (pending !== undefined) return pending.entry;
    const entry = this.#healing(() => this.#actions.get(key));
    if (entry !== undefined) this.#touched.add(key);
    return entry;
  }

  /**
   * Records an action and the blobs it references (already committed to the
   * CAS). Rows are written in batches, each action in the same transaction as
   * its blob rows, so a row never exists without its blobs; a crash loses at
   * most the last batch (those tasks run again).
   */
  save(entry: ActionEntry, blobs: readonly BlobRow[]): void {
    this.#pendingActions.set(entry.key, { entry, blobs });
    for (const blob of blobs) if (blob.bytes !== undefined) this.#pendingInline.set(blob.digest, blob.bytes);
    if (this.#pendingActions.size >= ACTION_BATCH) this.flush();
  }

  /** Records blobs no action references (an impure task's layer, kept for inspection until gc). */
  saveBlobs(blobs: readonly BlobRow[]): void {
    const now = this.#now();
    this.#healing(() =>
      this.#db.transaction(() => {
        for (const blob of blobs) this.#insertBlob(blob, now);
      })(),
    );
  }

  #insertBlob(blob: BlobRow, now: number): void {
    this.#sql("INSERT INTO blobs (digest, size, last_used) VALUES (?, ?, ?) ON CONFLICT(digest) DO UPDATE SET last_used = excluded.last_used").run(blob.digest, blob.size, now);
    if (blob.bytes !== undefined) this.#sql("INSERT OR IGNORE INTO inline_blobs (digest, data) VALUES (?, ?)").run(blob.digest, blob.bytes);
  }

  /**
   * A blob in memory, made ready to save with an action: a small one rides in
   * the row (the index keeps it when the action is written), a larger one is
   * written to the CAS now.
   */
  blobOf(digest: Digest, bytes: Buffer): BlobRow {
    if (bytes.length <= INLINE_BLOB_LIMIT) return { digest, size: bytes.length, bytes };
    const temp = this.cas.tempPath();
    writeFileSync(temp, bytes); // A temp file: commit() renames it into place.
    this.cas.commit(temp, digest);
    return { digest, size: bytes.length };
  }

  /** The bytes of an inline blob, unchecked; undefined when it is not one (it may be a file). */
  #inlineBytes(digest: Digest): Buffer | undefined {
    const pending = this.#pendingInline.get(digest);
    if (pending !== undefined) return pending;
    const row = this.#healing(() => this.#sql("SELECT data FROM inline_blobs WHERE digest = ?").get(digest) as { data: Buffer } | undefined);
    return row?.data;
  }

  /** An inline blob's bytes checked against its digest (a corrupt one is removed); undefined when it is not one. */
  #checkedInline(digest: Digest): Buffer | "corrupt" | undefined {
    const inline = this.#inlineBytes(digest);
    if (inline === undefined || digestBytes(inline) === digest) return inline;
    this.#pendingInline.delete(digest);
    this.#healing(() => this.#sql("DELETE FROM inline_blobs WHERE digest = ?").run(digest));
    return "corrupt";
  }

  /** A blob's bytes, from the index or its file, checked against its digest; a corrupt one is removed. */
  readBlob(digest: Digest): { check: "ok"; bytes: Buffer } | { check: "missing" | "corrupt" } {
    const inline = this.#checkedInline(digest);
    if (inline === undefined) return this.cas.read(digest);
    return inline === "corrupt" ? { check: inline } : { check: "ok", bytes: inline };
  }

  /** A layer to extract: the bytes of an inline one, or the path of a file that checked out. */
  readLayer(digest: Digest): LayerRead {
    const inline = this.#checkedInline(digest);
    if (inline === "corrupt") return { check: inline };
    if (inline !== undefined) return { check: "ok", layer: inline };
    const check = this.cas.verify(digest);
    return check === "ok" ? { check, layer: this.cas.path(digest) } : { check };
  }

  /** The size of a blob stored here, in the index or as a file; undefined when it is not here. */
  blobSize(digest: Digest): number | undefined {
    return this.#inlineBytes(digest)?.length ?? this.cas.size(digest);
  }

  /** A blob to send elsewhere, unchecked: its bytes when the index keeps it, else its file's path. */
  blobSource(digest: Digest): Buffer | string {
    return this.#inlineBytes(digest) ?? this.cas.path(digest);
  }

  /** Forgets an action whose blobs turned out missing or corrupt. */
  dropAction(key: string): void {
    this.#pendingActions.delete(key);
    this.#healing(() => {
      this.#actions.written(key, undefined);
      this.#sql("DELETE FROM actions WHERE key = ?").run(key);
    });
  }

  /** Reads an action's log: inline, or from its blob (verified). */
  readLog(entry: Pick<ActionEntry, "log" | "logBlob">): readonly LogLine[] | "missing" | "corrupt" {
    if (entry.logBlob === null) return entry.log ?? [];
    const blob = this.readBlob(entry.logBlob);
    if (blob.check !== "ok") return blob.check;
    return JSON.parse(blob.bytes.toString("utf8")) as LogLine[];
  }

  // --- task states and history ---

  taskState(task: string): TaskState | undefined {
    return this.#pendingStates.get(task) ?? this.#healing(() => this.#states.get(task));
  }

  setTaskState(task: string, state: TaskState): void {
    this.#pendingStates.set(task, state);
  }

  beginBuild(targets: readonly string[], place?: BuildPlace): number {
    const started = this.#now();
    const result = this.#healing(() =>
      this.#sql("INSERT INTO builds (started, targets, git_commit, host) VALUES (?, ?, ?, ?)").run(started, JSON.stringify(targets), place?.commit ?? null, place?.host ?? null),
    );
    this.#build = { id: Number(result.lastInsertRowid), started, targets: JSON.stringify(targets), place };
    return this.#build.id;
  }

  /**
   * Moves the history of builds answered from the freshness record into the
   * index: each repeats the runs of the build that made the record's entries, every task cached, and
   * counts as a use of those actions (for gc's LRU). The file is claimed by a
   * rename first; a line appended in the instant between the rename and the
   * read is lost, which costs one build's history, nothing else.
   */
  #foldAnsweredBuilds(): void {
    const file = answeredBuildsFile(this.dir);
    const claimed = `${file}.${process.pid}.folding`;
    try {
      renameSync(file, claimed);
    } catch {
      return; // Nothing waiting.
    }
    const builds: AnsweredBuild[] = [];
    for (const line of readFileSync(claimed, "utf8").split("\n")) {
      try {
        if (line !== "") builds.push(JSON.parse(line) as AnsweredBuild);
      } catch {
        // A torn line (a crash mid-append) is skipped.
      }
    }
    this.#healing(() => this.#foldBuilds(builds));
    rmSync(claimed, { force: true });
  }

  /** Writes the builds answered from the freshness record into the history (see #foldAnsweredBuilds). */
  #foldBuilds(builds: readonly AnsweredBuild[]): void {
    const insertBuild = this.#sql("INSERT INTO builds (started, finished, ok, interrupted, targets, origin, git_commit, host) VALUES (?, ?, 1, 0, ?, ?, ?, ?)");
    const copyRuns = this.#sql(
      `INSERT INTO runs (build, task, key, status, cache, pure, duration_ms, exit_code, reasons, error, outputs_digest, layer)
       SELECT ?, task, key, 'cached', CASE WHEN key IS NULL THEN NULL ELSE 'local' END, pure, 0, exit_code, '[]', NULL, outputs_digest, layer
       FROM runs WHERE build = ?`,
    );
    const touch = this.#sql(
      "UPDATE actions SET last_used = ? WHERE last_used < ? AND key IN (SELECT key FROM runs WHERE build = ? AND key IS NOT NULL)",
    );
    const setTasks = this.#sql("UPDATE builds SET tasks = ? WHERE id = ?");
    const countRuns = this.#sql("SELECT count(*) FROM runs WHERE build = ?").pluck();
    this.#db.transaction(() => {
      // Older ones than the history keeps would be pruned right away, and so would the runs of those older than
      // the runs it keeps: inserting them is wasted work (a run of many no-op builds is 1,000 rows each).
      const kept = builds.slice(-HISTORY_BUILDS);
      kept.forEach((build, i) => {
        if (typeof build.from !== "number") return;
        const id = Number(insertBuild.run(build.started, build.finished, JSON.stringify(build.targets), build.from, build.commit ?? null, build.host ?? null).lastInsertRowid);
        const cached = i >= kept.length - RUN_HISTORY_BUILDS ? copyRuns.run(id, build.from).changes : (countRuns.get(build.from) as number);
        setTasks.run(JSON.stringify([0, cached, 0, 0]), id);
        touch.run(build.finished, build.finished - TOUCH_GRANULARITY_MS, build.from);
      });
      this.#pruneHistory();
    })();
  }

  /**
   * Keeps the history to the last HISTORY_BUILDS builds, the runs of the last
   * RUN_HISTORY_BUILDS and the failed runs of all of them, and the newest full
   * build of each set of targets: a freshness record may still name it (see schema.ts).
   */
  #pruneHistory(): void {
    const oldestRuns = this.#sql(PRUNE_HISTORY.oldest).pluck().get(RUN_HISTORY_BUILDS - 1) as number | undefined;
    if (oldestRuns === undefined) return;
    this.#sql(PRUNE_HISTORY.passedRuns).run(oldestRuns);
    const oldest = this.#sql(PRUNE_HISTORY.oldest).pluck().get(HISTORY_BUILDS - 1) as number | undefined;
    if (oldest === undefined) return;
    this.#sql(PRUNE_HISTORY.runs).run(oldest);
    this.#sql(PRUNE_HISTORY.builds).run(oldest);
    this.#sql(PRUNE_HISTORY.evidence).run(oldest);
  }

  /**
   * Records the end of `build` and its runs; `interrupted`: it was stopped (then `ok` is false).
   * A build that failed only by interrupts of its own tasks (runs `interrupted`: `rbuild
   * watch` cancelled what an edit made stale) is recorded as cancelled, not failed.
   */
  finishBuild(build: number, ok: boolean, runs: readonly RunRow[], interrupted = false): void {
    this.#healing(() => this.#finishBuild(build, ok, runs, interrupted));
    // The history is committed: the keeper, if any, is told even when flush has nothing to write.
    if (!this.flush()) this.#keeper?.checkpoint(this.#indexPath);
  }

  #finishBuild(build: number, ok: boolean, runs: readonly RunRow[], interrupted: boolean): void {
    const insert = this.#sql(
      "INSERT INTO runs (build, task, key, status, cache, pure, duration_ms, exit_code, reasons, error, outputs_digest, layer, log, signature, tail, attempt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const image = this.#sql("INSERT OR REPLACE INTO run_images (key, kind, path, digest) VALUES (?, ?, ?, ?)");
    const begun = this.#build;
    this.#db.transaction(() => {
      // An index started over since the build began has lost its row: it is recorded again, under its id.
      if (this.#startedOver && begun?.id === build) {
        this.#sql("INSERT OR IGNORE INTO builds (id, started, targets, git_commit, host) VALUES (?, ?, ?, ?, ?)").run(
          begun.id,
          begun.started,
          begun.targets,
          begun.place?.commit ?? null,
          begun.place?.host ?? null,
        );
      }
      for (const r of runs) {
        // Only a failure the error database keeps has a tail; the signature is made of it and the error.
        const tail = r.tail === undefined ? null : r.tail.slice(-ERROR_TAIL_LINES);
        const signature = tail === null ? null : errorSignature(r.error, tail);
        const reasons = r.reasons.length === 0 ? "[]" : JSON.stringify(r.reasons);
        const tailText = tail === null ? null : JSON.stringify(tail);
        insert.run(build, r.task, r.key, r.status, r.cache, r.pure ? 1 : 0, r.durationMs, r.exitCode, reasons, r.error, r.outputsDigest, r.layer, r.log ?? null, signature, tailText, r.attempt ?? null);
        if (r.image !== undefined && r.key !== null) image.run(r.key, r.image.kind, r.image.path, r.image.digest);
      }
      this.#recordEvidence(build, runs);
      const stopped = interrupted ? 1 : !ok && cancelledOnly(runs) ? 2 : 0;
      this.#sql("UPDATE builds SET finished = ?, ok = ?, interrupted = ?, tasks = ? WHERE id = ?").run(this.#now(), ok ? 1 : 0, stopped, JSON.stringify(statusCounts(runs)), build);
      // Deleting the oldest build's 1,000 rows took 1-11 ms of each build's end: a keeper does it on its thread.
      if (!this.#keeperRunning) this.#pruneHistory();
    })();
  }

  /** Each run's evidence, and each of those tasks' evidence pruned to its EVIDENCE_RUNS newest runs. In the build's transaction. */
  #recordEvidence(build: number, runs: readonly RunRow[]): void {
    const insert = this.#sql("INSERT INTO run_evidence (build, task, restore_ms, changed, outputs) VALUES (?, ?, ?, ?, ?)");
    const prune = this.#sql(PRUNE_EVIDENCE);
    for (const r of runs) {
      if (r.evidence === undefined) continue;
      const { restoreMs, changedInputs, outputs } = r.evidence;
      const digests = outputs === null || outputs.length > EVIDENCE_OUTPUTS ? null : JSON.stringify(Object.fromEntries(outputs.map((e) => [e.path, outputDigest(e)])));
      insert.run(build, r.task, restoreMs, JSON.stringify(changedInputs.slice(0, EVIDENCE_CHANGED)), digests);
      prune.run(r.task, r.task, EVIDENCE_RUNS);
    }
  }

  /**
   * Writes buffered stat cache entries, task states, actions and
   * uses of actions, in one transaction. Returns whether there was any.
   */
  flush(): boolean {
    return this.#healing(() => this.#flush());
  }

  #flush(): boolean {
    if (
      this.#pendingStats.size === 0 &&
      this.#pendingStates.size === 0 &&
      this.#touched.size === 0 &&
      this.#pendingActions.size === 0
    ) {
      return false;
    }
    const insertAction = this.#sql(
      "INSERT OR REPLACE INTO actions (key, task, layer, manifest, outputs_digest, log, log_blob, exit_code, duration_ms, created, last_used, stack) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const stat = this.#sql("INSERT OR REPLACE INTO stat_cache (path, size, mtime_ms, ctime_ms, ino, digest) VALUES (?, ?, ?, ?, ?, ?)");
    const state = this.#sql("INSERT OR REPLACE INTO task_state (task, key, record, ok, ran_reasons, updated) VALUES (?, ?, ?, ?, ?, ?)");
    // Only a use more than TOUCH_GRANULARITY_MS after the last one recorded is written: marking the
    // 1,000 actions of a mostly cached build used would rewrite 1,000 rows and their index entries.
    const touch = this.#sql("UPDATE actions SET last_used = ? WHERE key = ? AND last_used < ?");
    const now = this.#now();
    const recent = this.#recentUses.of(this.#indexPath);
    const touched: string[] = [];
    for (const key of this.#touched) {
      const known = recent.get(key);
      if (known === undefined || now - known >= TOUCH_GRANULARITY_MS) touched.push(key);
    }
    this.#db.transaction(() => {
      for (const { entry, blobs } of this.#pendingActions.values()) {
        for (const blob of blobs) this.#insertBlob(blob, now);
        const e = entry;
        insertAction.run(e.key, e.task, e.layer, JSON.stringify(e.manifest), e.outputsDigest, e.log === null ? null : JSON.stringify(e.log), e.logBlob, e.exitCode, e.durationMs, now, now, e.stack === undefined || e.stack.length === 0 ? null : JSON.stringify(e.stack));
      }
      for (const [path, s] of this.#pendingStats) stat.run(path, s.size, s.mtimeMs, s.ctimeMs, s.ino, s.digest);
      for (const [task, s] of this.#pendingStates) state.run(task, s.key, s.record, s.ok ? 1 : 0, JSON.stringify(s.ranReasons), now);
      for (const key of touched) touch.run(now, key, now - TOUCH_GRANULARITY_MS);
    })();
    for (const key of touched) recent.set(key, now);
    for (const key of this.#pendingActions.keys()) recent.set(key, now);
    for (const { entry } of this.#pendingActions.values()) this.#actions.written(entry.key, entry);
    this.#pendingActions.clear();
    this.#pendingInline.clear();
    for (const [path, s] of this.#pendingStats) this.#stats.written(path, s);
    for (const [task, s] of this.#pendingStates) this.#states.written(task, s);
    this.#pendingStats.clear();
    this.#pendingStates.clear();
    this.#touched.clear();
    // In the daemon, the WAL this left is checkpointed on another thread (see index-keeper.ts).
    this.#keeper?.checkpoint(this.#indexPath);
    return true;
  }

  stats(): StoreStats {
    return this.#healing(() => this.#readStats());
  }

  #readStats(): StoreStats {
    const one = <T>(sql: string): T => this.#db.prepare(sql).get() as T;
    const blobs = one<{ n: number; bytes: number | null }>("SELECT count(*) AS n, sum(size) AS bytes FROM blobs");
    const runs = one<{ cached: number | null; ran: number | null }>(
      "SELECT sum(status = 'cached') AS cached, sum(status = 'ran') AS ran FROM runs WHERE pure = 1 AND key IS NOT NULL",
    );
    return {
      actions: one<{ n: number }>("SELECT count(*) AS n FROM actions").n,
      blobs: blobs.n,
      bytes: blobs.bytes ?? 0,
      statEntries: one<{ n: number }>("SELECT count(*) AS n FROM stat_cache").n,
      builds: one<{ n: number }>("SELECT count(*) AS n FROM builds").n,
      cached: runs.cached ?? 0,
      ran: runs.ran ?? 0,
    };
  }

  /**
   * For gc, inside this package: runs `work` on the index through #healing, so
   * damage it finds starts the index over and `work` runs again on the new
   * one. `work` prepares its own statements, and must be safe to run twice.
   */
  usingIndex<T>(work: (db: Database.Database) => T): T {
    return this.#healing(() => work(this.#db));
  }

  close(): void {
    this.flush();
    this.#db.close();
  }
}

/** What an output holds, in one string: a file's digest, `symlink:<target>`, or `dir` (its mode is not compared). */
/**
 * A build's `tasks` column: how many of its tasks ran, were cached, failed, were skipped and were
 * interrupted (the last added later: an older row has four).
 * A retried task counts once (its last attempt), and an undo not at all.
 */
function statusCounts(runs: readonly RunRow[]): [number, number, number, number, number] {
  const counts: [number, number, number, number, number] = [0, 0, 0, 0, 0];
  const last = new Map<string, RunRow>();
  for (const r of runs) if (r.status !== "undone" && r.status !== "undo-failed") last.set(r.task, r);
  for (const { status, group } of last.values()) {
    if (group === true && (status === "ran" || status === "cached")) continue;
    counts[status === "ran" ? 0 : status === "cached" ? 1 : status === "failed" ? 2 : status === "interrupted" ? 4 : 3]++;
  }
  return counts;
}

/** Whether nothing failed but something was interrupted (its own cancel). */
function cancelledOnly(runs: readonly RunRow[]): boolean {
  return runs.some((r) => r.status === "interrupted") && !runs.some((r) => r.status === "failed");
}

function outputDigest(entry: ManifestEntry): string {
  return entry.type === "file" ? entry.digest : entry.type === "symlink" ? `symlink:${entry.target}` : "dir";
}
