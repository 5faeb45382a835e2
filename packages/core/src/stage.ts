/**
 * The Buildfile API's `stage()`: a named group of tasks that runs only after
 * the stages it follows have completed. Like `task()`, it only records what it
 * is given; the planner checks it (unknown tasks or stages, a task in two
 * stages, a cycle of stages) and reports every problem at once.
 */
import { locationFromStack, type SourceLocation } from "./location.js";
import type { Task } from "./task.js";

/** The fields of {@link stage}. */
export interface StageOptions {
  /** The tasks of the stage: task objects, or names. A task belongs to at most one stage. */
  readonly tasks: readonly (Task | string)[];
  /**
   * The stages this one follows: none of its tasks starts before every task of
   * each of them has finished well, and a failure in one of them skips this
   * stage. Building a task of this stage builds the tasks of the stages it
   * follows too. Stage objects, or names.
   */
  readonly after?: readonly (Stage | string)[];
}

const STAGE = Symbol.for("rbuild.stage");

/** A declared stage, as returned by {@link stage}. Pass it in another stage's `after`. */
export interface Stage {
  readonly [STAGE]: true;
  readonly name: string;
  readonly options: StageOptions;
  /** Where `stage()` was called, when it can be known. */
  readonly location: SourceLocation | undefined;
}

export function isStage(value: unknown): value is Stage {
  return typeof value === "object" && value !== null && (value as { [STAGE]?: unknown })[STAGE] === true;
}

/** The stages declared during a load, on `globalThis` for the reason the task registry is (see task.ts). */
const REGISTRY = Symbol.for("rbuild.stages.v1");

/** Starts collecting the stages declared from now on; returns a function that stops and returns them. */
export function collectStages(): () => Stage[] {
  const stages: Stage[] = [];
  const global = globalThis as { [REGISTRY]?: Stage[] };
  const previous = global[REGISTRY];
  global[REGISTRY] = stages;
  return () => {
    global[REGISTRY] = previous;
    return stages;
  };
}

/**
 * Declares a stage: `tasks` start only once every task of the stages in
 * `after` has finished well. The plain output marks where each stage starts
 * (`── stage test ──`), and `rbuild <stage>` builds its tasks.
 *
 * ```ts
 * import { stage, task } from "rbuild";
 * const build = stage("build", { tasks: [compile, bundle] });
 * stage("test", { tasks: [unit, e2e], after: [build] });
 * ```
 */
export function stage(name: string, options: StageOptions): Stage {
  const site = {} as Error;
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 1;
  Error.captureStackTrace(site, stage);
  Error.stackTraceLimit = limit;
  const copy = typeof options === "object" && options !== null ? { ...options } : options;
  let location: SourceLocation | undefined | null = null;
  const created: Stage = {
    [STAGE]: true,
    name,
    options: copy,
    get location() {
      if (location === null) location = locationFromStack(site);
      return location;
    },
  };
  (globalThis as { [REGISTRY]?: Stage[] })[REGISTRY]?.push(created);
  return created;
}
