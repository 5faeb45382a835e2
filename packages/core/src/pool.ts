/**
 * The Buildfile API's `pool()`: a named limit on how many tasks holding it run
 * at once. Like `task()`, it only records what it is given (and where); the
 * planner checks the name and size of each pool a task uses and reports a
 * problem at the pool() call, naming the pool.
 *
 * A pool belongs to the evaluation of the Buildfile that declared it: the
 * daemon evaluates a Buildfile again for each build, and a pool object kept
 * from an earlier one (in a module that outlives it) would limit nothing the
 * tasks of this build share. The planner refuses such a pool (see samePlace).
 */
import { locationFromStack, type SourceLocation } from "./location.js";
import { evaluationToken } from "./task.js";

export interface PoolOptions {
  /** How many tasks holding the pool may run at once: a positive whole number. */
  readonly size: number;
  /**
   * Shared across machines: each holder takes a lease from the `--remote`
   * cache server before it starts, so at most `size` run at once among every
   * build that uses that server. Defaults to false (a limit on this machine only).
   */
  readonly shared?: boolean;
}

const POOL = Symbol.for("rbuild.pool");
/** Where declareTask and pool() keep the evaluation a task or pool was declared in. */
const EVALUATION = Symbol.for("rbuild.evaluation");

/** A declared pool, as returned by {@link pool}. Pass it as a task's `pool`. */
export interface Pool {
  readonly [POOL]: true;
  readonly name: string;
  readonly options: PoolOptions;
  /** Where `pool()` was called, when it can be known. */
  readonly location: SourceLocation | undefined;
}

export function isPool(value: unknown): value is Pool {
  return typeof value === "object" && value !== null && (value as { [POOL]?: unknown })[POOL] === true;
}

/** Marks `value` as declared in the evaluation under way (see evaluationToken). */
export function markEvaluation<T extends object>(value: T): T {
  Object.defineProperty(value, EVALUATION, { value: evaluationToken(), enumerable: false });
  return value;
}

/** Whether `a` and `b` were declared in the same evaluation (or both outside any). */
export function samePlace(a: object, b: object): boolean {
  return (a as { [EVALUATION]?: object })[EVALUATION] === (b as { [EVALUATION]?: object })[EVALUATION];
}

/**
 * Declares a pool.
 *
 * ```ts
 * import { pool, task } from "rbuild";
 * const staging = pool("staging", { size: 1 });
 * export const deploy = task({ name: "deploy", pure: false, pool: staging, run: "./deploy.sh" });
 * ```
 */
export function pool(name: string, options: PoolOptions): Pool {
  const site = {} as Error;
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 1;
  Error.captureStackTrace(site, pool);
  Error.stackTraceLimit = limit;
  let location: SourceLocation | undefined | null = null;
  const copy = typeof options === "object" && options !== null ? { ...options } : (options as PoolOptions);
  return markEvaluation({
    [POOL]: true as const,
    name,
    options: copy,
    get location(): SourceLocation | undefined {
      if (location === null) location = locationFromStack(site);
      return location;
    },
  });
}
