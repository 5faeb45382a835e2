/**
 * The text format, for people: the hints, most valuable first, each with its
 * fix and the time it would save, then the critical path task by task with
 * the recorded durations and what bounds the speed-up.
 */
import type { GraphReport } from "./analyse.js";
import { showMs } from "./duration.js";
import type { Hint } from "./hint.js";

export function formatText(report: GraphReport): string {
  const hints = report.hints.filter((hint) => hint.code !== "critical-path");
  const count = (severity: Hint["severity"]): number => hints.filter((hint) => hint.severity === severity).length;
  const counts = (["error", "warning", "info"] as const).filter((severity) => count(severity) > 0).map((severity) => `${count(severity)} ${severity}${count(severity) === 1 || severity === "info" ? "" : "s"}`);
  let text = `${report.tasks.length} task${report.tasks.length === 1 ? "" : "s"}, ${hints.length === 0 ? "no hints" : `${hints.length} hint${hints.length === 1 ? "" : "s"}: ${counts.join(", ")}`}\n`;
  for (const hint of hints) {
    text += `\n${hint.severity} ${hint.code}: ${hint.message}\n  fix: ${hint.fix}\n`;
    if (hint.savingMs !== null) text += `  saves: up to ${showMs(hint.savingMs)} per build\n`;
  }
  text += `\n${criticalPathText(report)}`;
  return text;
}

function criticalPathText(report: GraphReport): string {
  const path = report.criticalPath;
  if (path.tasks.length === 0) return "critical path: no tasks\n";
  const hint = report.hints.find((h) => h.code === "critical-path");
  const durations = new Map(report.tasks.map((task) => [task.name, task]));
  const width = Math.max(...path.tasks.map((name) => name.length));
  let text = `critical path: ${path.tasks.length} task${path.tasks.length === 1 ? "" : "s"}, ${showMs(path.ms)} of ${showMs(path.totalWorkMs)} total work\n`;
  for (const name of path.tasks) {
    const task = durations.get(name)!;
    const shown = task.kind === "group" ? "group" : task.durationMs === null ? "no record" : showMs(task.durationMs);
    text += `  ${name.padEnd(width)}  ${shown}\n`;
  }
  if (hint !== undefined) text += `${hint.message}\n  fix: ${hint.fix}\n`;
  return text;
}
