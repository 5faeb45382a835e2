/** An interrupt never starts another attempt, and the attempt it ended ends as interrupted (issue 24 item 8). */
import { expect, test } from "vitest";
import type { TaskResult } from "@rbuild/core";
import { withRetries } from "./retry.js";

const failed = (exitCode: number): { result: TaskResult } => ({
  result: { name: "deploy", status: "failed", cache: null, key: null, durationMs: 0, exitCode, reasons: [], failure: { reason: "exit-nonzero", task: "deploy", exitCode } },
});

test("24.8: an attempt that fails once the build is interrupted is not retried, and not told as a failed attempt: it ends as interrupted", async () => {
  const interrupt = new AbortController();
  const started: number[] = [];
  const told: number[] = [];
  const { last, attempts } = await withRetries({
    policy: { retries: 3, delayMs: 0 },
    signal: interrupt.signal,
    random: () => 0.5,
    // A runner that says how the command ended (exit 1), not that it was stopped: the interrupt came while it ran.
    attempt: async (n) => {
      started.push(n);
      interrupt.abort();
      return failed(1);
    },
    onRetry: (_failed, n) => told.push(n),
  });
  expect({ started, told, attempts, result: last.result }).toEqual({
    started: [1],
    told: [],
    attempts: 1,
    result: { name: "deploy", status: "failed", cache: null, key: null, durationMs: 0, exitCode: 1, reasons: [], failure: { reason: "interrupted", task: "deploy" } },
  });
});

test("24.8: an attempt that failed before the interrupt is told as failed; the interrupt in the wait starts no other", async () => {
  const interrupt = new AbortController();
  const started: number[] = [];
  const told: number[] = [];
  const { last, attempts } = await withRetries({
    policy: { retries: 3, delayMs: 600_000 },
    signal: interrupt.signal,
    random: () => 0.5,
    attempt: async (n) => {
      started.push(n);
      return failed(1);
    },
    onRetry: (_failed, n) => {
      told.push(n);
      setImmediate(() => interrupt.abort());
    },
  });
  expect({ started, told, attempts, failure: last.result.failure }).toEqual({ started: [1], told: [1], attempts: 1, failure: { reason: "interrupted", task: "deploy" } });
});
