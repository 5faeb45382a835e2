/**
 * Retries (TaskOptions.retries): a failed attempt of a task with a retry
 * policy runs again after a backoff, while attempts are left and the failure
 * is one to retry. The executor gives the attempt to run and is told of each
 * failed one (for its event and its history row); this module decides
 * whether and when there is another.
 *
 * Backoff: before attempt n + 1 (after n failed), delay · 2^(n-1) · (0.5..1.5),
 * capped at MAX_RETRY_DELAY_MS: exponential so that a service that is down is
 * not hammered, jittered so that many builds that failed together do not
 * retry in step. The run slot is kept while waiting: a retry is the same
 * task's work, and it starts again at once when the wait ends.
 */
import type { TaskFailure, TaskResult } from "@rbuild/core";
import type { RetryPolicy } from "@rbuild/planner";

/** No wait between attempts is longer than this. */
export const MAX_RETRY_DELAY_MS = 60_000;

/** The wait before the attempt after `failed` failed attempts (1 or more); `random` in [0, 1). */
export function backoffDelay(baseMs: number, failed: number, random: () => number): number {
  const exponential = baseMs * 2 ** Math.min(failed - 1, 30);
  return Math.round(Math.min(MAX_RETRY_DELAY_MS, exponential * (0.5 + random())));
}

/** Whether `failure` is one to retry under `policy`: never an interrupt; with `on`, only those exit codes. */
export function retryable(policy: RetryPolicy, failure: TaskFailure | undefined): boolean {
  if (failure === undefined || failure.reason === "interrupted") return false;
  if (policy.on === undefined) return true;
  return failure.reason === "exit-nonzero" && policy.on.includes(failure.exitCode);
}

/** Waits `ms`; false at once when `signal` is aborted first. */
export function waitUnlessAborted(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (waited: boolean): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(waited);
    };
    const onAbort = (): void => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

export interface Retrying<T> {
  readonly policy: RetryPolicy | undefined;
  readonly signal: AbortSignal;
  /** Aborted when the build has failed: no attempt starts after it, and the last failure stands. */
  readonly stopped?: AbortSignal;
  readonly random: () => number;
  /** Runs attempt `n` (1 for the first). */
  readonly attempt: (n: number) => Promise<T>;
  /** Attempt `n` failed and attempt `n + 1` starts after `delayMs`. */
  readonly onRetry: (failed: T, n: number, delayMs: number) => void;
}

/**
 * Runs attempts until one passes, one fails with a failure not to retry, or
 * none are left: the last attempt's outcome and how many ran. Interrupted
 * while an attempt runs or while waiting, no other attempt starts and the
 * outcome is the last failure, as interrupted; once the build has failed
 * (`stopped`), it is the last failure as it was.
 */
export async function withRetries<T extends { readonly result: TaskResult }>(options: Retrying<T>): Promise<{ readonly last: T; readonly attempts: number }> {
  const { policy, signal, stopped } = options;
  let n = 1;
  while (true) {
    const last = await options.attempt(n);
    const { result } = last;
    if (policy === undefined || result.status !== "failed" || n > policy.retries || !retryable(policy, result.failure) || stopped?.aborted === true) {
      return { last, attempts: n };
    }
    // One to retry, but the build was interrupted before it was known: no retry, and no failed attempt (its
    // event and row), as the runner most likely saw the command end because of it. It ends as interrupted.
    if (signal.aborted) return { last: { ...last, result: asInterrupted(result) }, attempts: n };
    const delayMs = backoffDelay(policy.delayMs, n, options.random);
    options.onRetry(last, n, delayMs);
    // Ended by an interrupt, or by the build's failure, whichever comes first.
    if (!(await waitUnlessAborted(delayMs, stopped === undefined ? signal : AbortSignal.any([signal, stopped])))) {
      if (!signal.aborted) return { last, attempts: n };
      return { last: { ...last, result: asInterrupted(result) }, attempts: n };
    }
    n++;
  }
}

function asInterrupted(result: TaskResult): TaskResult {
  return { ...result, failure: { reason: "interrupted", task: result.name } };
}
