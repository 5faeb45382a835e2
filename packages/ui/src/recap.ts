/**
 * What ends every build's human output, the plain reporter's and the TUI's:
 * an `error:` line for each failed task (by name, so it reads the same on
 * every run), then the one-line verdict with the counts.
 */
import { describeFailure, type TaskResult } from "@rbuild/core";
import { formatDuration } from "./duration.js";

export interface Counts {
  ran: number;
  cached: number;
  failed: number;
  skipped: number;
}

export interface RecapOptions {
  readonly counts: Counts;
  readonly failed: readonly TaskResult[];
  readonly ok: boolean;
  readonly interrupted: boolean;
  readonly durationMs: number;
  readonly cwd: string;
  /** Colours the verdict and `error:`. */
  readonly style: (style: "red" | "green", text: string) => string;
}

const byName = (a: TaskResult, b: TaskResult): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function recapText({ counts: c, failed, ok, interrupted, durationMs, cwd, style }: RecapOptions): string {
  const parts = [`${c.ran} ran`, `${c.cached} cached`];
  if (c.failed > 0) parts.push(`${c.failed} failed`);
  if (c.skipped > 0) parts.push(`${c.skipped} skipped`);
  let text = "";
  for (const result of [...failed].sort(byName)) {
    if (result.failure !== undefined) text += `${style("red", "error:")} ${describeFailure(result.failure, { cwd })}\n`;
  }
  const verdict = interrupted ? style("red", "interrupted") : ok ? style("green", "ok") : style("red", "failed");
  return `${text}rbuild: ${verdict}: ${parts.join(", ")} in ${formatDuration(durationMs)}\n`;
}
