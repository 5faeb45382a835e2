/**
 * Planning: from the requested targets to the immutable `Graph` of one build.
 * Pure: no file system, no processes, no clock. Like ninja's Plan, it only
 * decides what belongs to the build and in which order it may run.
 */
import { err, ok, type Result, type SetupFailure } from "@rbuild/core";
import { closure } from "./closure.js";
import { inheritContext } from "./context.js";
import { expandStageTargets, graphStages, pulledByStages, stageOfTask, stageOrder } from "./plan-stages.js";
import type { Definitions, Graph, GraphTask } from "./graph.js";
import { suggest } from "./suggest.js";
import { transformReaders } from "./transform-readers.js";

/**
 * Plans a build of `targets` (task or stage names) and everything they depend
 * on, with the tasks of the stages their stages follow (see plan-stages.ts).
 */
export function plan(defs: Definitions, targets: readonly string[]): Result<Graph, SetupFailure[]> {
  const unknown: SetupFailure[] = [];
  for (const target of targets) {
    if (!defs.tasks.has(target) && !defs.stages.has(target)) {
      unknown.push({ reason: "unknown-target", name: target, suggestions: suggest(target, [...defs.tasks.keys(), ...defs.stages.keys()]) });
    }
  }
  if (unknown.length > 0) return err(unknown);

  const unique = [...new Set(targets)];
  const stageOf = stageOfTask(defs);
  let roots = expandStageTargets(defs, unique);
  let order = closure(defs, roots);
  if (!order.ok) return err([order.error]);
  for (let pulled = pulledByStages(defs, stageOf, order.value); pulled.length > 0; pulled = pulledByStages(defs, stageOf, order.value)) {
    roots = [...roots, ...pulled];
    order = closure(defs, roots);
    if (!order.ok) return err([order.error]);
  }
  const stages = graphStages(defs, stageOf, order.value);
  const staged = stageOrder(defs, stages, stageOf, order.value);
  if (!staged.ok) return err([staged.error]);
  order = staged;
  const readers = transformReaders(order.value, defs.tasks);
  if (readers.length > 0) return err(readers);
  const failures: SetupFailure[] = [];
  const inherited = inheritContext(order.value, defs.tasks, failures);
  if (failures.length > 0) return err(failures);

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
      context: def.context,
      incremental: def.incremental,
      cwd: def.cwd,
      keyParts: def.keyParts,
      keyPartsFrom: def.keyPartsFrom,
      runner: def.runner,
      network: def.network,
      retry: def.retry,
      undo: def.undo,
      pool: def.pool,
      transform: def.transform,
      locate: def.locate,
      dependents: dependents.get(name)!,
      priority: priority.get(name)!,
      inherited: inherited.get(name)!,
      stage: stageOf.get(name),
    });
  }
  return ok({ root: defs.root, sourceDigest: defs.sourceDigest, targets: unique, tasks, stages });
}
