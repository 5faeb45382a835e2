/**
 * Outputs a transform took over (issue 27.3). A transform (`transform: dep`)
 * starts from its dep's outputs and rewrites or deletes some of them in
 * place, so after a build of the chain the dep's output stats are not as it
 * stored them: its entry could never hold, and each build restored every dep
 * only for its transform to change the same files again.
 *
 * Instead, when a build ends with trusted entries for both, the dep's entry
 * keeps the stats of the outputs still as it left them and names the
 * transform and the paths it took over (`covered`, fresh-entry.ts
 * trustedEntry). Those paths are all within the transform's outputs (its
 * globs must match each of the dep's outputs), so the transform's entry
 * vouches for them: a path it kept or changed is one of its outputs, with its
 * stats; one it deleted is gone from its manifest.
 *
 * So a dep's covered entry holds only in a graph where the transform that
 * took its outputs over is that task's transform and is fresh too: the
 * reverse pass of `settle`. A dep built without it (its graph does not hold
 * the transform, or the transform is not fresh) is restored, and its
 * restore first removes what its outputs match beyond its manifest (what the
 * transform added), so the workspace holds the dep's own files again.
 */
import type { GraphTask } from "@rbuild/planner";

/**
 * Removes from `fresh` each task whose covering transform (`coveredBy`) is
 * not the task's transform in `tasks` and in `fresh` too, and each task with
 * a dep no longer fresh (a group is fresh when its deps are), until nothing
 * changes: a chain's last step not fresh takes every step before it out, and
 * each of those takes out what depends on it. Returns whether it removed any.
 */
export function settle(tasks: ReadonlyMap<string, GraphTask>, fresh: Map<string, { readonly coveredBy?: string }>): boolean {
  let removedAny = false;
  const order = [...tasks.values()];
  for (;;) {
    let removed = false;
    // Graph order: what depends on a task not fresh is not fresh either.
    const present = new Set<string>();
    for (const task of order) {
      const depsPresent = task.deps.every((dep) => present.has(dep));
      if (task.run === undefined) {
        if (depsPresent) present.add(task.name);
      } else if (fresh.has(task.name)) {
        if (depsPresent) present.add(task.name);
        else {
          fresh.delete(task.name);
          removed = true;
        }
      }
    }
    // Reverse graph order: a transform comes after its dep, so a whole chain goes in one pass.
    for (let i = order.length - 1; i >= 0; i--) {
      const task = order[i]!;
      const by = fresh.get(task.name)?.coveredBy;
      if (by === undefined || (tasks.get(by)?.transform === task.name && fresh.has(by))) continue;
      fresh.delete(task.name);
      removed = true;
    }
    if (!removed) return removedAny;
    removedAny = true;
  }
}

/** Whether any task of `fresh` has outputs a transform took over: only then is `settle` needed. */
export function anyCovered(fresh: ReadonlyMap<string, { readonly coveredBy?: string }>): boolean {
  for (const entry of fresh.values()) if (entry.coveredBy !== undefined) return true;
  return false;
}
