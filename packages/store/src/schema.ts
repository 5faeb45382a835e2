/**
 * The index: `index.sqlite` in the store directory, in WAL mode so that
 * readers never wait for a writer and two rbuild processes can share it.
 *
 * Design notes
 * - Blobs (layers, large logs) live in `cas/<first two hex>/<digest>`; the
 *   index only knows their size and last use. A blob file is renamed into place
 *   before any row names it, and an action row is written in the same
 *   transaction as the blob rows it references: a crash at any moment leaves at
 *   worst an orphan file (removed by gc), never a row pointing at nothing.
 * - Small blobs (up to INLINE_BLOB_LIMIT, most layers of small tasks) are kept
 *   in `inline_blobs` instead of as files, written in the same transaction as
 *   their `blobs` row and the action naming them; deleting the `blobs` row
 *   deletes the bytes (a trigger). Creating a file costs far more than a row
 *   (0.3-1 ms each on ext4 here, a third of a cold build's main thread).
 * - `stat_cache` remembers file digests by stat (see @rbuild/hash FileHasher).
 * - `actions` maps a task key to what the task produced: the layer blob, the
 *   manifest of its outputs (JSON), the digest of that manifest (what
 *   dependents' keys see), and its log (inline JSON when small, else a blob).
 *   A transform's layer holds only its difference from its dep's outputs;
 *   `stack` lists the layers below it, bottom first (see diff-layer.ts).
 * - `task_state` keeps each task's last key record, so a miss can be explained
 *   by diffing against it (`rbuild why`).
 * - Stat cache entries and task states are read a row at a time by a build
 *   that needs few, in one query by one that needs many (store.ts, RowReader).
 * - What a task's last successful run depended on (the stats of its inputs,
 *   listed directories and outputs) is not here: it is the freshness record,
 *   a file read whole without the index (fresh-record.ts).
 * - `builds` and `runs` are the history: the last HISTORY_BUILDS builds, the
 *   runs of every task of the last RUN_HISTORY_BUILDS of them, and the failed
 *   runs (the error database) of all of them; older ones are dropped as new
 *   ones finish. A build row has its targets, start and end, outcome (`ok`,
 *   `interrupted`: 1 for an interrupt, 2 for a build its caller cancelled
 *   (`rbuild watch`: an edit made what failed stale; see Store.finishBuild);
 *   no `finished`: it never finished), `tasks` (JSON
 *   `[ran, cached, failed, skipped]`, groups that ran or were cached left out as the build's summary does, so a build whose runs are gone still
 *   says what it did; NULL for a build recorded before version 8), the git commit of the workspace (read from `.git`'s
 *   files, NULL outside git) and the host. A run row has its status, cache,
 *   reasons, duration, exit code and `log`, the digest of its log (JSON of
 *   LogLine[]): for a pure task that succeeded, the log its action keeps
 *   (inline, or the blob of that digest), for any other run that ran, a blob
 *   of its own, kept by gc while a run names it. A failure (not an
 *   interrupt) also has `signature`, its error and log tail with numbers,
 *   digests, temp paths and times masked (error-signature.ts), and `tail`,
 *   its last log lines (JSON list): the error database, `rbuild errors`,
 *   read through the partial index `runs_errors`, which only failures enter. Builds answered from a
 *   freshness record wait in a file and are folded in by the next Store (answered-builds.ts)
 *   as copies of the build that wrote the record's entry for their targets (their `origin`). That build is
 *   always the newest full build of its targets, so the newest full build of
 *   each set of targets is kept however old it is.
 * - `run_evidence` is what the analysis (`rbuild graph`) needs of a run beyond
 *   its `runs` row, for the runs that looked the cache up or ran (a task found
 *   up to date by its freshness record has none: nothing changed, nothing
 *   was restored): `restore_ms`, the time a hit took to restore (NULL when it
 *   ran); `changed`, the input paths that changed since the task's previous
 *   key (JSON list, at most EVIDENCE_CHANGED); `outputs`, each output path's
 *   digest (JSON object; NULL past EVIDENCE_OUTPUTS entries). Kept for the
 *   last EVIDENCE_RUNS such runs of each task, pruned as each build is
 *   recorded, and dropped with the builds the history drops.
 * - `PRAGMA user_version` is the schema version. An older version with steps
 *   in MIGRATIONS is brought up to date in place; any other version, or a file
 *   that is not a readable SQLite database, means "start over": the index is
 *   deleted and built again from nothing (an info event says so). Blob files
 *   left without rows are reclaimed by gc.
 */
export const SCHEMA_VERSION = 11;

/**
 * Its own constant: the migration from 6 creates it with the same text (the
 * schema check compares the text). A rowid table, appended to in build order,
 * with an index by task for pruning: a primary key of (task, build) made
 * 1,000 rows cost 30 ms to insert, this 9 ms, and pruning each task 4 more.
 * Only runs that did work have a row: a build with every task up to date
 * writes none.
 */
const RUN_EVIDENCE_TABLE = `CREATE TABLE run_evidence (
  build INTEGER NOT NULL, task TEXT NOT NULL, restore_ms INTEGER, changed TEXT NOT NULL, outputs TEXT
);
CREATE INDEX run_evidence_by_task ON run_evidence(task, build);`;

/**
 * The history's columns of version 8, as the migration from 7 adds them: a
 * new index runs the same statements after its tables are made, so both have
 * the same schema text (ADD COLUMN edits the table's text; the schema check
 * compares it). The partial index holds failures only: a build without one
 * adds nothing to it (an index by task over every run cost 25-40 ms a build).
 */
const HISTORY_COLUMNS = `ALTER TABLE builds ADD COLUMN git_commit TEXT;
ALTER TABLE builds ADD COLUMN host TEXT;
ALTER TABLE builds ADD COLUMN interrupted INTEGER;
ALTER TABLE builds ADD COLUMN tasks TEXT;
ALTER TABLE runs ADD COLUMN log TEXT;
ALTER TABLE runs ADD COLUMN signature TEXT;
ALTER TABLE runs ADD COLUMN tail TEXT;
CREATE INDEX runs_errors ON runs(task, signature, build) WHERE signature IS NOT NULL;`;

/**
 * Version 9: which attempt of a retried task a run row is (NULL: a task run
 * once, and every row before it); an undo's row has status `undone` or
 * `undo-failed` (a text column: no change needed).
 */
const ATTEMPT_COLUMN = "ALTER TABLE runs ADD COLUMN attempt INTEGER;";

/**
 * Version 10: a transform's layer stack (`transform` on a task): JSON list of
 * the layer digests below the action's own `layer`, bottom first; NULL for a
 * full layer (every action before it). gc keeps every blob a stack names.
 */
const STACK_COLUMN = "ALTER TABLE actions ADD COLUMN stack TEXT;";

/**
 * Version 11: the image a container task's key was computed with, by key
 * (`rbuild export --oci` puts that base image under the task's layers): its
 * kind (`oci-layout`, `docker-archive`, `rootfs`), path and digest. The path
 * is relative to the workspace root for an image inside the workspace (so a
 * moved workspace finds it), absolute otherwise and in rows written before
 * that rule (image-path.ts): the column is the same text either way.
 * By key, not by run: a run answered from the freshness record identifies no
 * image, and has the key of the run that did. gc drops the rows of keys no
 * action has.
 */
const RUN_IMAGES_TABLE = "CREATE TABLE run_images (key TEXT PRIMARY KEY, kind TEXT NOT NULL, path TEXT NOT NULL, digest TEXT NOT NULL) WITHOUT ROWID;";

/**
 * What turns an index of an older version into the next one without losing
 * it, by the version it has. A version with no step here is started over.
 * - 4 -> 5: the history's index by task went: nothing reads runs by task, and
 *   keeping it made each build's 1,000 history rows cost 25-40 ms instead of 3.
 * - 5 -> 6: the `snapshots` table went: what it held is in the freshness
 *   record (fresh-record.ts). A record is written by the next build.
 * - 6 -> 7: `run_evidence` (empty: older runs have no evidence).
 * - 7 -> 8: the history's commit, host, outcome, log digests and error
 *   signatures (NULL in older rows: `rbuild errors` does not see their failures).
 * - 8 -> 9: the attempt of a retried task's run (NULL in older rows).
 * - 9 -> 10: the layer stack of a transform's action (NULL in older rows: full layers).
 * - 10 -> 11: `run_images` (empty: older runs' images are not known to export).
 */
export const MIGRATIONS: Readonly<Record<number, string>> = {
  4: "DROP INDEX IF EXISTS runs_by_task;",
  5: "DROP TABLE IF EXISTS snapshots;",
  6: RUN_EVIDENCE_TABLE,
  7: HISTORY_COLUMNS,
  8: ATTEMPT_COLUMN,
  9: STACK_COLUMN,
  10: RUN_IMAGES_TABLE,
};

/** How many runs with evidence `run_evidence` keeps per task. */
export const EVIDENCE_RUNS = 20;
/** At most this many changed input paths are kept per run. */
export const EVIDENCE_CHANGED = 100;
/** Output digests are kept for a run with at most this many outputs. */
export const EVIDENCE_OUTPUTS = 200;

/** Blobs up to this size are kept in the index (`inline_blobs`), larger ones as files in `cas/`. */
export const INLINE_BLOB_LIMIT = 32 * 1024;

/** How many builds the history keeps. */
export const HISTORY_BUILDS = 1000;

/**
 * How many of them keep every task's run; older ones keep their failed runs
 * only. Every run of 1,000 builds of a 1,000-task workspace was 160 MB of
 * index; what `rbuild graph` and `history --task` read of older builds is
 * their failures.
 */
export const RUN_HISTORY_BUILDS = 200;

/** Builds the history keeps however old: the newest full build of each set of targets (a freshness record may name it). */
const KEPT_BUILDS = "SELECT max(id) FROM builds WHERE origin IS NULL GROUP BY targets";

/**
 * Pruning the history: `oldest` (with HISTORY_BUILDS - 1) finds the oldest
 * build to keep, the deletes (with that id) drop what is older and not kept;
 * `passedRuns`, with the `oldest` of RUN_HISTORY_BUILDS - 1, drops the runs
 * that are not failures of builds older than that.
 * Run by the store that finished a build, or by the index keeper.
 */
export const PRUNE_HISTORY = {
  // Rows are appended in build order, so rowids follow builds: the first row to keep is found in a few steps, not a scan.
  evidence: "DELETE FROM run_evidence WHERE rowid < (SELECT rowid FROM run_evidence WHERE build >= ? ORDER BY rowid LIMIT 1)",
  oldest: "SELECT id FROM builds ORDER BY id DESC LIMIT 1 OFFSET ?",
  runs: `DELETE FROM runs WHERE build < ? AND build NOT IN (${KEPT_BUILDS})`,
  passedRuns: `DELETE FROM runs WHERE build < ? AND signature IS NULL AND build NOT IN (${KEPT_BUILDS})`,
  builds: `DELETE FROM builds WHERE id < ? AND id NOT IN (${KEPT_BUILDS})`,
} as const;

/**
 * Pruning one task's evidence to its EVIDENCE_RUNS newest runs (with the task
 * twice and EVIDENCE_RUNS): what is as old as the first one past them goes.
 */
export const PRUNE_EVIDENCE =
  "DELETE FROM run_evidence WHERE task = ? AND build <= (SELECT build FROM run_evidence WHERE task = ? ORDER BY build DESC LIMIT 1 OFFSET ?)";

export const SCHEMA = `
CREATE TABLE stat_cache (
  path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ms REAL NOT NULL, ctime_ms REAL NOT NULL,
  ino INTEGER NOT NULL, digest TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE blobs (digest TEXT PRIMARY KEY, size INTEGER NOT NULL, last_used INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE inline_blobs (digest TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TRIGGER blobs_delete_inline AFTER DELETE ON blobs BEGIN DELETE FROM inline_blobs WHERE digest = old.digest; END;
CREATE TABLE actions (
  key TEXT PRIMARY KEY, task TEXT NOT NULL, layer TEXT, manifest TEXT NOT NULL, outputs_digest TEXT NOT NULL,
  log TEXT, log_blob TEXT, exit_code INTEGER, duration_ms INTEGER NOT NULL,
  created INTEGER NOT NULL, last_used INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX actions_by_layer ON actions(layer);
CREATE INDEX actions_by_log_blob ON actions(log_blob);
CREATE INDEX actions_by_last_used ON actions(last_used);
CREATE TABLE task_state (
  task TEXT PRIMARY KEY, key TEXT NOT NULL, record TEXT NOT NULL, ok INTEGER NOT NULL, ran_reasons TEXT NOT NULL, updated INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE builds (
  id INTEGER PRIMARY KEY AUTOINCREMENT, started INTEGER NOT NULL, finished INTEGER, ok INTEGER, targets TEXT NOT NULL, origin INTEGER
);
CREATE TABLE runs (
  build INTEGER NOT NULL, task TEXT NOT NULL, key TEXT, status TEXT NOT NULL, cache TEXT, pure INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL, exit_code INTEGER, reasons TEXT NOT NULL, error TEXT, outputs_digest TEXT, layer TEXT
);
CREATE INDEX runs_by_build ON runs(build);
${RUN_EVIDENCE_TABLE}
${HISTORY_COLUMNS}
${ATTEMPT_COLUMN}
${STACK_COLUMN}
${RUN_IMAGES_TABLE}
`;
