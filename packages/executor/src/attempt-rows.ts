/**
 * The history rows of what retries and undos add to a build (see retry.ts,
 * undo.ts): a row per failed attempt before a retried task's last (its own
 * log and tail, so `rbuild errors` counts a flaky failure too), and a row per
 * undo after the build's runs, with status `undone` or `undo-failed`.
 */
import { describeFailure, undoFailure, type TaskResult, type UndoResult } from "@rbuild/core";
import type { Digest } from "@rbuild/hash";
import type { GraphTask } from "@rbuild/planner";
import { ERROR_TAIL_LINES, type LogLine, type RunRow } from "@rbuild/store";
import { interruptedOnly } from "./history-row.js";

/** Attempt `n` of `task`, which failed as `failed` (or was interrupted); `log`: the digest its lines were kept under. */
export function failedAttemptRow(
  task: GraphTask,
  failed: TaskResult,
  attempt: { readonly n: number; readonly durationMs: number; readonly key: string | null; readonly lines: readonly LogLine[]; readonly log: Digest | null },
  root: string,
): RunRow {
  const interrupted = interruptedOnly(failed);
  return {
    task: task.name,
    key: attempt.key,
    // As the task's own row: an attempt an interrupt ended is `interrupted`, with no tail for the error database.
    status: interrupted ? "interrupted" : "failed",
    cache: null,
    pure: task.pure,
    durationMs: attempt.durationMs,
    exitCode: failed.exitCode,
    reasons: failed.reasons,
    error: failed.failure === undefined ? null : describeFailure(failed.failure, { cwd: root }),
    outputsDigest: null,
    layer: null,
    log: attempt.log,
    ...(interrupted ? {} : { tail: attempt.lines.slice(-ERROR_TAIL_LINES).map(([, line]) => line) }),
    attempt: attempt.n,
  };
}

/**
 * An undo that ran; `log`: the digest its lines were kept under. A failed one
 * has a tail (its last lines), so the error database keeps it, in the words
 * the build showed (`undo deploy FAILED: its undo exited with code 9; ...`).
 */
export function undoRow(result: UndoResult, log: Digest | null, lines: readonly LogLine[], root: string): RunRow {
  return {
    task: result.task,
    key: null,
    status: result.ok ? "undone" : "undo-failed",
    cache: null,
    pure: false,
    durationMs: result.durationMs,
    exitCode: result.exitCode,
    reasons: ["undo"],
    error: result.ok ? null : `undo ${result.task} FAILED: ${undoFailure(result, root)}`,
    outputsDigest: null,
    layer: null,
    log,
    ...(result.ok ? {} : { tail: lines.slice(-ERROR_TAIL_LINES).map(([, line]) => line) }),
  };
}
