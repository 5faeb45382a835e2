/**
 * `critical-path` (info): the chain no number of cores can shorten, its
 * recorded length against the total work, and the bound on speed-up with
 * unlimited cores and with `-j` cores (see critical-path.ts).
 */
import { criticalPath, speedupWithJobs } from "../critical-path.js";
import { showMs } from "../duration.js";
import { q, type HintRule } from "../hint.js";
import { allStats } from "../stats.js";

export const criticalPathHint: HintRule = (input) => {
  const stats = allStats(input.tasks, input.history);
  const path = criticalPath(input.tasks, stats);
  const kinds = new Map(input.tasks.map((task) => [task.name, task.kind]));
  const working = path.tasks.filter((name) => kinds.get(name) !== "group");
  if (working.length === 0) return [];
  const withJobs = speedupWithJobs(path, input.jobs);
  let longest: { task: string; ms: number } | undefined;
  for (const name of working) {
    const ms = stats.get(name)?.durationMs ?? null;
    if (ms !== null && (longest === undefined || ms > longest.ms)) longest = { task: name, ms };
  }
  const unknown = path.unknown.length > 0 ? ` (${path.unknown.length} of its tasks have no recorded time and count 0)` : "";
  const message =
    path.ms === 0
      ? `the longest chain is ${path.tasks.length} task${path.tasks.length === 1 ? "" : "s"}, with no recorded durations yet: build once to measure it`
      : `the critical path is ${path.tasks.length} task${path.tasks.length === 1 ? "" : "s"} taking ${showMs(path.ms)} of ${showMs(path.totalWorkMs)} total work${unknown}: no number of cores makes the build more than ${path.speedupBound}x faster than one core, and -j ${input.jobs} at most ${withJobs}x`;
  return [
    {
      code: "critical-path",
      severity: "info",
      tasks: path.tasks,
      message,
      evidence: {
        tasks: path.tasks,
        ms: path.ms,
        totalWorkMs: path.totalWorkMs,
        speedupBound: path.speedupBound,
        jobs: input.jobs,
        speedupBoundWithJobs: withJobs,
        unknown: path.unknown,
        longest: longest ?? null,
      },
      savingMs: null,
      fix:
        longest === undefined
          ? "run a build, then `rbuild graph` again to see where the time goes"
          : `to make the build faster, make ${q(longest.task)} (${showMs(longest.ms)}, the longest task on the path) faster or split it into tasks that can run side by side`,
    },
  ];
};
