/**
 * A second thread for the stamp's stat pass, in a process that lives on
 * (the daemon). Checking a stamp is one stat per path, 12,000 for the
 * 1,000-task bench workspace: about 40 ms of kernel time on one core, the
 * largest part of a no-op and of the wait before a one-file build starts
 * its first task. With this helper the main thread stats one part while a
 * worker thread stats the other.
 *
 * The main thread stays synchronous: it posts the worker's share, stats its
 * own, then waits (Atomics.wait) for the worker's results in shared memory.
 * A worker that does not answer in time is given up on for that pass and the
 * main thread stats its share itself, so the answer is the same either way.
 * A new process has no helper: starting a worker (about 30 ms) would cost
 * more than it saves once.
 */
import { ResidentWorker } from "@rbuild/core";

/** Per path: size, mtimeMs, ctimeMs, ino (size -1: no such file). */
const FIELDS = 4;

/** How long the main thread waits for the worker before doing its share itself. */
const WAIT_MS = 2000;

const WORKER = `
const { parentPort } = require("node:worker_threads");
const { statSync } = require("node:fs");
parentPort.on("message", ({ prefix, paths, shared }) => {
  const done = new Int32Array(shared, 0, 1);
  const out = new Float64Array(shared, 8);
  for (let i = 0; i < paths.length; i++) {
    const stat = statSync(prefix + paths[i], { throwIfNoEntry: false });
    const at = i * ${FIELDS};
    if (stat === undefined) {
      out[at] = -1;
      continue;
    }
    out[at] = stat.size;
    out[at + 1] = stat.mtimeMs;
    out[at + 2] = stat.ctimeMs;
    out[at + 3] = stat.ino;
  }
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
});
`;

const helper = new ResidentWorker(WORKER);

/** Starts the helper thread of this process (the daemon calls it once). */
export function startStatHelper(): void {
  helper.start();
}

/** Whether this process has a helper thread to hand stats to. */
export function statHelperRunning(): boolean {
  return helper.running;
}

/** Stats of `paths` (relative to `prefix`'s directory), as the worker took them. */
export interface StatShare {
  /** Waits for the worker; undefined if it did not answer (the caller stats these paths itself). */
  collect(): Float64Array | undefined;
}

/**
 * Hands `paths` to the helper thread, if this process has one (see
 * statHelperRunning); the caller does its own share meanwhile and then calls
 * `collect`.
 */
export function statInHelper(prefix: string, paths: readonly string[]): StatShare | undefined {
  if (paths.length === 0) return undefined;
  const shared = new SharedArrayBuffer(8 + paths.length * FIELDS * 8);
  if (!helper.post({ prefix, paths, shared })) return undefined;
  return {
    collect() {
      const done = new Int32Array(shared, 0, 1);
      if (Atomics.wait(done, 0, 0, WAIT_MS) === "timed-out") return undefined;
      return new Float64Array(shared, 8);
    },
  };
}

export const STAT_FIELDS = FIELDS;
