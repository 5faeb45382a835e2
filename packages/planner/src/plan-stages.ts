/**
 * Stages in planning (see @rbuild/core stage.ts). Pure.
 *
 * - A target may name a stage: it stands for the stage's tasks.
 * - A stage's tasks wait for every task of the stages it follows, so a build
 *   that has a task of a stage has the tasks of the stages it follows
 *   (transitively) too: they are pulled in.
 * - The order of stages is a constraint on starting, not a dependency: it is
 *   not part of any key. With deps it may make a circle (a task of an earlier
 *   stage depending on one of a later stage), which could never start: that
 *   is a planning error.
 */
import { err, ok, type Result, type SetupFailure } from "@rbuild/core";
import type { Definitions, GraphStage } from "./graph.js";

/** The targets with each stage name replaced by the stage's tasks. */
export function expandStageTargets(defs: Definitions, targets: readonly string[]): string[] {
  if (defs.stages.size === 0) return [...targets];
  return targets.flatMap((target) => (defs.tasks.has(target) ? [target] : (defs.stages.get(target)?.tasks ?? [target])));
}

/** The stage each task belongs to. */
export function stageOfTask(defs: Definitions): Map<string, string> {
  const stageOf = new Map<string, string>();
  for (const stage of defs.stages.values()) for (const task of stage.tasks) stageOf.set(task, stage.name);
  return stageOf;
}

/** The tasks of the stages that the stages of `tasks` follow, transitively, that are not in `tasks`. */
export function pulledByStages(defs: Definitions, stageOf: ReadonlyMap<string, string>, tasks: readonly string[]): string[] {
  const have = new Set(tasks);
  const seen = new Set<string>();
  const stack: string[] = [];
  for (const task of tasks) {
    const stage = stageOf.get(task);
    if (stage !== undefined) stack.push(...defs.stages.get(stage)!.after);
  }
  const pulled: string[] = [];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const stage = defs.stages.get(name)!;
    for (const task of stage.tasks) if (!have.has(task)) pulled.push(task);
    stack.push(...stage.after);
  }
  return pulled;
}

/** The stages with tasks in `order` (a build's tasks), each after the stages it follows, with its tasks in `order`'s order. */
export function graphStages(defs: Definitions, stageOf: ReadonlyMap<string, string>, order: readonly string[]): GraphStage[] {
  const members = new Map<string, string[]>();
  for (const task of order) {
    const stage = stageOf.get(task);
    if (stage === undefined) continue;
    const list = members.get(stage);
    if (list === undefined) members.set(stage, [task]);
    else list.push(task);
  }
  // A stage without tasks here (declared empty) completes at once: what follows it follows what it follows.
  const nearestWithTasks = (after: readonly string[], seen = new Set<string>()): string[] => {
    const found: string[] = [];
    for (const other of after) {
      if (seen.has(other)) continue;
      seen.add(other);
      if (members.has(other)) found.push(other);
      else found.push(...nearestWithTasks(defs.stages.get(other)!.after, seen));
    }
    return found;
  };
  const stages: GraphStage[] = [];
  const placed = new Set<string>();
  const place = (name: string): void => {
    if (placed.has(name) || !members.has(name)) return;
    placed.add(name);
    const def = defs.stages.get(name)!;
    for (const other of def.after) place(other);
    stages.push({ name, tasks: members.get(name)!, after: nearestWithTasks(def.after) });
  };
  for (const name of defs.stages.keys()) place(name);
  return stages;
}

/**
 * `order` (a build's tasks, deps first) put in the order of its stages too:
 * each task after its deps and after every task of the stages its stage
 * follows. Or, when deps and stages make a circle that no task of it could
 * ever start in, a failure naming it: a task waits for its deps, and a task
 * of a stage for every task of the stages it follows.
 */
export function stageOrder(defs: Definitions, stages: readonly GraphStage[], stageOf: ReadonlyMap<string, string>, order: readonly string[]): Result<string[], SetupFailure> {
  if (stages.length === 0) return ok([...order]);
  const sorted: string[] = [];
  const byName = new Map(stages.map((stage) => [stage.name, stage]));
  // Nodes: task names, and `\0stage` for "every task of stage is done".
  const next = (node: string): readonly string[] => {
    if (node.startsWith("\0")) return byName.get(node.slice(1))!.tasks;
    const stage = stageOf.get(node);
    const after = stage === undefined ? [] : (byName.get(stage)?.after ?? []).map((other) => `\0${other}`);
    return [...defs.tasks.get(node)!.deps, ...after];
  };
  const done = new Set<string>();
  const onPath = new Map<string, number>();
  const path: string[] = [];
  for (const start of order) {
    if (done.has(start)) continue;
    const stack: [string, number][] = [[start, 0]];
    onPath.set(start, 0);
    path.push(start);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const edges = next(frame[0]);
      if (frame[1] === edges.length) {
        stack.pop();
        path.pop();
        onPath.delete(frame[0]);
        done.add(frame[0]);
        if (!frame[0].startsWith("\0")) sorted.push(frame[0]);
        continue;
      }
      const to = edges[frame[1]++]!;
      if (done.has(to)) continue;
      const at = onPath.get(to);
      if (at !== undefined) {
        const circle = [...path.slice(at), to].map((node) => (node.startsWith("\0") ? `(every task of stage "${node.slice(1)}")` : node));
        const stage = path.slice(at).find((node) => node.startsWith("\0"))?.slice(1) ?? stages[0]!.name;
        return err({
          reason: "invalid-stage",
          stage,
          message:
            `its tasks can never start: ${circle.join(" -> ")} wait for each other in a circle (a task waits for its deps, and a task of a stage for every task of the stages it follows). ` +
            "Remove one of these deps, or change the stages' `after`.",
          location: defs.stages.get(stage)?.locate(),
        });
      }
      onPath.set(to, path.length);
      path.push(to);
      stack.push([to, 0]);
    }
  }
  return ok(sorted);
}
