/**
 * What ends every build's human output, the plain reporter's and the TUI's:
 * an `error:` line for each failed task (by name, so it reads the same on
 * every run), then the one-line verdict with the counts.
 */
import { describeFailure, type TaskResult, type UndoResult } from "@rbuild/core";
import { undoFailure } from "./attempt-text.js";
import { formatDuration } from "./duration.js";

export interface Counts {
  ran: number;
  cached: number;
  failed: number;
  /** Stopped by Ctrl-C, or cancelled by the build's caller (`rbuild watch`): not failed, as the history says. */
  interrupted: number;
  skipped: number;
}

/** The count a task's result goes in: a failed task whose failure is an interrupt is `interrupted`. */
export function countOf(result: TaskResult): keyof Counts {
  return result.status === "failed" && result.failure?.reason === "interrupted" ? "interrupted" : result.status;
}

export interface RecapOptions {
  readonly counts: Counts;
  readonly failed: readonly TaskResult[];
  readonly ok: boolean;
  readonly interrupted: boolean;
  readonly durationMs: number;
  readonly cwd: string;
  /** Tasks that passed after failing (they had retries), by name. */
  readonly flaky?: readonly string[];
  /** Tasks a stand-in ran for (`--stub`), by name: the build did not do what they do. */
  readonly stubbed?: readonly string[];
  /** The undos that failed: each an `error:` line, after the tasks'. */
  readonly failedUndos?: readonly UndoResult[];
  /** Colours the verdict and `error:`. */
  readonly style: (style: "red" | "green", text: string) => string;
}

const byName = (a: TaskResult, b: TaskResult): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function recapText({ counts: c, failed, ok, interrupted, durationMs, cwd, style, flaky = [], stubbed = [], failedUndos = [] }: RecapOptions): string {
  const parts = [`${c.ran} ran`, `${c.cached} cached`];
  if (flaky.length > 0) parts.push(`${flaky.length} flaky (${[...flaky].sort().join(", ")})`);
  if (stubbed.length > 0) parts.push(`${stubbed.length} stubbed (${[...stubbed].sort().join(", ")})`);
  if (c.failed > 0) parts.push(`${c.failed} failed`);
  if (c.interrupted > 0) parts.push(`${c.interrupted} interrupted`);
  if (c.skipped > 0) parts.push(`${c.skipped} skipped`);
  let text = "";
  for (const result of [...failed].sort(byName)) {
    if (result.failure !== undefined) text += `${style("red", "error:")} ${describeFailure(result.failure, { cwd })}\n`;
  }
  for (const undo of failedUndos) text += `${style("red", "error:")} undo ${undo.task} FAILED: ${undoFailure(undo, cwd)}\n`;
  if (failedUndos.length > 0) parts.push(`${failedUndos.length} undo${failedUndos.length === 1 ? "" : "s"} failed`);
  // What failed was only stopped by the build's caller (`rbuild watch` cancels what an edit made stale): cancelled, as the history records it.
  const cancelled = !ok && !interrupted && failed.length > 0 && failed.every((result) => result.failure?.reason === "interrupted");
  const verdict = interrupted ? style("red", "interrupted") : ok ? style("green", "ok") : cancelled ? style("red", "cancelled") : style("red", "failed");
  return `${text}rbuild: ${verdict}: ${parts.join(", ")} in ${formatDuration(durationMs)}\n`;
}
