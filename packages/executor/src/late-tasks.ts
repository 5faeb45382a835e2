/**
 * The tasks that can wait: known without running (up to date, or a group)
 * and not needed by any task that has work to do. A one-file build learns
 * that some 950 of 1,000 tasks are up to date; handled in priority order,
 * the 400 or so of them in the levels above the edited task came before
 * its command could start (12-30 ms of bookkeeping on the critical path).
 * Only the known tasks its deps reach are needed first; the rest are
 * recorded while commands run (see Build.#late). With none known up to date,
 * nothing is late.
 */
import type { Graph, GraphTask } from "@rbuild/planner";

export function lateTasks(graph: Graph, upToDate: ReadonlyMap<string, unknown> | undefined): ReadonlySet<string> {
  const late = new Set<string>();
  if (upToDate === undefined || upToDate.size === 0) return late;
  const tasks = graph.tasks;
  const known = (task: GraphTask): boolean => task.run === undefined || upToDate.has(task.name);
  const needed = new Set<string>();
  const stack: GraphTask[] = [];
  for (const task of tasks.values()) {
    if (known(task)) continue;
    for (const dep of task.deps) stack.push(tasks.get(dep)!);
    while (stack.length > 0) {
      const dep = stack.pop()!;
      if (!known(dep) || needed.has(dep.name)) continue; // Work is walked from its own turn of the outer loop.
      needed.add(dep.name);
      for (const next of dep.deps) stack.push(tasks.get(next)!);
    }
  }
  for (const task of tasks.values()) if (known(task) && !needed.has(task.name)) late.add(task.name);
  return late;
}
