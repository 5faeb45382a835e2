/**
 * `rbuild --sandbox`: every pure task that does not name its runner runs in
 * the sandbox. Impure tasks (deploys, uploads) keep running in place: their
 * effects are outside the workspace, which is what the sandbox takes away;
 * a task that says `runner: "local"` keeps it. A transform is sandboxed
 * too: its dep's outputs are copied into its output area, and what it
 * changes there is moved back and what it deletes goes from the workspace
 * (sandbox-tree.ts in @rbuild/runners).
 */
import type { Graph, GraphTask } from "./graph.js";

export function sandboxed(graph: Graph): Graph {
  const tasks = new Map<string, GraphTask>();
  for (const [name, task] of graph.tasks) tasks.set(name, task.pure && task.runner === undefined && task.run !== undefined ? { ...task, runner: "sandbox" } : task);
  return { ...graph, tasks };
}
