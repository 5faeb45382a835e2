/**
 * Checks a task's `pool` (see `pool()` in @rbuild/core) and the pools of all
 * tasks together: one name, one size. Problems are reported at the task that
 * uses the pool, since that is where a Buildfile shows it is used. Pure.
 */
import { isPool, samePlace, type Task } from "@rbuild/core";
import type { PoolDef, TaskDef } from "./graph.js";

// Whitespace and control characters would make a name impossible to type on the command line (`rbuild pool release`).
const BAD_NAME = /[\s\p{Cc}]/u;

/** The task's checked pool, or the problem with its `pool` field. */
export function checkPool(task: Task, value: unknown): { pool?: PoolDef; problem?: string } {
  if (!isPool(value)) return { problem: `must be a pool made with pool(name, { size }), got ${typeof value === "object" && value !== null ? "an object" : JSON.stringify(value) ?? String(value)}` };
  const { name, options } = value;
  if (typeof name !== "string" || name === "" || BAD_NAME.test(name) || name.length > 200) {
    return { problem: `names a pool whose name ${JSON.stringify(name)} is not a non-empty name of at most 200 characters without whitespace` };
  }
  if (typeof options !== "object" || options === null) return { problem: `names pool "${name}", which was declared without options: write pool("${name}", { size: 1 })` };
  const { size, shared } = options as { size?: unknown; shared?: unknown };
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 1) {
    return { problem: `names pool "${name}", whose size must be a positive whole number, got ${JSON.stringify(size) ?? String(size)}` };
  }
  if (shared !== undefined && typeof shared !== "boolean") return { problem: `names pool "${name}", whose \`shared\` must be true or false, got ${JSON.stringify(shared)}` };
  if (!samePlace(task, value)) {
    return {
      problem:
        `names pool "${name}", declared in another evaluation of the Buildfile (kept by a module from an earlier load): ` +
        "it would limit nothing this build shares. Call pool() in the Buildfile, or in a function the Buildfile calls, each time it is loaded",
    };
  }
  return { pool: { name, size, shared: shared === true } };
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
