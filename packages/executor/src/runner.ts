import type { TaskFailure } from "@rbuild/core";
import type { GraphTask } from "@rbuild/planner";

/** Everything a runner needs to run one task. */
export interface RunRequest {
  readonly task: GraphTask;
  /** Absolute working directory. */
  readonly cwd: string;
  /** The task's whole environment (strict env already applied). */
  readonly env: Readonly<Record<string, string>>;
  /** Aborted when the build is interrupted: stop the task and everything it started. */
  readonly signal: AbortSignal;
  readonly stdout: (chunk: Buffer | string) => void;
  readonly stderr: (chunk: Buffer | string) => void;
}

export type RunOutcome =
  | { ok: true; exitCode: number | null }
  | { ok: false; exitCode: number | null; failure: TaskFailure };

/**
 * Runs one task somewhere: here in a child process, later in a sandbox, a
 * container or on Concourse. The executor decides what runs when; a runner
 * only runs it and reports how it ended.
 */
export interface Runner {
  run(request: RunRequest): Promise<RunOutcome>;
}
