/**
 * What a runner that starts its commands through a LocalRunner (the
 * sandbox runner, the build's runner choice) passes on to it: preparing the
 * commands, the build's hold on what runs, what a dead build may have left
 * running, the function tasks running. Written once here; each such runner
 * adds its own `run` and `close`.
 */
import type { LocalRunner } from "./local-runner.js";
import type { BuildHold, RunOutcome, RunRequest, Runner } from "./runner.js";

export abstract class OnLocalRunner implements Runner {
  /** The runner commands start through (its process helper, its records of what runs). */
  protected readonly local: LocalRunner;

  constructor(local: LocalRunner) {
    this.local = local;
  }

  abstract run(request: RunRequest): Promise<RunOutcome>;

  abstract close(): void;

  prepare(runs: Iterable<RunRequest["run"] | undefined>): void {
    this.local.prepare(runs);
  }

  begin(dir: string): Promise<BuildHold> {
    return this.local.begin(dir);
  }

  mayHaveLeftRunning(dir: string): boolean {
    return this.local.mayHaveLeftRunning(dir);
  }

  functionsRunning(): readonly string[] {
    return this.local.functionsRunning();
  }
}
