/**
 * A transform (`transform: dep`) changes its dep's files in place, in the
 * workspace. Another task of the same build that reads that dep's outputs
 * would read them as the scheduling has them: the dep's, the transform's, or
 * half of each while the transform runs, while its key says the dep's. So a
 * task that depends on a dep whose transform is in the build must come after
 * that transform (depend on it, directly or through others): then it reads the
 * transform's files, which its key holds through the transform's outputs.
 * Built without the transform, it reads the dep's own files, restored.
 */
import type { SetupFailure } from "@rbuild/core";
import type { TaskDef } from "./graph.js";

/** The planning errors of the tasks in `order` (topological, deps first) that read a dep its transform changes in this build. */
export function transformReaders(order: readonly string[], tasks: ReadonlyMap<string, TaskDef>): SetupFailure[] {
  const transformsOf = new Map<string, string[]>();
  for (const name of order) {
    const base = tasks.get(name)!.transform;
    if (base !== undefined) transformsOf.set(base, [...(transformsOf.get(base) ?? []), name]);
  }
  if (transformsOf.size === 0) return [];
  const failures: SetupFailure[] = [];
  for (const name of order) {
    const def = tasks.get(name)!;
    for (const dep of def.deps) {
      const transform = transformsOf.get(dep)?.find((t) => t !== name && !reaches(name, t, tasks));
      if (transform === undefined) continue;
      failures.push({
        reason: "invalid-field",
        task: name,
        field: "deps",
        message:
          `names ${JSON.stringify(dep)}, whose files its transform ${JSON.stringify(transform)} changes in place in this build: ${JSON.stringify(name)} could read either's version of them. ` +
          `Depend on ${JSON.stringify(transform)} instead (its outputs hold ${JSON.stringify(dep)}'s as it leaves them), or build ${JSON.stringify(name)} without ${JSON.stringify(transform)}`,
        location: def.locate(),
      });
    }
  }
  return failures;
}

/** Whether `from` depends on `to`, directly or through others. */
function reaches(from: string, to: string, tasks: ReadonlyMap<string, TaskDef>): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const name = stack.pop()!;
    for (const dep of tasks.get(name)?.deps ?? []) {
      if (dep === to) return true;
      if (!seen.has(dep)) {
        seen.add(dep);
        stack.push(dep);
      }
    }
  }
  return false;
}
