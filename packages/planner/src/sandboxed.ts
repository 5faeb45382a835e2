/**
 * `rbuild --sandbox`: every pure task that does not name its runner runs in
 * the sandbox. Impure tasks (deploys, uploads) keep running in place: their
 * effects are outside the workspace, which is what the sandbox takes away;
 * a task that says `runner: "local"` keeps it. A transform also runs in
 * place: its command edits its dep's outputs where they are, and what it
 * deletes must go from the workspace, which a sandbox's output area (new
 * files moved back) does not do.
 */
import type { Graph, GraphTask } from "./graph.js";

export function sandboxed(graph: Graph): Graph {
  const tasks = new Map<string, GraphTask>();
  for (const [name, task] of graph.tasks) tasks.set(name, task.pure && task.runner === undefined && task.run !== undefined && task.transform === undefined ? { ...task, runner: "sandbox" } : task);
  return { ...graph, tasks };
}
