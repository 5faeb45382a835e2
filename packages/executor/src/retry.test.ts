import { describe, expect, test } from "vitest";
import type { TaskResult } from "@rbuild/core";
import { backoffDelay, MAX_RETRY_DELAY_MS, retryable, waitUnlessAborted, withRetries } from "./retry.js";

const failed = (exitCode: number): { result: TaskResult } => ({
  result: { name: "deploy", status: "failed", cache: null, key: null, durationMs: 0, exitCode, reasons: [], failure: { reason: "exit-nonzero", task: "deploy", exitCode } },
});
const passed = { result: { name: "deploy", status: "ran", cache: null, key: null, durationMs: 0, exitCode: 0, reasons: [] } as TaskResult };

describe("retry", () => {
  test("26.1: backoff doubles per attempt, jittered between half and one and a half times, capped", () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(100, n, () => 0.5))).toEqual([100, 200, 400, 800]);
    expect(backoffDelay(100, 1, () => 0)).toBe(50);
    expect(backoffDelay(100, 3, () => 0.999999)).toBe(600);
    expect(backoffDelay(1000, 20, () => 0.5)).toBe(MAX_RETRY_DELAY_MS);
    expect(backoffDelay(1000, 5000, () => 0.5)).toBe(MAX_RETRY_DELAY_MS);
    expect(backoffDelay(0, 3, () => 0.7)).toBe(0);
  });

  test("26.1: retryOn limits retries to its exit codes; an interrupt is never retried", () => {
    expect(retryable({ retries: 2, delayMs: 0 }, { reason: "exit-nonzero", task: "t", exitCode: 3 })).toBe(true);
    expect(retryable({ retries: 2, delayMs: 0 }, { reason: "run-threw", task: "t", message: "boom" })).toBe(true);
    expect(retryable({ retries: 2, delayMs: 0 }, { reason: "interrupted", task: "t" })).toBe(false);
    expect(retryable({ retries: 2, delayMs: 0, on: [75] }, { reason: "exit-nonzero", task: "t", exitCode: 75 })).toBe(true);
    expect(retryable({ retries: 2, delayMs: 0, on: [75] }, { reason: "exit-nonzero", task: "t", exitCode: 1 })).toBe(false);
    expect(retryable({ retries: 2, delayMs: 0, on: [75] }, { reason: "run-threw", task: "t", message: "boom" })).toBe(false);
  });

  test("26.1: attempts run until one passes, each failed one told with its delay", async () => {
    const outcomes = [failed(1), failed(1), passed];
    const told: [number, number][] = [];
    const { last, attempts } = await withRetries({
      policy: { retries: 3, delayMs: 10 },
      signal: new AbortController().signal,
      random: () => 0.5,
      attempt: async (n) => outcomes[n - 1]!,
      onRetry: (_failed, n, delayMs) => told.push([n, delayMs]),
    });
    expect({ status: last.result.status, attempts, told }).toEqual({ status: "ran", attempts: 3, told: [[1, 10], [2, 20]] });
  });

  test("26.1: no attempts past retries, and none for a code retryOn does not name", async () => {
    const run = async (policy: { retries: number; delayMs: number; on?: number[] }): Promise<number> =>
      (await withRetries({ policy, signal: new AbortController().signal, random: () => 0.5, attempt: async () => failed(1), onRetry: () => {} })).attempts;
    expect(await run({ retries: 2, delayMs: 0 })).toBe(3);
    expect(await run({ retries: 2, delayMs: 0, on: [75] })).toBe(1);
  });

  test("26.1: an interrupt during the wait ends it at once, as interrupted", async () => {
    const controller = new AbortController();
    const result = withRetries({
      policy: { retries: 5, delayMs: 600_000 },
      signal: controller.signal,
      random: () => 0.5,
      attempt: async () => failed(1),
      onRetry: () => setImmediate(() => controller.abort()),
    });
    const { last, attempts } = await result;
    expect({ attempts, failure: last.result.failure }).toEqual({ attempts: 1, failure: { reason: "interrupted", task: "deploy" } });
    expect(await waitUnlessAborted(600_000, controller.signal)).toBe(false);
  });
});

describe("retry once the build has failed", () => {
  test("26.1: a failure elsewhere ends the wait, and the last failure stands", async () => {
    const stopped = new AbortController();
    const { last, attempts } = await withRetries({
      policy: { retries: 5, delayMs: 600_000 },
      signal: new AbortController().signal,
      stopped: stopped.signal,
      random: () => 0.5,
      attempt: async () => failed(1),
      onRetry: () => setImmediate(() => stopped.abort()),
    });
    expect({ attempts, failure: last.result.failure }).toEqual({ attempts: 1, failure: { reason: "exit-nonzero", task: "deploy", exitCode: 1 } });
  });
});
