/**
 * A plan as plain data, for assertions: `expect(graph.tasks["deploy-staging"]).toMatchObject({ deps: ["package"], pure: false })`.
 * Made from the planner's own Graph (plan() in @rbuild/planner): what a test
 * sees is what `rbuild` would build.
 */
import { expandGlobs } from "@rbuild/hash";
import { plan as planGraph, type Graph, type GraphTask } from "@rbuild/planner";
import type { Pipeline } from "./pipeline.js";
import { PipelineError } from "./pipeline-error.js";

/**
 * One task of a {@link PlannedGraph}. What enters its cache key: `command`,
 * `deps` (their outputs), `inputFiles` (their contents), `outputs`, `env` (the
 * values), `keyParts`, `cwd` and the `context` it receives; the rest (its
 * dependents, stage, pool, retries and undo) does not.
 */
export interface PlannedTask {
  readonly name: string;
  /** What it runs: a shell command, a function, or nothing (a group, which only ties its deps together). */
  readonly kind: "command" | "function" | "group";
  /** The shell command, for a `command` task; null otherwise. */
  readonly command: string | null;
  /** False for work on the world (deploys, uploads): never cached, always run, and the only tasks a stub may replace. */
  readonly pure: boolean;
  /** Its deps, by name, as declared (their outputs' digests enter its key). */
  readonly deps: readonly string[];
  /** The tasks of this plan that depend on it. */
  readonly dependents: readonly string[];
  /** Its input globs, relative to the workspace root. */
  readonly inputs: readonly string[];
  /** The workspace files those globs match now: whose contents enter its key. */
  readonly inputFiles: readonly string[];
  /** Its output globs. */
  readonly outputs: readonly string[];
  /** The environment variables it declares (their values enter its key), sorted. */
  readonly env: readonly string[];
  /** Its `keyParts`. */
  readonly keyParts: Readonly<Record<string, string>>;
  /** Where it runs, relative to the workspace root (`""`: the root). */
  readonly cwd: string;
  /**
   * The context values it receives from its ancestors, by name: the task that
   * gives each, and its value (null when computed from that task's outputs).
   */
  readonly context: Readonly<Record<string, { readonly from: string; readonly value: string | null }>>;
  /** The names of the context values it gives its descendants. */
  readonly gives: readonly string[];
  /** Its stage, or null. */
  readonly stage: string | null;
  /** The pool it holds while it runs, or null. */
  readonly pool: { readonly name: string; readonly size: number; readonly shared: boolean } | null;
  /** How many more times it runs when it fails (its `retries`; 0 without). */
  readonly retries: number;
  /** What its `undo` is, or null when it has none. */
  readonly undo: "command" | "function" | null;
}

/** The plan of a build of `targets`: every task they need, each after its deps. */
export interface PlannedGraph {
  readonly targets: readonly string[];
  /** The tasks' names in an order they may run in: every task after its deps. */
  readonly order: readonly string[];
  /** The tasks by name, in `order`. */
  readonly tasks: Readonly<Record<string, PlannedTask>>;
  /** The stages with tasks in this plan, each after the stages it follows: their tasks, and those stages. */
  readonly stages: readonly { readonly name: string; readonly tasks: readonly string[]; readonly after: readonly string[] }[];
}

function plannedTask(root: string, task: GraphTask): PlannedTask {
  return {
    name: task.name,
    kind: task.run === undefined ? "group" : typeof task.run === "string" ? "command" : "function",
    command: typeof task.run === "string" ? task.run : null,
    pure: task.pure,
    deps: task.deps,
    dependents: task.dependents,
    inputs: task.inputs,
    inputFiles: task.inputs.length === 0 ? [] : expandGlobs(root, task.inputs).sort(),
    outputs: task.outputs,
    env: task.env,
    keyParts: Object.fromEntries(task.keyParts),
    cwd: task.cwd,
    context: Object.fromEntries(task.inherited.map(({ name, from, value }) => [name, { from, value: value ?? null }])),
    gives: task.context.map(([name]) => name),
    stage: task.stage ?? null,
    pool: task.pool === undefined ? null : { name: task.pool.name, size: task.pool.size, shared: task.pool.shared },
    retries: task.retry?.retries ?? 0,
    undo: task.undo === undefined ? null : typeof task.undo === "string" ? "command" : "function",
  };
}

/** The planner's graph of `targets`; throws a {@link PipelineError} (unknown target, cycle) when there is none. */
export function graphOf(pipeline: Pipeline, targets: string | readonly string[]): Graph {
  const planned = planGraph(pipeline.definitions(), typeof targets === "string" ? [targets] : targets);
  if (!planned.ok) throw new PipelineError(planned.error, process.cwd());
  return planned.value;
}

/**
 * Plans a build of `targets` (a task name or several) as `rbuild <targets>`
 * would, and returns it as data to assert on. Throws a {@link PipelineError}
 * for an unknown target (with a suggestion) or a dependency cycle.
 *
 * ```ts
 * const graph = plan(await loadBuildfile("."), "promote");
 * expect(graph.order).toEqual(["build", "test", "package", "deploy-staging", "smoke-staging", "promote"]);
 * expect(graph.tasks.promote.pure).toBe(false);
 * ```
 */
export function plan(pipeline: Pipeline, targets: string | readonly string[]): PlannedGraph {
  const graph = graphOf(pipeline, targets);
  const tasks: Record<string, PlannedTask> = {};
  for (const task of graph.tasks.values()) tasks[task.name] = plannedTask(graph.root, task);
  const stages = graph.stages.map(({ name, tasks: names, after }) => ({ name, tasks: names, after }));
  return { targets: graph.targets, order: [...graph.tasks.keys()], tasks, stages };
}
