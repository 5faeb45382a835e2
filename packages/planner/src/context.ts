/**
 * Context: the environment values a task passes to every task below it (its
 * descendants, through `deps`). Pure, over a graph's tasks in topological order.
 *
 * Each task receives the context of each dep: what the dep received, with the
 * dep's own `context` over it (the dep is nearer). When two deps bring one
 * name from different tasks, the nearer wins: the one that depends on the
 * other. From two tasks neither of which depends on the other there is no
 * nearer one, and that is a planning error naming both: which value a task
 * sees must never depend on the order of its deps.
 */
import type { SetupFailure } from "@rbuild/core";
import type { InheritedContext, TaskDef } from "./graph.js";

const NONE: readonly InheritedContext[] = [];

/** What each task of `order` (deps first) receives, by task; clashes go to `failures`. */
export function inheritContext(order: readonly string[], tasks: ReadonlyMap<string, TaskDef>, failures: SetupFailure[]): Map<string, readonly InheritedContext[]> {
  const received = new Map<string, readonly InheritedContext[]>();
  if (!order.some((name) => tasks.get(name)!.context.length > 0)) {
    for (const name of order) received.set(name, NONE);
    return received;
  }
  const reported = new Set<string>();
  for (const name of order) {
    const task = tasks.get(name)!;
    const merged = new Map<string, InheritedContext>();
    for (const dep of task.deps) {
      for (const entry of passedOn(dep, tasks.get(dep)!, received.get(dep)!)) {
        const held = merged.get(entry.name);
        if (held === undefined || held.from === entry.from) merged.set(entry.name, entry);
        else if (dependsOn(tasks, entry.from, held.from)) merged.set(entry.name, entry);
        else if (!dependsOn(tasks, held.from, entry.from)) {
          const pair = [held.from, entry.from].sort();
          const id = `${entry.name}\0${pair[0]}\0${pair[1]}`;
          if (reported.has(id)) continue;
          reported.add(id);
          failures.push({
            reason: "invalid-field",
            task: name,
            field: "context",
            message:
              `would receive ${entry.name} from both "${pair[0]}" and "${pair[1]}", and neither depends on the other, so neither is nearer. ` +
              `Set ${entry.name} in one of them only, or give them different names.`,
            location: task.locate(),
          });
        }
      }
    }
    received.set(name, merged.size === 0 ? NONE : [...merged.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
  }
  return received;
}

/** What `dep` passes on: what it received, with its own context over it. */
function passedOn(name: string, dep: TaskDef, received: readonly InheritedContext[]): readonly InheritedContext[] {
  if (dep.context.length === 0) return received;
  const own = new Set(dep.context.map(([key]) => key));
  return [
    ...received.filter((entry) => !own.has(entry.name)),
    ...dep.context.map(([key, value]) => ({ name: key, from: name, value: typeof value === "string" ? value : undefined })),
  ];
}

/** Whether `task` depends on `other`, directly or through others. */
function dependsOn(tasks: ReadonlyMap<string, TaskDef>, task: string, other: string): boolean {
  const seen = new Set<string>();
  const stack = [...tasks.get(task)!.deps];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (name === other) return true;
    if (seen.has(name)) continue;
    seen.add(name);
    stack.push(...tasks.get(name)!.deps);
  }
  return false;
}
