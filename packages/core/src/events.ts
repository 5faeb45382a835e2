/**
 * The executor's only output: a stream of typed events. Reporters (plain text,
 * JSON lines, the run summary, later the TUI and the dashboard) subscribe to it;
 * the executor itself never prints. Events carry everything a reporter needs.
 */
import type { TaskFailure } from "./failure.js";

/** How a task ended. `cached` means its outputs were restored instead of running it. */
export type TaskStatus = "ran" | "cached" | "failed" | "skipped";

/** Where a cached result came from. */
export type CacheSource = "local" | "remote";

/** The record of one task in a build, as the run summary shows it. */
export interface TaskResult {
  readonly name: string;
  readonly status: TaskStatus;
  readonly cache: CacheSource | null;
  /** The task's cache key (hex), or null when it has none (impure, group, or not reached). */
  readonly key: string | null;
  readonly durationMs: number;
  /** The command's exit code, or null when it did not exit by itself (not run, killed, a function). */
  readonly exitCode: number | null;
  /**
   * Why the task ran or was skipped, as stable machine-readable strings:
   * `no-record`, `input-changed: <path>`, `impure`, `dependency-failed: <task>`, ...
   */
  readonly reasons: readonly string[];
  readonly failure?: TaskFailure;
  /** Set for a group (a task without `run`): it ran nothing itself, so reporters do not count it. */
  readonly group?: true;
  /** Set when a stand-in ran in place of the task's own `run` (`--stub`): nothing of it is cached. */
  readonly stubbed?: true;
  /** How many times it was run, when more than once (it has `retries`). */
  readonly attempts?: number;
  /** Set when it passed after failing: it needed a retry. */
  readonly flaky?: true;
}

/** How an undo (a task's compensating action, run after a failed build) ended. */
export interface UndoResult {
  readonly task: string;
  readonly ok: boolean;
  readonly durationMs: number;
  readonly exitCode: number | null;
  readonly failure?: TaskFailure;
}

export type OutputStream = "stdout" | "stderr";

export type BuildEvent =
  | { type: "build-started"; targets: readonly string[]; tasks: number; jobs: number }
  | { type: "task-started"; task: string; reasons: readonly string[] }
  /**
   * One whole line of a task's output, without its line ending. `replayed` when
   * it is a cached task's stored output shown again rather than new output.
   */
  | { type: "task-output"; task: string; stream: OutputStream; line: string; replayed?: true }
  /**
   * A task is done. A task whose function's code throws after it finished (a
   * timer it did not await) is finished again, as failed: the later result stands.
   */
  | { type: "task-finished"; result: TaskResult }
  /**
   * An attempt of a task with `retries` failed and it runs again after
   * `delayMs`: `attempt` is the one about to start (2 for the first retry) of
   * at most `attempts`; `failure` is why the last one failed.
   */
  | { type: "task-retry"; task: string; attempt: number; attempts: number; delayMs: number; failure: TaskFailure }
  /** The build failed: undos run, in order (see TaskOptions.undo), each started and then finished. */
  | { type: "undo-started"; task: string }
  | { type: "undo-finished"; result: UndoResult }
  | { type: "info"; code: string; message: string }
  /** A stage (see stage.ts) whose tasks may now start: every stage it follows has completed. */
  | { type: "stage-started"; stage: string; tasks: number }
  /** Every task of the stage is done; `ok` when all of them finished well. */
  | { type: "stage-finished"; stage: string; ok: boolean }
  | { type: "build-finished"; ok: boolean; interrupted: boolean; durationMs: number };

/** A consumer of build events. */
export interface Reporter {
  report(event: BuildEvent): void;
  /** Flushes anything buffered; called once after the last event. */
  close?(): Promise<void> | void;
}

/** Sends every event to each reporter in turn. */
export function fanOut(...reporters: Reporter[]): Reporter {
  return {
    report(event) {
      for (const reporter of reporters) reporter.report(event);
    },
    async close() {
      for (const reporter of reporters) await reporter.close?.();
    },
  };
}
