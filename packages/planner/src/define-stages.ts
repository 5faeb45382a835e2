/**
 * Validates the declared stages (see @rbuild/core stage.ts) against the
 * tasks: every name known, each task in at most one stage, no stage named
 * like a task (`rbuild <name>` would be ambiguous), and no cycle of `after`.
 * Problems go to `failures`, each naming the stage.
 */
import { isStage, isTask, type SetupFailure, type Stage } from "@rbuild/core";
import { taskNameProblem } from "./define.js";
import type { StageDef, TaskDef } from "./graph.js";
import { suggest } from "./suggest.js";

function nameOf(ref: unknown, is: (value: unknown) => boolean): string | undefined {
  if (typeof ref === "string") return ref;
  return is(ref) ? (ref as { name: string }).name : undefined;
}

export function defineStages(declared: readonly Stage[], tasks: ReadonlyMap<string, TaskDef>, failures: SetupFailure[]): Map<string, StageDef> {
  const stages = new Map<string, StageDef>();
  const stageOf = new Map<string, string>();
  const fail = (stage: Stage, message: string): void => {
    failures.push({ reason: "invalid-stage", stage: typeof stage.name === "string" ? stage.name : "?", message, location: stage.location });
  };
  for (const stage of declared) {
    const { name, options } = stage;
    const problem = typeof name === "string" ? taskNameProblem(name) : "must be a non-empty string";
    if (problem !== undefined) {
      fail(stage, `its name ${problem}`);
      continue;
    }
    if (stages.has(name)) {
      fail(stage, "is declared more than once. Stage names must be unique: rename one of them.");
      continue;
    }
    if (tasks.has(name)) {
      fail(stage, `has the name of a task, so \`rbuild ${name}\` could mean either: rename one of them.`);
      continue;
    }
    if (typeof options !== "object" || options === null || !Array.isArray(options.tasks)) {
      fail(stage, "needs `tasks`, an array of tasks or task names: stage(name, { tasks: [...], after?: [...] }).");
      continue;
    }
    const members: string[] = [];
    for (const ref of options.tasks) {
      const task = nameOf(ref, isTask);
      if (task === undefined) fail(stage, "`tasks` must contain tasks or task names.");
      else if (!tasks.has(task)) fail(stage, `names the task "${task}", but no task has that name.${didYouMean(suggest(task, tasks.keys()))}`);
      else if (stageOf.has(task) && stageOf.get(task) !== name) fail(stage, `names the task "${task}", which is in the stage "${stageOf.get(task)}" already: a task belongs to one stage at most.`);
      else if (!members.includes(task)) {
        members.push(task);
        stageOf.set(task, name);
      }
    }
    const after: string[] = [];
    if (options.after !== undefined && !Array.isArray(options.after)) fail(stage, "`after` must be an array of stages or stage names.");
    for (const ref of options.after ?? []) {
      const other = nameOf(ref, isStage);
      if (other === undefined) fail(stage, "`after` must contain stages or stage names.");
      else if (!after.includes(other)) after.push(other);
    }
    stages.set(name, { name, tasks: members, after, locate: () => stage.location });
  }
  for (const stage of stages.values()) {
    for (const other of stage.after) {
      if (!stages.has(other)) {
        failures.push({ reason: "invalid-stage", stage: stage.name, message: `follows the stage "${other}", but no stage has that name.${didYouMean(suggest(other, stages.keys()))}`, location: stage.locate() });
      }
    }
  }
  const cycle = stageCycle(stages);
  if (cycle !== undefined) {
    failures.push({
      reason: "invalid-stage",
      stage: cycle[0]!,
      message: `Stage cycle: ${cycle.join(" -> ")} (each follows the next through \`after\`). A stage cannot follow itself, directly or through others; remove one of these.`,
      location: stages.get(cycle[0]!)!.locate(),
    });
  }
  return stages;
}

function didYouMean(suggestions: readonly string[]): string {
  return suggestions.length === 0 ? "" : ` Did you mean ${suggestions.map((s) => `"${s}"`).join(" or ")}?`;
}

/** The first cycle of `after` found, as a path that ends where it starts. */
function stageCycle(stages: ReadonlyMap<string, StageDef>): string[] | undefined {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (name: string): string[] | undefined => {
    const at = path.indexOf(name);
    if (at >= 0) return [...path.slice(at), name];
    if (done.has(name) || !stages.has(name)) return undefined;
    path.push(name);
    for (const other of stages.get(name)!.after) {
      const found = visit(other);
      if (found !== undefined) return found;
    }
    path.pop();
    done.add(name);
    return undefined;
  };
  for (const name of stages.keys()) {
    const found = visit(name);
    if (found !== undefined) return found;
  }
  return undefined;
}
