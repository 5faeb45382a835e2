/**
 * Planning: from the requested targets to the immutable `Graph` of one build.
 * Pure: no file system, no processes, no clock. Like ninja's Plan, it only
 * decides what belongs to the build and in which order it may run.
 */
import { err, ok, type Result, type SetupFailure } from "@rbuild/core";
import { closure } from "./closure.js";
import type { Definitions, Graph, GraphTask } from "./graph.js";
import { suggest } from "./suggest.js";

/** Plans a build of `targets` (task names) and everything they depend on. */
export function plan(defs: Definitions, targets: readonly string[]): Result<Graph, SetupFailure[]> {
  const unknown: SetupFailure[] = [];
  for (const target of targets) {
    if (!defs.tasks.has(target)) {
      unknown.push({ reason: "unknown-target", name: target, suggestions: suggest(target, defs.tasks.keys()) });
    }
  }
  if (unknown.length > 0) return err(unknown);

  const unique = [...new Set(targets)];
  const order = closure(defs, unique);
  if (!order.ok) return err([order.error]);

  const dependents = new Map<string, string[]>(order.value.map((name) => [name, []]));
  for (const name of order.value) {
    for (const dep of defs.tasks.get(name)!.deps) dependents.get(dep)!.push(name);
  }
  // Walk dependents before their deps, so each task's priority is final when read.
  const priority = new Map<string, number>();
  for (let i = order.value.length - 1; i >= 0; i--) {
    const name = order.value[i]!;
    let longest = 0;
    for (const next of dependents.get(name)!) longest = Math.max(longest, priority.get(next)!);
    priority.set(name, longest + 1);
  }

  const tasks = new Map<string, GraphTask>();
  for (const name of order.value) {
    const def = defs.tasks.get(name)!;
    // Spelled out rather than spread: a spread copies far slower, and plans can hold many thousands of tasks.
    tasks.set(name, {
      name,
      deps: def.deps,
      inputs: def.inputs,
      outputs: def.outputs,
      env: def.env,
      run: def.run,
      pure: def.pure,
      cwd: def.cwd,
      keyParts: def.keyParts,
      keyPartsFrom: def.keyPartsFrom,
      runner: def.runner,
      network: def.network,
      retry: def.retry,
      undo: def.undo,
      pool: def.pool,
      locate: def.locate,
      dependents: dependents.get(name)!,
      priority: priority.get(name)!,
    });
  }
  return ok({ root: defs.root, sourceDigest: defs.sourceDigest, targets: unique, tasks });
}
