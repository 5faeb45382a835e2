/**
 * The build's default runner: each task where it asks to run. A request
 * with `sandbox` goes to the sandbox runner (made on first use), the rest to
 * the local runner, and one with an `image` to the container runner; all start commands through the same local runner (one
 * process helper, one record of what runs).
 */
import type { StrayErrors } from "@rbuild/core";
import { LocalRunner } from "./local-runner.js";
import { OnLocalRunner } from "./on-local-runner.js";
import type { RunOutcome, RunRequest } from "./runner.js";
import { ContainerRunner } from "./container-runner.js";
import { SandboxRunner } from "./sandbox-runner.js";

export interface RunnerChoiceOptions {
  readonly strays?: StrayErrors;
  readonly spawn?: "helper" | "direct";
}

export class RunnerChoice extends OnLocalRunner {
  #sandbox: SandboxRunner | undefined;
  #container: ContainerRunner | undefined;

  constructor(options: RunnerChoiceOptions = {}) {
    super(new LocalRunner(options));
  }

  run(request: RunRequest): Promise<RunOutcome> {
    if (request.image !== undefined) {
      this.#container ??= new ContainerRunner(this.#sandboxRunner(), undefined, undefined, { local: this.local });
      return Promise.resolve(this.#container.run(request));
    }
    if (request.sandbox !== true) return this.local.run(request);
    return this.#sandboxRunner().run(request);
  }

  #sandboxRunner(): SandboxRunner {
    this.#sandbox ??= new SandboxRunner({ local: this.local });
    return this.#sandbox;
  }

  close(): void {
    this.local.close();
  }
}
