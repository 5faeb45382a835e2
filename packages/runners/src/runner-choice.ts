/**
 * The build's default runner: each task where it asks to run. A request
 * with `sandbox` goes to the sandbox runner (made on first use), the rest to
 * the local runner; both start commands through the same local runner (one
 * process helper, one record of what runs).
 */
import type { StrayErrors } from "@rbuild/core";
import { LocalRunner } from "./local-runner.js";
import type { BuildHold, RunOutcome, RunRequest, Runner } from "./runner.js";
import { SandboxRunner } from "./sandbox-runner.js";

export interface RunnerChoiceOptions {
  readonly strays?: StrayErrors;
  readonly spawn?: "helper" | "direct";
}

export class RunnerChoice implements Runner {
  readonly #local: LocalRunner;
  #sandbox: SandboxRunner | undefined;

  constructor(options: RunnerChoiceOptions = {}) {
    this.#local = new LocalRunner(options);
  }

  run(request: RunRequest): Promise<RunOutcome> {
    if (request.sandbox !== true) return this.#local.run(request);
    this.#sandbox ??= new SandboxRunner({ local: this.#local });
    return this.#sandbox.run(request);
  }

  prepare(runs: Iterable<RunRequest["run"] | undefined>): void {
    this.#local.prepare(runs);
  }

  begin(dir: string): Promise<BuildHold> {
    return this.#local.begin(dir);
  }

  mayHaveLeftRunning(dir: string): boolean {
    return this.#local.mayHaveLeftRunning(dir);
  }

  functionsRunning(): readonly string[] {
    return this.#local.functionsRunning();
  }

  close(): void {
    this.#local.close();
  }
}
