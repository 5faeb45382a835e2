/**
 * `serial-bottleneck` (warning): a task on the critical path that most other
 * tasks wait for (more than half of those that run something, and at least
 * BOTTLENECK_MIN_WAITING), taking at least BOTTLENECK_MIN_SHARE of the
 * critical path and at least BOTTLENECK_MIN_MS, while too little other work
 * can run beside it to keep the `-j` cores busy: for its whole duration the
 * build is as good as serial. And what waits for it must be work that could
 * run side by side (its durations summed at least BOTTLENECK_MIN_PARALLELISM
 * times the rest of the critical path): after a chain's first link the rest
 * of a chain waits too, and splitting the first link would not change that.
 * `savingMs` is how much shorter the critical path would be if the tasks
 * waiting for it did not have to (its duration counted 0): the most that
 * splitting it, or letting its dependents start on what they need of it,
 * can give. Durations are the recorded ones (stats.ts).
 */
import { criticalPath } from "../critical-path.js";
import { showMs } from "../duration.js";
import { q, type Hint, type HintRule } from "../hint.js";
import { Reach } from "../reach.js";
import { allStats, round, type TaskStats } from "../stats.js";

/** At least this many tasks must wait for it. */
export const BOTTLENECK_MIN_WAITING = 3;
/** It must take at least this share of the critical path. */
export const BOTTLENECK_MIN_SHARE = 0.25;
/** Nor is a task shorter than this worth splitting (a package manager's own start-up is half a second). */
export const BOTTLENECK_MIN_MS = 1000;
/** The work waiting for it, against the rest of the critical path: below this it is a chain. */
export const BOTTLENECK_MIN_PARALLELISM = 1.5;

export const serialBottleneck: HintRule = (input) => {
  const stats = allStats(input.tasks, input.history);
  const path = criticalPath(input.tasks, stats);
  if (path.ms === 0) return [];
  const working = input.tasks.filter((task) => task.kind !== "group").map((task) => task.name);
  const others = working.length - 1;
  const reach = new Reach(input.tasks);
  const hints: Hint[] = [];
  for (const name of path.tasks) {
    const ms = stats.get(name)?.durationMs ?? null;
    if (ms === null || ms === 0 || input.tasks.find((task) => task.name === name)?.kind === "group") continue;
    const share = ms / path.ms;
    const waiting = working.filter((other) => reach.dependsOn(other, name));
    if (ms < BOTTLENECK_MIN_MS || share < BOTTLENECK_MIN_SHARE || waiting.length < BOTTLENECK_MIN_WAITING || waiting.length * 2 <= others) continue;
    const waitingMs = waiting.reduce((sum, other) => sum + (stats.get(other)?.durationMs ?? 0), 0);
    if (waitingMs < BOTTLENECK_MIN_PARALLELISM * (path.ms - ms)) continue; // A chain: the rest would wait in line anyway.
    // Work that can run beside it: neither its deps nor waiting for it.
    const beside = working.filter((other) => other !== name && !reach.dependsOn(other, name) && !reach.dependsOn(name, other));
    const besideMs = beside.reduce((sum, other) => sum + (stats.get(other)?.durationMs ?? 0), 0);
    const idle = Math.max(0, ms * (input.jobs - 1) - besideMs);
    if (input.jobs > 1 && idle < ms / 2) continue; // The other cores are mostly busy meanwhile.
    const without = new Map<string, TaskStats>(stats);
    without.set(name, { ...stats.get(name)!, durationMs: 0 });
    const saving = path.ms - criticalPath(input.tasks, without).ms;
    const percent = Math.round(share * 100);
    hints.push({
      code: "serial-bottleneck",
      severity: "warning",
      tasks: [name],
      message: `${q(name)} takes ${showMs(ms)}, ${percent}% of the ${showMs(path.ms)} critical path, and ${waiting.length} of the ${others} other tasks wait for it: while it runs, ${showMs(besideMs)} of other work can run beside it on ${input.jobs} cores`,
      evidence: { task: name, ms, criticalPathMs: path.ms, share: round(share, 3), waiting: waiting.length, tasks: others, besideMs, jobs: input.jobs, idleCoreMs: idle },
      savingMs: saving,
      fix: `split ${q(name)} into smaller tasks that its dependents can start after one by one (each depending on the part it needs), or make it faster: everything after it waits for all of it`,
    });
  }
  return hints;
};
