/** `--pools name:minutes,...`: which pools to look at, and after how many minutes a claim is stale. */
import { err, ok, type Result } from "@rbuild/core";

export interface PoolSpec {
  readonly name: string;
  /** A claim older than this many minutes is stale. */
  readonly staleAfterMinutes: number;
}

const EXAMPLE = "e.g. --pools workers:60,testers:30";

/** Parses `name:minutes,...`; the error is a message for the user. */
export function parsePoolsSpec(text: string): Result<PoolSpec[], string> {
  const pools: PoolSpec[] = [];
  for (const part of text.split(",")) {
    const match = /^([^:/\\]+):([1-9]\d*)$/.exec(part.trim());
    if (match === null) {
      return err(`--pools needs comma-separated name:minutes pairs, minutes a positive whole number (${EXAMPLE}); "${part.trim()}" is not one.`);
    }
    const name = match[1]!;
    if (name.startsWith(".")) return err(`--pools: "${name}" is not a pool name: a pool is a top-level directory whose name does not start with ".".`);
    if (pools.some((pool) => pool.name === name)) return err(`--pools names "${name}" twice.`);
    pools.push({ name, staleAfterMinutes: Number(match[2]) });
  }
  return ok(pools);
}
