/**
 * An error a task function's code threw after the task had finished (a timer
 * it did not await, a promise nobody awaited): the task's result was wrong, so
 * the build fails it, as the failure of that task, before the build is
 * reported. Errors are routed here by StrayErrors.whileBuilding.
 */
import { locationFromStack, type TaskFailure } from "@rbuild/core";
import type { Graph } from "@rbuild/planner";

/**
 * The task a stray error's owner label names, if it is one of the graph's. The
 * label is the one the local runner gives a task function's owner: `task "<name>"`.
 */
export function taskOfLabel(graph: Graph, label: string): string | undefined {
  const name = /^task "(.*)"$/s.exec(label)?.[1];
  return name !== undefined && graph.tasks.has(name) ? name : undefined;
}

/** The failure of `task` for an error its code threw after it had finished. */
export function lateFailure(task: string, error: unknown): TaskFailure {
  const message = error instanceof Error ? error.message : `threw ${String(error)}`;
  const location = error instanceof Error ? locationFromStack(error) : undefined;
  return {
    reason: "run-threw",
    task,
    message: `${message} (thrown after the task had finished, by work it did not await; await the work it starts)`,
    ...(location === undefined ? {} : { location }),
  };
}
