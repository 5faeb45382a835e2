/**
 * `rbuild run <task> --only`: every task but the targets must come from the
 * cache and never runs. A pure task not in the cache, or an impure one (never
 * cached), fails with `not-cached`, naming it and the targets, and what needs
 * it is skipped as after any failure.
 */
import type { TaskFailure } from "@rbuild/core";
import type { Graph, GraphTask } from "@rbuild/planner";
import { result, type Done } from "./task-done.js";

/** A task `--only` needs from the cache that is not there: failed, and never run. */
export function notCached(graph: Graph, cachedOnly: ReadonlySet<string>, task: GraphTask, why: "missing" | "impure", remote: boolean): Done {
  const targets = [...graph.tasks.keys()].filter((name) => !cachedOnly.has(name));
  const failure: TaskFailure = { reason: "not-cached", task: task.name, targets, why, remote };
  return { result: result(task.name, "failed", { reasons: [], failure }) };
}

/**
 * Whether a task that must come from the cache cannot, before any lookup: an
 * impure task, or a build with no store or one that looks nothing up (`--force`).
 */
export function cannotComeFromCache(task: GraphTask, cache: { readonly force: boolean } | undefined): "missing" | "impure" | undefined {
  if (!task.pure) return "impure";
  return cache === undefined || cache.force ? "missing" : undefined;
}
