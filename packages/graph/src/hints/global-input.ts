/**
 * `global-input` (info): a file that is an input of many tasks (at least
 * GLOBAL_MIN_TASKS, and at least a quarter of the tasks that run something):
 * one edit of it reruns them all. Files shared by exactly the same tasks
 * (a base package's sources that every dependent keys on) make one hint.
 * savingMs is the tasks' summed recorded time: what one edit costs.
 */
import { showMs } from "../duration.js";
import type { Hint, HintRule } from "../hint.js";
import { Reach } from "../reach.js";
import { allStats, summedMs } from "../stats.js";

export const GLOBAL_MIN_TASKS = 10;
export const GLOBAL_MIN_SHARE = 0.25;

export const globalInput: HintRule = (input) => {
  const working = input.tasks.filter((task) => task.kind !== "group");
  const readers = new Map<string, string[]>();
  for (const task of working) {
    for (const path of input.inputFiles.get(task.name) ?? []) {
      const list = readers.get(path);
      if (list === undefined) readers.set(path, [task.name]);
      else list.push(task.name);
    }
  }
  const threshold = Math.max(GLOBAL_MIN_TASKS, Math.ceil(working.length * GLOBAL_MIN_SHARE));
  const groups = new Map<string, { files: string[]; tasks: string[] }>();
  for (const [path, tasks] of readers) {
    if (tasks.length < threshold) continue;
    const id = tasks.join("\0");
    const group = groups.get(id);
    if (group === undefined) groups.set(id, { files: [path], tasks });
    else group.files.push(path);
  }
  if (groups.size === 0) return [];
  const stats = allStats(input.tasks, input.history);
  const reach = new Reach(input.tasks);
  const kinds = new Map(input.tasks.map((task) => [task.name, task.kind]));
  return [...groups.values()].map(({ files, tasks }): Hint => {
    const cost = summedMs(tasks, stats);
    const direct = new Set(tasks);
    const downstream = new Set(tasks.flatMap((name) => reach.dependentsOf(name)).filter((name) => !direct.has(name) && kinds.get(name) !== "group"));
    const named = files.length === 1 ? files[0]! : `${files[0]} (and ${files.length - 1} more file${files.length > 2 ? "s" : ""} read by the same tasks)`;
    return {
      code: "global-input",
      severity: "info",
      tasks,
      message: `${named} is an input of ${tasks.length} of ${working.length} tasks: one edit reruns them all${cost.ms === null ? "" : `, ${showMs(cost.ms)} of recorded work${cost.unknown > 0 ? ` (${cost.unknown} with no recorded time)` : ""}`}${downstream.size > 0 ? `, and up to ${downstream.size} more downstream` : ""}`,
      evidence: { files: files.slice(0, 20), fileCount: files.length, tasks: tasks.length, of: working.length, summedMs: cost.ms, unknownDurations: cost.unknown, downstream: downstream.size },
      savingMs: cost.ms,
      fix: `remove ${files.length === 1 ? JSON.stringify(files[0]) : "these files"} from the inputs of the tasks that do not read ${files.length === 1 ? "it" : "them"}, or split ${files.length === 1 ? "it" : "them"} so that an edit reaches fewer tasks`,
    };
  });
};
