/**
 * A second thread for the freshness record's stat pass, in a process that
 * lives on (the daemon). Checking the record is one stat per path, 12,000 for the
 * 1,000-task bench workspace: about 45 ms of kernel time on one core, the
 * largest part of a no-op and of the wait before a one-file build starts
 * its first task.
 *
 * A pass is a StatJob: its entries are cut into chunks that the helper
 * thread and the main thread claim from one shared counter, so both stay
 * busy to the end however much of the pass each gets to. The daemon starts a
 * job when a build is asked for (see FreshRecords.prestat in fresh-record.ts),
 * and the helper works on it while the main thread loads the Buildfile; the
 * main thread joins in when it needs the answer.
 *
 * The main thread stays synchronous: it stats chunks until none is left, then
 * waits (Atomics.wait) for the helper's last ones. A helper that does not
 * answer in time is given up on and the main thread stats every entry itself,
 * so the answer is the same either way. A new process has no helper (starting
 * a worker, about 30 ms, would cost more than it saves once): the main thread
 * does the whole job.
 */
import { lstatSync, statSync } from "node:fs";
import { ResidentWorker } from "@rbuild/core";

/** Per entry: mode, size, mtimeMs, ctimeMs, ino; mode -1 when there is no such entry. */
export const STAT_FIELDS = 5;

/** Entries per claim: a few hundred microseconds of stats. */
const CHUNK = 128;

/** How long the main thread waits for the helper's last chunks before doing the whole job itself. */
const WAIT_MS = 2000;

/**
 * The shared memory of a job: two int32 counters (the next chunk to claim,
 * the chunks finished), then STAT_FIELDS float64 per entry.
 */
const HEADER_BYTES = 8;

type Work = (
  stat: typeof statSync,
  lstat: typeof lstatSync,
  prefix: string,
  paths: readonly string[],
  lstatFrom: number,
  counters: Int32Array,
  out: Float64Array,
) => void;

/**
 * What both threads run on a job: claim the next chunk from the counter,
 * stat its entries into `out` (see STAT_FIELDS; entries before `lstatFrom`
 * follow symlinks; one that cannot be looked at is as missing), count it
 * finished, until no chunk is left. Kept as
 * source so that the helper thread, which is started from source, runs the
 * very same loop as this one.
 */
const WORK = `function work(stat, lstat, prefix, paths, lstatFrom, counters, out) {
  const options = { throwIfNoEntry: false };
  const chunks = Math.ceil(paths.length / ${CHUNK});
  for (let chunk = Atomics.add(counters, 0, 1); chunk < chunks; chunk = Atomics.add(counters, 0, 1)) {
    const end = Math.min(paths.length, (chunk + 1) * ${CHUNK});
    for (let i = chunk * ${CHUNK}; i < end; i++) {
      let entry;
      try {
        entry = i < lstatFrom ? stat(prefix + paths[i], options) : lstat(prefix + paths[i], options);
      } catch {
        // A link loop (ELOOP) or a file where a directory was: not what was recorded, and the full check names why.
        entry = undefined;
      }
      const at = i * ${STAT_FIELDS};
      if (entry === undefined) {
        out[at] = -1;
        continue;
      }
      out[at] = entry.mode;
      out[at + 1] = entry.size;
      out[at + 2] = entry.mtimeMs;
      out[at + 3] = entry.ctimeMs;
      out[at + 4] = entry.ino;
    }
    Atomics.add(counters, 1, 1);
    Atomics.notify(counters, 1);
  }
}`;

// A constant of this module, made a function here as the helper makes it from the same source.
const work = new Function(`return ${WORK}`)() as Work;

const HELPER_CODE = `
const { parentPort } = require("node:worker_threads");
const { lstatSync, statSync } = require("node:fs");
const work = ${WORK};
parentPort.on("message", ({ prefix, paths, lstatFrom, shared }) =>
  work(statSync, lstatSync, prefix, paths, lstatFrom, new Int32Array(shared, 0, 2), new Float64Array(shared, ${HEADER_BYTES})));
`;

/** The helper thread of a long-lived process (the daemon's engine owns one and starts it once). */
export class StatHelper {
  readonly #worker = new ResidentWorker(HELPER_CODE);

  start(): void {
    this.#worker.start();
  }

  /** Whether the thread runs, to share stats with. */
  get running(): boolean {
    return this.#worker.running;
  }

  /** Hands the thread a job; false when it does not run. */
  post(job: { prefix: string; paths: readonly string[]; lstatFrom: number; shared: SharedArrayBuffer }): boolean {
    return this.#worker.post(job);
  }
}

/**
 * One stat of each of `paths` (relative to `prefix`): the first `lstatFrom`
 * follow symlinks (stat), the rest do not (lstat).
 */
export class StatJob {
  readonly #prefix: string;
  readonly #paths: readonly string[];
  readonly #lstatFrom: number;
  readonly #chunks: number;
  readonly #counters: Int32Array;
  readonly #out: Float64Array;
  /** Whether the helper has the job too. */
  readonly #shared: boolean;

  /** Hands the job to `helper`, if given and running; `finish` does the rest. */
  constructor(prefix: string, paths: readonly string[], lstatFrom: number, helper?: StatHelper) {
    this.#prefix = prefix;
    this.#paths = paths;
    this.#lstatFrom = lstatFrom;
    this.#chunks = Math.ceil(paths.length / CHUNK);
    const memory = new SharedArrayBuffer(HEADER_BYTES + paths.length * STAT_FIELDS * 8);
    this.#counters = new Int32Array(memory, 0, 2);
    this.#out = new Float64Array(memory, HEADER_BYTES);
    this.#shared = paths.length > CHUNK && helper !== undefined && helper.post({ prefix, paths, lstatFrom, shared: memory });
  }

  /** Stats every entry the helper has not taken, waits for the helper's, and returns them all. */
  finish(): Float64Array {
    const counters = this.#counters;
    const chunks = this.#chunks;
    work(statSync, lstatSync, this.#prefix, this.#paths, this.#lstatFrom, counters, this.#out);
    if (this.#shared) {
      const deadline = performance.now() + WAIT_MS;
      for (let done = Atomics.load(counters, 1); done < chunks; done = Atomics.load(counters, 1)) {
        const left = deadline - performance.now();
        if (left <= 0 || Atomics.wait(counters, 1, done, left) === "timed-out") {
          this.cancel();
          return this.#alone();
        }
      }
    }
    return this.#out;
  }

  /** Whether the helper has done every chunk, before `finish`: then `finish` stats nothing itself. */
  get doneByHelper(): boolean {
    return this.#shared && Atomics.load(this.#counters, 1) >= this.#chunks;
  }

  /** Stops handing out chunks: the helper ends the one it is on. For a job whose answer is not wanted. */
  cancel(): void {
    Atomics.store(this.#counters, 0, this.#chunks);
  }

  /** Every entry statted here, with counters and memory of its own that the helper does not write. */
  #alone(): Float64Array {
    const out = new Float64Array(this.#paths.length * STAT_FIELDS);
    work(statSync, lstatSync, this.#prefix, this.#paths, this.#lstatFrom, new Int32Array(2), out);
    return out;
  }
}
