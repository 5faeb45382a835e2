/** Walks up the graph from a task: what a run elsewhere needs to know of the tasks it depends on. */
import type { Graph, GraphTask } from "@rbuild/planner";

/** Every task `task` depends on, directly or not. */
export function upstream(graph: Graph, task: GraphTask): GraphTask[] {
  const seen = new Map<string, GraphTask>();
  const stack = [...task.deps];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name)) continue;
    const dep = graph.tasks.get(name)!;
    seen.set(name, dep);
    stack.push(...dep.deps);
  }
  return [...seen.values()];
}

/** The output globs of the tasks `task` depends on, through groups. */
export function depOutputs(graph: Graph, task: GraphTask): string[] {
  const globs: string[] = [];
  const seen = new Set<string>();
  const stack = [...task.deps];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const dep = graph.tasks.get(name)!;
    globs.push(...dep.outputs);
    if (dep.run === undefined) stack.push(...dep.deps);
  }
  return globs;
}
