/**
 * A task's attempts in a build: one, or with `retries` until one passes (the
 * policy is retry.ts's). Each failed attempt before the last is a
 * `task-retry` event and, for a task whose outputs are captured, a history
 * row with its own log; before each retry the outputs the failed one left
 * are cleared. What it keeps (attempts taken, failed attempts' rows) is read
 * when the task's result is recorded and when the build's history is written.
 */
import type { Reporter, TaskFailure } from "@rbuild/core";
import type { Digest } from "@rbuild/hash";
import type { GraphTask } from "@rbuild/planner";
import type { LogLine, RunRow } from "@rbuild/store";
import { failedAttemptRow } from "./attempt-rows.js";
import { withRetries } from "./retry.js";
import { LogCollector } from "./task-cache.js";
import { result, type Done } from "./task-done.js";

export interface AttemptsContext {
  readonly root: string;
  readonly reporter: Reporter;
  readonly now: () => number;
  /** The jitter of the backoff: numbers in [0, 1). */
  readonly random: () => number;
  /** Aborted when a failure stops the build: a task waiting to retry fails with the failure it has. */
  readonly stopped: AbortSignal;
}

/** For a task whose outputs are captured (the cache step): how a retry readies its outputs, and where logs are kept. */
export interface Captured {
  /** Readies the task's output area for another attempt; the failure that keeps it from starting, if any. */
  readonly startOutputs: () => TaskFailure | undefined | Promise<TaskFailure | undefined>;
  readonly keepLog: (lines: readonly LogLine[]) => Digest | null;
  readonly key: string;
}

export class TaskAttempts {
  readonly #context: AttemptsContext;
  /** How many attempts tasks that were retried took. */
  readonly #attempts = new Map<string, number>();
  /** The history rows of retried tasks' failed attempts, before their last. */
  readonly #failedRows = new Map<string, RunRow[]>();

  constructor(context: AttemptsContext) {
    this.#context = context;
  }

  /** How many attempts `task` took, if it was retried. */
  taken(task: string): number | undefined {
    return this.#attempts.get(task);
  }

  /** The history rows of the failed attempts of `task` before its last. */
  failedRows(task: string): readonly RunRow[] {
    return this.#failedRows.get(task) ?? [];
  }

  /**
   * Runs the task's attempts through `execute`. With `captured` each attempt's
   * output is logged: the last one's log is returned, to be stored with the result.
   */
  async run(task: GraphTask, signal: AbortSignal, reasons: readonly string[], execute: (log: LogCollector | undefined) => Promise<Done>, captured?: Captured): Promise<{ done: Done; log: LogCollector }> {
    const { now, reporter, root } = this.#context;
    let log = new LogCollector();
    let started = now();
    const { last, attempts } = await withRetries<Done>({
      policy: task.retry,
      signal,
      stopped: this.#context.stopped,
      random: this.#context.random,
      attempt: async (n) => {
        if (n > 1) {
          log = new LogCollector();
          started = now();
          const cannotStart = captured === undefined ? undefined : await captured.startOutputs();
          if (cannotStart !== undefined) return { result: result(task.name, "failed", { reasons: [...reasons], failure: cannotStart }) };
        }
        return execute(captured === undefined ? undefined : log);
      },
      onRetry: (failed, n, delayMs) => {
        if (captured !== undefined) {
          const [lines, durationMs, key] = [log.finish(), Math.round(now() - started), task.pure ? captured.key : null];
          const row = failedAttemptRow(task, failed.result, { n, durationMs, key, lines, log: captured.keepLog(lines) }, root);
          this.#failedRows.set(task.name, [...(this.#failedRows.get(task.name) ?? []), row]);
        }
        const failure = failed.result.failure ?? { reason: "exit-nonzero", task: task.name, exitCode: failed.result.exitCode ?? 1 };
        reporter.report({ type: "task-retry", task: task.name, attempt: n + 1, attempts: task.retry!.retries + 1, delayMs, failure });
      },
    });
    if (attempts > 1) this.#attempts.set(task.name, attempts);
    return { done: last, log };
  }
}
