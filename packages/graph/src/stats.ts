/**
 * Per task numbers from the recorded history: its duration (the median of
 * its recorded runs that ran; failing that, of the durations stored with its
 * cached actions, such as one a remote cache served), how many runs were
 * recorded, and its hit rate.
 */
import type { TaskFacts, TaskHistory } from "./input.js";

export interface TaskStats {
  /** Median recorded run time, or null when none is recorded. */
  readonly durationMs: number | null;
  /** Recorded runs that ran, were restored, or failed (skipped ones are not counted). */
  readonly runs: number;
  /** Of a pure task's recorded runs, the share restored from a cache (0..1); null for other kinds or no runs. */
  readonly hitRate: number | null;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >>> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}

export function taskStats(task: TaskFacts, history: TaskHistory | undefined): TaskStats {
  if (history === undefined) return { durationMs: null, runs: 0, hitRate: null };
  const counted = history.runs.filter((run) => run.status !== "skipped");
  const ran = counted.filter((run) => run.status === "ran").map((run) => run.durationMs);
  const hits = counted.filter((run) => run.status === "cached").length;
  return {
    durationMs: median(ran) ?? median(history.actionDurationsMs),
    runs: counted.length,
    hitRate: task.kind !== "pure" || counted.length === 0 ? null : round(hits / counted.length, 3),
  };
}

export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** The stats of every planned task, by name. */
export function allStats(tasks: readonly TaskFacts[], history: ReadonlyMap<string, TaskHistory>): Map<string, TaskStats> {
  return new Map(tasks.map((task) => [task.name, taskStats(task, history.get(task.name))]));
}

/** The sum of the known durations of `names`, and how many have none; null when none is known. */
export function summedMs(names: Iterable<string>, stats: ReadonlyMap<string, TaskStats>): { ms: number | null; unknown: number } {
  let ms: number | null = null;
  let unknown = 0;
  for (const name of names) {
    const duration = stats.get(name)?.durationMs ?? null;
    if (duration === null) unknown++;
    else ms = (ms ?? 0) + duration;
  }
  return { ms, unknown };
}
