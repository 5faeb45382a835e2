/**
 * Checks a task's `retries`, `retryDelay`, `retryOn` and `undo` (see
 * TaskOptions). Neither enters a key: retrying cannot change what a pure task
 * produces, and an undo only runs for impure tasks, which have none.
 */
import type { RunFunction } from "@rbuild/core";
import type { RetryPolicy } from "./graph.js";
import { show, type Problem } from "./field-problem.js";

/** The wait before the first retry when `retryDelay` is not given. */
export const DEFAULT_RETRY_DELAY_MS = 1000;

/**
 * The most retries a task may have. More is a mistake (1e9 for 1, a count of
 * milliseconds): with backoff capped at a minute, 100 retries already poll for
 * over an hour and a half.
 */
export const MAX_RETRIES = 100;

const wholeNumber = (value: unknown): value is number => typeof value === "number" && Number.isSafeInteger(value) && value >= 0;

/** The task's retry policy; undefined without retries (or with a problem, pushed on `problems`). */
export function checkRetry(options: Record<string, unknown>, problems: Problem[]): RetryPolicy | undefined {
  const { retries, retryDelay, retryOn } = options;
  let ok = true;
  if (retries !== undefined && !(wholeNumber(retries) && retries <= MAX_RETRIES)) {
    problems.push({ field: "retries", message: `must be a whole number of retries from 0 to ${MAX_RETRIES}, got ${show(retries)}` });
    ok = false;
  }
  if (retryDelay !== undefined && !wholeNumber(retryDelay)) {
    problems.push({ field: "retryDelay", message: `must be a whole number of milliseconds, 0 or more, got ${show(retryDelay)}` });
    ok = false;
  }
  let on: number[] | undefined;
  if (retryOn !== undefined) {
    if (!Array.isArray(retryOn)) {
      problems.push({ field: "retryOn", message: `must be an array of exit codes, e.g. [1, 75], got ${show(retryOn)}` });
      ok = false;
    } else {
      const bad = (retryOn as unknown[]).find((code) => !(typeof code === "number" && Number.isInteger(code) && code >= 1 && code <= 255));
      if (retryOn.length === 0) {
        // Not "retry on nothing": the task would have retries that could never happen.
        problems.push({ field: "retryOn", message: "must list at least one exit code (whole numbers from 1 to 255), e.g. [75]; leave it out to retry on any failure" });
        ok = false;
      } else if (bad !== undefined) {
        problems.push({ field: "retryOn", message: `must hold only exit codes (whole numbers from 1 to 255), got ${show(bad)}` });
        ok = false;
      } else on = [...new Set(retryOn as number[])].sort((a, b) => a - b);
    }
  }
  if ((retryDelay !== undefined || retryOn !== undefined) && retries === undefined) {
    const field = retryDelay !== undefined ? "retryDelay" : "retryOn";
    problems.push({ field, message: "has no effect without `retries`: add e.g. `retries: 2`" });
    ok = false;
  }
  if (!ok || retries === undefined || retries === 0) return undefined;
  return { retries: retries as number, delayMs: (retryDelay as number | undefined) ?? DEFAULT_RETRY_DELAY_MS, ...(on === undefined ? {} : { on }) };
}

/** The task's undo; undefined without one (or with a problem, pushed on `problems`). */
export function checkUndo(options: Record<string, unknown>, problems: Problem[]): string | RunFunction | undefined {
  const undo = options.undo;
  if (undo === undefined) return undefined;
  if (typeof undo !== "function" && (typeof undo !== "string" || undo.trim() === "")) {
    problems.push({ field: "undo", message: `must be a shell command string or an async function, got ${show(undo)}` });
    return undefined;
  }
  if (options.pure !== false) {
    problems.push({ field: "undo", message: "is for impure tasks only: a pure task changes nothing outside its outputs, so there is nothing to undo. Add `pure: false` if the task touches the world" });
    return undefined;
  }
  if (options.run === undefined) {
    problems.push({ field: "undo", message: "needs a `run`: a group does nothing to undo" });
    return undefined;
  }
  return undo as string | RunFunction;
}
