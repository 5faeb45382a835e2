/**
 * The critical path: the chain of tasks with the longest summed recorded
 * duration, which no number of cores can shorten. A task without a recorded
 * duration counts 0 and is named in `unknown`; ties (all unknown, on a fresh
 * checkout) go to the chain of more tasks, then to the earlier declared.
 */
import type { TaskFacts } from "./input.js";
import { round, type TaskStats } from "./stats.js";

export interface CriticalPath {
  /** From the first task to run to the last. */
  readonly tasks: readonly string[];
  readonly ms: number;
  /** The summed recorded durations of every planned task. */
  readonly totalWorkMs: number;
  /** totalWorkMs / ms: the most that any number of cores can speed the build up; null when nothing is recorded. */
  readonly speedupBound: number | null;
  /** The non-group tasks on the path with no recorded duration (counted as 0). */
  readonly unknown: readonly string[];
}

export function criticalPath(tasks: readonly TaskFacts[], stats: ReadonlyMap<string, TaskStats>): CriticalPath {
  const best = new Map<string, { ms: number; count: number; via: string | undefined }>();
  let end: string | undefined;
  let totalWorkMs = 0;
  for (const task of tasks) {
    const own = stats.get(task.name)?.durationMs ?? 0;
    totalWorkMs += own;
    let via: string | undefined;
    let ms = 0;
    let count = 0;
    for (const dep of task.deps) {
      const chain = best.get(dep);
      if (chain !== undefined && (chain.ms > ms || (chain.ms === ms && chain.count > count))) ({ ms, count, via } = { ms: chain.ms, count: chain.count, via: dep });
    }
    const here = { ms: ms + own, count: count + 1, via };
    best.set(task.name, here);
    const top = end === undefined ? undefined : best.get(end)!;
    if (top === undefined || here.ms > top.ms || (here.ms === top.ms && here.count > top.count)) end = task.name;
  }
  const chain: string[] = [];
  for (let name = end; name !== undefined; name = best.get(name)!.via) chain.unshift(name);
  const ms = end === undefined ? 0 : best.get(end)!.ms;
  const kinds = new Map(tasks.map((task) => [task.name, task.kind]));
  return {
    tasks: chain,
    ms,
    totalWorkMs,
    speedupBound: ms === 0 ? null : round(totalWorkMs / ms, 2),
    unknown: chain.filter((name) => kinds.get(name) !== "group" && (stats.get(name)?.durationMs ?? null) === null),
  };
}

/**
 * The most that `jobs` cores can speed the build up: a build takes at least
 * its critical path and at least its total work spread over the cores.
 */
export function speedupWithJobs(path: CriticalPath, jobs: number): number | null {
  if (path.ms === 0) return null;
  return round(path.totalWorkMs / Math.max(path.ms, path.totalWorkMs / jobs), 2);
}
