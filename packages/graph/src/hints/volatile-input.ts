/**
 * `volatile-input` (warning): an input file that changed in most of a pure
 * task's recent recorded runs (at least VOLATILE_CHANGES of the last
 * VOLATILE_WINDOW), so the task almost never comes from the cache. The index
 * records, per run, the inputs that changed since the task's previous key
 * (@rbuild/store `run_evidence`); a run with none recorded (found up to date,
 * or from before the index kept them) counts as one in which nothing changed.
 * A file the task no longer reads is no alarm; files that change in the same
 * tasks' runs make one hint, the one that changed most first.
 */
import { showMs } from "../duration.js";
import { q, quoteList, type Hint, type HintRule } from "../hint.js";
import { allStats, summedMs } from "../stats.js";

/** How many of the most recent runs are looked at. */
export const VOLATILE_WINDOW = 5;
/** In how many of them a file must have changed. */
export const VOLATILE_CHANGES = 4;

interface Volatile {
  readonly task: string;
  readonly changed: number;
  readonly runs: number;
}

export const volatileInput: HintRule = (input) => {
  const stats = allStats(input.tasks, input.history);
  // By path: each task in which it is volatile.
  const byPath = new Map<string, Volatile[]>();
  for (const task of input.tasks) {
    if (task.kind !== "pure") continue;
    const window = (input.history.get(task.name)?.runs ?? []).filter((run) => run.status !== "skipped").slice(0, VOLATILE_WINDOW);
    if (window.length < VOLATILE_WINDOW) continue;
    const reads = new Set(input.inputFiles.get(task.name) ?? []);
    const counts = new Map<string, number>();
    for (const run of window) for (const path of new Set(run.changedInputs)) counts.set(path, (counts.get(path) ?? 0) + 1);
    for (const [path, changed] of counts) {
      if (changed < VOLATILE_CHANGES || !reads.has(path)) continue;
      let found = byPath.get(path);
      if (found === undefined) byPath.set(path, (found = []));
      found.push({ task: task.name, changed, runs: window.length });
    }
  }
  const hints: Hint[] = [];
  for (const [path, tasks] of [...byPath].sort(([a], [b]) => (a < b ? -1 : 1))) {
    tasks.sort((a, b) => b.changed - a.changed || (a.task < b.task ? -1 : 1));
    const names = tasks.map((t) => t.task);
    const first = tasks[0]!;
    const time = summedMs(names, stats);
    const rest = tasks.slice(1, 3).map((t) => `, ${t.changed} of ${t.runs} of ${q(t.task)}`).join("");
    const others = rest + (tasks.length > 3 ? ` and of ${tasks.length - 3} more tasks` : "");
    hints.push({
      code: "volatile-input",
      severity: "warning",
      tasks: names,
      message: `${path} changed in ${first.changed} of the last ${first.runs} recorded runs of ${q(first.task)}${others}: a task whose input changes every build almost never comes from the cache${time.ms === null ? "" : `, and reruns for ${showMs(time.ms)} each time`}`,
      evidence: { path, tasks: tasks.map((t) => ({ task: t.task, changed: t.changed, runs: t.runs, rate: t.changed / t.runs })), ms: time.ms, unknownDurations: time.unknown },
      savingMs: time.ms,
      fix: `stop ${path} from changing in every build (a timestamp or build number written into it?), or take it out of the inputs of ${quoteList(names, Infinity)} with "!${path}" if they do not need it`,
    });
  }
  return hints;
};
