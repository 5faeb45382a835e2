/**
 * A helper thread a long-lived process (the daemon) starts once and keeps:
 * it never holds the process open, and once it has failed or exited it is
 * gone for good, so callers fall back to doing the work themselves.
 */
import { Worker } from "node:worker_threads";

export class ResidentWorker {
  readonly #code: string;
  readonly #workerData: (() => unknown) | undefined;
  #worker: Worker | undefined;
  #broken = false;

  /** `code` is CommonJS run with `eval`; `workerData` is computed when the thread starts. */
  constructor(code: string, workerData?: () => unknown) {
    this.#code = code;
    this.#workerData = workerData;
  }

  /** Starts the thread, unless it runs already or has failed before. */
  start(): void {
    if (this.#worker !== undefined || this.#broken) return;
    const worker = new Worker(this.#code, { eval: true, workerData: this.#workerData?.() });
    worker.unref();
    // A thread that ends while current failed; one that was stopped ends as asked.
    const gone = (): void => {
      if (this.#worker !== worker) return;
      this.#broken = true;
      this.#worker = undefined;
    };
    worker.on("error", gone);
    worker.on("exit", gone);
    this.#worker = worker;
  }

  get running(): boolean {
    return this.#worker !== undefined;
  }

  /** Posts `message` to the thread; false (nothing sent) when it is not running. */
  post(message: unknown): boolean {
    if (this.#worker === undefined) return false;
    this.#worker.postMessage(message);
    return true;
  }

  /** Posts a last `message` (the thread's cue to finish) and forgets the thread. */
  stop(message: unknown): void {
    this.post(message);
    this.#worker = undefined;
  }
}
