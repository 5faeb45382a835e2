/**
 * The lines of one frame of the terminal UI (plain strings: no ink here, so
 * that the build's main thread never loads it; tui-view.ts makes them ink
 * elements), for a terminal of `columns` x `rows`:
 *
 *   rbuild: <info message>                        (notes, above: scrollback keeps them)
 *   ✗ broken failed (its output follows at the end)
 *   ▸ app:build  12s
 *     │ last lines of its output
 *   ▸ lib:test  3s
 *     │ ...
 *   … 4 more running
 *   ████████▒▒▒▒░░░░░░░░░░░░ 12/40 · 7 ran · 5 cached · 1 failed · ETA 8s
 *
 * The live part (below the notes) is always shorter than the terminal, or ink
 * would clear the whole screen on each frame: each running task gets a line
 * and up to TAIL_SHOWN lines of output while they fit, the rest are counted.
 * Lines are cut at the terminal's width (by ink), never wrapped. The bar: █ done by
 * running (or failing), ▒ cached, ░ not done; colour (when on) says the same.
 */
import type { TuiView } from "./tui-state.js";

/** Lines of each running task's output shown, when there is room. */
export const TAIL_SHOWN = 3;

export interface FrameSize {
  readonly columns: number;
  readonly rows: number;
}

const CODES = { red: 31, green: 32, cyan: 36, dim: 2, bold: 1 } as const;
type Style = keyof typeof CODES;

/** A duration in whole seconds, or minutes and seconds: `0s`, `42s`, `3m07s`. */
export function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

/** The estimate, rounded up: a build 0.2 s from its end is "<1s" away, not "0s". */
function eta(ms: number): string {
  return ms < 1000 ? "<1s" : clock(Math.ceil(ms / 1000) * 1000);
}

/** How many running tasks, and lines of output each, fit in `rows` lines. */
function budget(tasks: number, rows: number): { shown: number; tail: number; more: boolean } {
  if (tasks <= rows) {
    const tail = tasks === 0 ? 0 : Math.min(TAIL_SHOWN, Math.floor((rows - tasks) / tasks));
    return { shown: tasks, tail, more: false };
  }
  return { shown: Math.max(0, rows - 1), tail: 0, more: rows > 0 };
}

/** The live area's lines (below the notes), each cut to `size.columns`. */
export function liveLines(view: TuiView, size: FrameSize, color: boolean): string[] {
  const style = (name: Style, text: string): string => (color ? `\x1b[${CODES[name]}m${text}\x1b[0m` : text);
  // One line for the progress, one left free: a frame as tall as the terminal makes ink clear the screen.
  const { shown, tail, more } = budget(view.running.length, Math.max(0, size.rows - 2));
  const lines: string[] = [];
  for (const task of view.running.slice(0, shown)) {
    lines.push(`${style("bold", "▸")} ${task.name}  ${style("dim", clock(task.elapsedMs))}`);
    for (const text of tail === 0 ? [] : task.tail.slice(-tail)) lines.push(style("dim", `  │ ${text}`));
  }
  if (more) lines.push(style("dim", `… ${view.running.length - shown} more running`));
  lines.push(progress(view, size.columns, style));
  return lines;
}

/** How many rows `lines`, drawn cut at `drawnAt` columns, take on a terminal now `columns` wide (it wraps them anew). */
export function rowsAfterResize(lines: readonly string[], drawnAt: number, columns: number): number {
  let rows = 0;
  for (const text of lines) rows += Math.max(1, Math.ceil(Math.min([...visible(text)].length, drawnAt) / Math.max(1, columns)));
  return rows;
}

function progress(view: TuiView, columns: number, style: (name: Style, text: string) => string): string {
  const { counts } = view;
  const parts = [`${view.done}/${view.total}`, `${counts.ran} ran`, `${counts.cached} cached`];
  if (counts.failed > 0) parts.push(style("red", `${counts.failed} failed`));
  if (counts.interrupted > 0) parts.push(style("red", `${counts.interrupted} interrupted`));
  if (counts.skipped > 0) parts.push(`${counts.skipped} skipped`);
  if (view.etaMs !== undefined) parts.push(`ETA ${eta(view.etaMs)}`);
  const text = parts.join(" · ");
  const width = Math.max(0, Math.min(30, columns - visible(text).length - 1));
  if (width < 5) return text;
  const of = (n: number): number => (view.total === 0 ? 0 : Math.floor((n / view.total) * width));
  const ran = Math.min(width, of(view.done - view.doneCached));
  const cached = Math.min(width - ran, of(view.doneCached));
  const bar = style(counts.failed > 0 ? "red" : "green", "█".repeat(ran)) + style("cyan", "▒".repeat(cached)) + style("dim", "░".repeat(width - ran - cached));
  return `${bar} ${text}`;
}

const visible = (text: string): string => text.replace(/\x1b\[[0-9;]*m/g, "");
