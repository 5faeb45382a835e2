/**
 * The index keeper: a worker thread that, in a process that serves build
 * after build (the daemon), holds a connection to the index open and
 * checkpoints its write-ahead log, so that neither happens on a build's path.
 *
 * SQLite copies the WAL back into the database file (a checkpoint, with two
 * fsyncs) when the last connection to it closes, and in the commit that grows
 * the WAL past 1,000 pages. A one-file build of the 1,000-package bench
 * writes about 500 pages (its history rows, actions and their indexes,
 * snapshots), so every other build paid 20-30 ms for a checkpoint in its last
 * commit, before its client had an answer. While the keeper runs, this
 * process's connections never checkpoint (`wal_autocheckpoint = 0`, see
 * openIndex); the keeper does, on its own thread, each time a store of this
 * process has committed (see Store.flush). Other rbuild processes checkpoint
 * as they always do, and one that opens the index while the keeper lags
 * finds a longer WAL, nothing else.
 *
 * After each commit it also prunes the history (see schema.ts), which the
 * stores of a process with a keeper leave to it: deleting the oldest build's
 * 1,000 rows took 1-11 ms of each build's end.
 *
 * The keeper follows the file: an index that was deleted and created again
 * (healing, `rbuild clean --cache`) is opened afresh. If its thread fails,
 * connections opened after that checkpoint for themselves again.
 */
import { createRequire } from "node:module";
import { ResidentWorker } from "@rbuild/core";
import { HISTORY_BUILDS, PRUNE_HISTORY, RUN_HISTORY_BUILDS } from "./schema.js";

const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { statSync } = require("node:fs");
const Database = require(workerData.sqlite);
let db, path, ino;
function drop() {
  try { db?.close(); } catch {}
  db = undefined;
}
parentPort.on("message", (wanted) => {
  if (wanted === null) {
    drop();
    parentPort.close();
    return;
  }
  try {
    const stat = statSync(wanted, { throwIfNoEntry: false });
    if (db !== undefined && (wanted !== path || stat === undefined || stat.ino !== ino)) drop();
    if (stat === undefined) return;
    if (db === undefined) {
      db = new Database(wanted, { fileMustExist: true });
      path = wanted;
      ino = stat.ino;
    }
    db.transaction(() => {
      const oldestRuns = db.prepare(${JSON.stringify(PRUNE_HISTORY.oldest)}).pluck().get(${RUN_HISTORY_BUILDS - 1});
      if (oldestRuns === undefined) return;
      db.prepare(${JSON.stringify(PRUNE_HISTORY.passedRuns)}).run(oldestRuns);
      const oldest = db.prepare(${JSON.stringify(PRUNE_HISTORY.oldest)}).pluck().get(${HISTORY_BUILDS - 1});
      if (oldest === undefined) return;
      db.prepare(${JSON.stringify(PRUNE_HISTORY.runs)}).run(oldest);
      db.prepare(${JSON.stringify(PRUNE_HISTORY.builds)}).run(oldest);
      db.prepare(${JSON.stringify(PRUNE_HISTORY.evidence)}).run(oldest);
    })();
    // PASSIVE: copies what no reader still needs, and never waits for a reader or a writer.
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch {
    drop();
  }
});
`;

/**
 * The index keeper of a long-lived process (the daemon's engine owns one):
 * a thread that holds the index open, prunes its history and checkpoints its
 * WAL, so builds' connections leave that to it (see StoreOptions.keeper).
 */
export class IndexKeeper {
  readonly #worker = new ResidentWorker(WORKER, () => ({ sqlite: createRequire(import.meta.url).resolve("better-sqlite3") }));

  /** Starts the thread (once; not again after it failed). */
  start(): void {
    this.#worker.start();
  }

  /** Whether the thread runs: then connections leave checkpoints and pruning to it. */
  get running(): boolean {
    return this.#worker.running;
  }

  /** Stops the keeper: it closes its connection (the last one checkpoints the WAL) and its thread ends. */
  stop(): void {
    this.#worker.stop(null);
  }

  /**
   * Asks the keeper to hold the index at `path` open, prune its history and
   * checkpoint its WAL. Returns at once; does nothing when it does not run.
   */
  checkpoint(path: string): void {
    this.#worker.post(path);
  }
}
