/**
 * A remote cache is best effort: it may make a build faster, never fail it.
 * Every error becomes a miss (or a skipped upload); the first one is reported
 * once; after `maxFailures` the remote is switched off for the rest of the build.
 */
import { RemoteError } from "./remote-cache.js";

export interface BestEffortOptions {
  /** Told once, on the first failure, and once when the remote is switched off. */
  readonly warn: (message: string) => void;
  readonly maxFailures?: number;
}

export class BestEffort {
  readonly #warn: (message: string) => void;
  readonly #maxFailures: number;
  #failures = 0;
  #state: "on" | "off" = "on";

  constructor(options: BestEffortOptions) {
    this.#warn = options.warn;
    this.#maxFailures = options.maxFailures ?? 3;
  }

  get enabled(): boolean {
    return this.#state === "on";
  }

  /** Runs `operation`; on an error reports it (once) and returns `fallback`. */
  async attempt<T>(what: string, operation: () => Promise<T>, fallback: T): Promise<T> {
    if (this.#state === "off") return fallback;
    try {
      return await operation();
    } catch (error) {
      // The build is stopping: not the remote's fault, and nothing worth saying.
      if (error instanceof RemoteError && error.problem === "interrupted") return fallback;
      this.#failures++;
      const reason = error instanceof RemoteError ? error.message : `unexpected error: ${(error as Error).message}`;
      // Unauthorised or forbidden will not get better by retrying: switch off at once.
      const hopeless = error instanceof RemoteError && (error.problem === "unauthorized" || error.problem === "forbidden");
      if (this.#failures === 1) this.#warn(`remote cache: ${what} failed: ${reason}; going on with the local cache`);
      if (hopeless || this.#failures >= this.#maxFailures) {
        this.#state = "off";
        if (this.#failures > 1 || hopeless) this.#warn(`remote cache: switched off for the rest of this build after ${this.#failures} failure${this.#failures === 1 ? "" : "s"}`);
      }
      return fallback;
    }
  }
}
