/**
 * Checks a task's `pool` (see `pool()` in @rbuild/core) and the pools of all
 * tasks together: one name, one size. What is wrong with a pool as declared
 * (its name, size, `shared`) is reported at the pool() call, naming the pool,
 * once however many tasks use it; what is wrong with a task's use of a pool
 * (not a pool, one from another load, a clash of names) at the task. Pure.
 */
import { isPool, samePlace, type Pool, type Task } from "@rbuild/core";
import type { PoolDef, TaskDef } from "./graph.js";

// Whitespace and control characters would make a name impossible to type on the command line (`rbuild pool release`).
const BAD_NAME = /[\s\p{Cc}]/u;

/** What is wrong with a pool as `pool()` declared it, if anything. */
export function poolProblem(value: Pool): string | undefined {
  const { name, options } = value;
  if (typeof name !== "string" || name === "" || BAD_NAME.test(name) || name.length > 200) {
    const got = typeof name === "string" ? JSON.stringify(name) : (JSON.stringify(name) ?? String(name));
    return `its name must be a non-empty name of at most 200 characters without whitespace or control characters (it is typed in \`rbuild pool\` commands), got ${got}`;
  }
  if (typeof options !== "object" || options === null) return `was declared without options: write pool("${name}", { size: 1 })`;
  const { size, shared } = options as { size?: unknown; shared?: unknown };
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 1) return `its size must be a positive whole number, got ${JSON.stringify(size) ?? String(size)}`;
  if (shared !== undefined && typeof shared !== "boolean") return `its \`shared\` must be true or false, got ${JSON.stringify(shared)}`;
  return undefined;
}

/** The task's checked pool, or the problem with its `pool` field; neither for a pool with a problem of its own (see poolProblem). */
export function checkPool(task: Task, value: unknown): { pool?: PoolDef; problem?: string } {
  if (!isPool(value)) return { problem: `must be a pool made with pool(name, { size }), got ${typeof value === "object" && value !== null ? "an object" : JSON.stringify(value) ?? String(value)}` };
  if (poolProblem(value) !== undefined) return {};
  const { name } = value;
  const { size, shared } = value.options;
  if (!samePlace(task, value)) {
    return {
      problem:
        `names pool "${name}", declared in another evaluation of the Buildfile (kept by a module from an earlier load): ` +
        "it would limit nothing this build shares. Call pool() in the Buildfile, or in a function the Buildfile calls, each time it is loaded",
    };
  }
  return { pool: { name, size, shared: shared === true } };
}

/** The pools `tasks` name, each once, in the order they are first named. */
export function namedPools(tasks: readonly Task[]): Pool[] {
  const pools = new Set<Pool>();
  for (const task of tasks) {
    const value = typeof task.options === "object" && task.options !== null ? task.options.pool : undefined;
    if (isPool(value)) pools.add(value);
  }
  return [...pools];
}

/** For each task whose pool disagrees with an earlier task's pool of the same name, the message saying so. */
export function poolConflicts(defs: Iterable<TaskDef>): { task: TaskDef; message: string }[] {
  const first = new Map<string, TaskDef & { pool: PoolDef }>();
  const problems: { task: TaskDef; message: string }[] = [];
  for (const def of defs) {
    const pool = def.pool;
    if (pool === undefined) continue;
    const earlier = first.get(pool.name);
    if (earlier === undefined) {
      first.set(pool.name, def as TaskDef & { pool: PoolDef });
      continue;
    }
    const was = earlier.pool;
    if (was.size === pool.size && was.shared === pool.shared) continue;
    const shown = (p: PoolDef): string => `{ size: ${p.size}${p.shared ? ", shared: true" : ""} }`;
    problems.push({
      task: def,
      message: `names pool "${pool.name}" ${shown(pool)}, but task "${earlier.name}" names a pool "${pool.name}" ${shown(was)}: two pools may not share a name. Declare the pool once and use that object in both tasks, or rename one`,
    });
  }
  return problems;
}
