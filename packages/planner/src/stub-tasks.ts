/**
 * Stubs: a planned graph in which chosen impure tasks run a stand-in instead
 * of their own `run` (`rbuild deploy --stub deploy-prod='echo deployed'`, and
 * rbuild/testing's `stubs`), so a pipeline that touches the world can be run
 * end to end without touching it.
 *
 * Only impure tasks may be stubbed. An impure task is never cached and has no
 * freshness entry, so a stand-in's result is never handed to a later build as
 * the real one; a pure task's result is stored under its key, so it is refused
 * (see the `stub-refused` failure). A stubbed task keeps its retries and its
 * pool, but not its undo: that compensates for its own run, which the stub
 * replaced. Pure, like plan(): it only returns a new graph.
 */
import { err, ok, type RunFunction, type Result, type SetupFailure } from "@rbuild/core";
import type { Definitions, Graph, GraphTask } from "./graph.js";
import { suggest } from "./suggest.js";

/** What a stubbed task runs instead: a shell command, a function, or `null` for a no-op that succeeds. */
export type Stub = string | RunFunction | null;

/** Succeeds at once: the stand-in of `--stub <task>` without a command. */
const noOp: RunFunction = () => {};

/**
 * `graph` (planned from `defs`) with each task named in `stubs` running its
 * stub: every name must be an impure task with a `run` in this graph; all
 * problems are returned at once.
 */
export function stubTasks(defs: Definitions, graph: Graph, stubs: ReadonlyMap<string, Stub>): Result<Graph, SetupFailure[]> {
  if (stubs.size === 0) return ok(graph);
  const names = [...defs.tasks.keys()];
  const problems: SetupFailure[] = [];
  for (const name of stubs.keys()) {
    const task = graph.tasks.get(name);
    if (task === undefined) {
      if (defs.tasks.has(name)) problems.push({ reason: "stub-refused", task: name, why: "not-in-build", targets: [...graph.targets] });
      else problems.push({ reason: "unknown-stub", name, suggestions: suggest(name, names) });
    } else if (task.run === undefined) problems.push({ reason: "stub-refused", task: name, why: "group", targets: [...graph.targets] });
    else if (task.pure) problems.push({ reason: "stub-refused", task: name, why: "pure", targets: [...graph.targets] });
  }
  if (problems.length > 0) return err(problems);
  const tasks = new Map<string, GraphTask>();
  for (const [name, task] of graph.tasks) {
    const stub = stubs.get(name);
    // Its undo compensates for its own run, which did not happen: a failed build has nothing of it to undo.
    tasks.set(name, stub === undefined ? task : { ...task, run: stub ?? noOp, undo: undefined, stubbed: true });
  }
  return ok({ ...graph, tasks });
}
