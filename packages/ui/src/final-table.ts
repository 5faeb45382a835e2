/**
 * The table at the end of a build in CI: one row per task that ran, failed or
 * was skipped, columns aligned, sorted by name so that it reads the same on
 * every run:
 *
 *   task    status       cache   duration
 *   build   ran          -       1.2s
 *   e2e     interrupted  -       1.0s
 *   lint    cached       remote  40ms
 *   test    failed       -       3.4s
 *   + 250 cached (240 local, 10 remote)
 *
 * Cached tasks are rows too while there are at most CACHED_ROWS of them; with
 * more, one line counts them instead, so a mostly cached build of a big
 * monorepo does not bury the few tasks that did something. Groups (tasks
 * without `run`) appear only when they did not complete (failed, skipped).
 * A task stopped by Ctrl-C is `interrupted`, not `failed`, as the recap counts it.
 * A task that passed after failing says so (`ran, flaky (3 attempts)`), and
 * the undos of a failed build follow the tasks, in the order they ran:
 *
 *   undo deploy   FAILED   -       20ms
 */
import type { TaskResult, UndoResult } from "@rbuild/core";
import { formatDuration } from "./duration.js";
import { countOf } from "./recap.js";

/** Cached tasks listed one per row at most; more are counted on one line. */
export const CACHED_ROWS = 10;

const byName = (a: TaskResult, b: TaskResult): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The table for `results` (one per task, the last result of each), or "" when there is nothing to show. */
export function finalTable(results: readonly TaskResult[], undos: readonly UndoResult[] = []): string {
  const shown = results.filter((r) => !(r.group === true && (r.status === "ran" || r.status === "cached")));
  const cached = shown.filter((r) => r.status === "cached");
  const listed = (cached.length > CACHED_ROWS ? shown.filter((r) => r.status !== "cached") : shown).slice().sort(byName);
  const tried = (r: TaskResult): string => (r.flaky === true ? `${r.status}, flaky (${r.attempts ?? 2} attempts)` : r.attempts !== undefined ? `${countOf(r)} (${r.attempts} attempts)` : countOf(r));
  const status = (r: TaskResult): string => (r.stubbed === true ? `${tried(r)} (stubbed)` : tried(r));
  const rows = listed.map((r) => [r.name, status(r), r.cache ?? "-", r.status === "skipped" ? "-" : formatDuration(r.durationMs)]);
  for (const undo of undos) rows.push([`undo ${undo.task}`, undo.ok ? "ok" : "FAILED", "-", formatDuration(undo.durationMs)]);
  let text = "";
  if (rows.length > 0) {
    const all = [["task", "status", "cache", "duration"], ...rows];
    const widths = [0, 1, 2].map((column) => Math.max(...all.map((row) => row[column]!.length)));
    for (const row of all) text += row.map((cell, column) => (column < 3 ? cell.padEnd(widths[column]! + 2) : cell)).join("") + "\n";
  }
  if (cached.length > CACHED_ROWS) {
    const remote = cached.filter((r) => r.cache === "remote").length;
    text += `+ ${cached.length} cached (${cached.length - remote} local, ${remote} remote)\n`;
  }
  return text;
}
