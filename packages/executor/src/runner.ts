import type { TaskFailure } from "@rbuild/core";
import type { GraphTask } from "@rbuild/planner";
import type { StartedCommand } from "./launcher.js";

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
  /**
   * A command this runner started (see `onStarted`) that the task's command is
   * to start after, the moment it ends, instead of now: the run slot it holds
   * was handed over (see slots.ts). Only for a command.
   */
  readonly after?: StartedCommand;
  /** Aborted when the command queued `after` another is to start at once instead: a slot freed first. */
  readonly startNow?: AbortSignal;
  /**
   * Called once the task has started; for a command a process helper runs,
   * with what another command can be queued behind. A runner that cannot
   * queue commands passes undefined (or never calls it).
   */
  readonly onStarted?: (command: StartedCommand | undefined) => void;
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
