/**
 * Hashing a fresh workspace's inputs ahead of the build, on a second thread.
 *
 * With an empty stat cache (a fresh clone, a first build) every input file
 * must be read and hashed, about 12 us a file on the main thread, which also
 * computes every task's key and then looks it up, restores it or spawns it:
 * 10,000 files were 0.12 s of a remote restore's main thread. The helper
 * walks the inputs of every task in the order the build will reach them,
 * hashes each file once and sends back (path, stat, digest); the main thread
 * puts them in the stat cache, where its own hashing finds them.
 *
 * Trust is the stat cache's own (see FileHasher): the helper sends a file only
 * if the stat it took before reading shows mtime and ctime older than the
 * store's `trustBefore`, and the main thread uses an entry only when its own
 * stat matches it in size, mtime, ctime and inode. A file changed after the
 * helper's stat has a ctime at or after trustBefore, so its new stat never
 * matches: the main thread hashes it itself. The helper can only save work.
 *
 * The thread runs this very module: started with WORKER_ROLE in its
 * workerData, the module serves (see the end of the file). If the thread
 * cannot start or fails, the main thread hashes everything, as it always can.
 */
import { join } from "node:path";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { digestFile, expandGlobs, statFollowing, trustedStat, type FileState } from "@rbuild/hash";

const WORKER_ROLE = "rbuild-input-warmer";

/** Files per message: each message costs the main thread a turn of its event loop. */
const BATCH_FILES = 128;

/** Fields per file in a message: path, size, mtimeMs, ctimeMs, ino, digest. */
const FIELDS = 6;

export interface WarmJob {
  readonly root: string;
  /** Each task's input globs, in the order the build is expected to reach the tasks. */
  readonly inputs: readonly (readonly string[])[];
  readonly ignore: readonly string[];
  readonly trustBefore: number;
}

/** The helper thread of one build. */
export class InputWarmer {
  readonly #worker: Worker;
  /** Settles when the thread has ended (done, failed or stopped), after everything it sent was handed over. */
  readonly ended: Promise<void>;

  /** Starts hashing `job`'s inputs; each file's state is handed to `found` on the main thread. */
  constructor(job: WarmJob, found: (path: string, state: FileState) => void) {
    this.#worker = new Worker(new URL(import.meta.url), { workerData: { role: WORKER_ROLE, job } });
    this.#worker.unref();
    this.#worker.on("message", (batch: (string | number)[]) => {
      for (let i = 0; i + FIELDS <= batch.length; i += FIELDS) {
        found(batch[i] as string, {
          size: batch[i + 1] as number,
          mtimeMs: batch[i + 2] as number,
          ctimeMs: batch[i + 3] as number,
          ino: batch[i + 4] as number,
          digest: batch[i + 5] as FileState["digest"],
        });
      }
    });
    // A thread that cannot start or fails leaves the hashing to the main thread.
    this.#worker.on("error", () => {});
    // Node delivers a thread's messages before its "exit".
    this.ended = new Promise((resolve) => this.#worker.once("exit", () => resolve()));
  }

  /** Ends the thread, done or not: the build has no more use for it, nor for what it still sends. */
  stop(): void {
    this.#worker.removeAllListeners("message");
    void this.#worker.terminate();
  }
}

/** The helper's side: hashes each input file once, in the job's order, and sends the states in batches. */
function serve(job: WarmJob, send: (batch: (string | number)[]) => void): void {
  const seen = new Set<string>();
  let batch: (string | number)[] = [];
  for (const globs of job.inputs) {
    let paths: string[];
    try {
      paths = expandGlobs(job.root, globs, { ignore: job.ignore });
    } catch {
      continue; // The main thread meets the same problem and reports it with the task.
    }
    for (const path of paths) {
      if (seen.has(path)) continue;
      seen.add(path);
      const full = join(job.root, path);
      const stat = statFollowing(full);
      if (stat === undefined || stat === "loop" || !stat.isFile() || !trustedStat(stat, job.trustBefore)) continue;
      let digest: string;
      try {
        digest = digestFile(full);
      } catch {
        continue;
      }
      batch.push(path, stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino, digest);
      if (batch.length >= BATCH_FILES * FIELDS) {
        send(batch);
        batch = [];
      }
    }
  }
  if (batch.length > 0) send(batch);
}

if (!isMainThread && (workerData as { role?: unknown } | null)?.role === WORKER_ROLE && parentPort !== null) {
  const port = parentPort;
  serve((workerData as { job: WarmJob }).job, (batch) => port.postMessage(batch));
}
