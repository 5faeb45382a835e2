/** `rbuild pool status --git` as text: a line per pool, then a line per lock, claimed first. */
import { describeCheck, type BuildChecks } from "./build-check.js";
import { describeClaimingBuild } from "./claim-message.js";
import type { LockStatus, PoolStatus } from "./read-pools.js";

/** Whole minutes as `45m`, `2h05m` or `3d04h`. */
export function formatAge(minutes: number): string {
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h${String(minutes % 60).padStart(2, "0")}m`;
  return `${Math.floor(hours / 24)}d${String(hours % 24).padStart(2, "0")}h`;
}

function lockLine(lock: LockStatus, width: number, checks: BuildChecks | undefined): string {
  const name = lock.name.padEnd(width);
  if (lock.state === "unclaimed") return `  ${name}  unclaimed`;
  const line = `  ${name}  claimed ${formatAge(lock.ageMinutes)} ago by ${describeClaimingBuild(lock.build)}`;
  if (!lock.stale) return line;
  const check = checks?.get(lock.commit);
  return check === undefined ? `${line}  STALE` : `${line}  STALE (${describeCheck(check)})`;
}

/** With `checks` (--concourse), each stale claim says what Concourse said of its build. */
export function formatStatus(pools: readonly PoolStatus[], checks?: BuildChecks): string {
  let text = "";
  for (const pool of pools) {
    const claimed = pool.locks.filter((lock) => lock.state === "claimed");
    const stale = claimed.filter((lock) => lock.stale).length;
    const unclaimed = pool.locks.length - claimed.length;
    text += `${pool.name} (stale after ${formatAge(pool.staleAfterMinutes)}): ${claimed.length} claimed${stale > 0 ? ` (${stale} stale)` : ""}, ${unclaimed} unclaimed\n`;
    const width = Math.max(0, ...pool.locks.map((lock) => lock.name.length));
    for (const lock of pool.locks) text += `${lockLine(lock, width, checks)}\n`;
  }
  return text;
}
