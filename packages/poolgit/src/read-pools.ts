/**
 * The state of each named pool at the clone's HEAD (layout from
 * concourse/pool-resource): `<pool>/unclaimed/<lock>` and `<pool>/claimed/<lock>`,
 * a lock being a file whose name does not start with "." (`.gitkeep` keeps the
 * directories). A claimed lock's age is the committer date of the last commit
 * that touched `<pool>/claimed/<lock>`, the commit that moved it there, as the
 * Pix4D pool boy reads it; that commit's sha identifies the claim, so a lock
 * released and claimed again between two looks is a different claim.
 */
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { err, ok, type Result } from "@rbuild/core";
import { parseClaimMessage, type ClaimingBuild } from "./claim-message.js";
import type { PoolGitFailure } from "./failure.js";
import type { PoolRepo } from "./pool-repo.js";
import type { PoolSpec } from "./pools-spec.js";

export interface UnclaimedLock {
  readonly name: string;
  readonly state: "unclaimed";
}

export interface ClaimedLock {
  readonly name: string;
  readonly state: "claimed";
  /** The commit that moved the lock into claimed/: the claim's identity. */
  readonly commit: string;
  /** That commit's committer date, in UTC (`toISOString`). */
  readonly claimedAt: string;
  /** Whole minutes since `claimedAt`. */
  readonly ageMinutes: number;
  readonly build: ClaimingBuild;
  /** Older than the pool's minutes. */
  readonly stale: boolean;
}

export type LockStatus = UnclaimedLock | ClaimedLock;

export interface PoolStatus {
  readonly name: string;
  readonly staleAfterMinutes: number;
  /** Claimed locks first, then unclaimed, each by name. */
  readonly locks: readonly LockStatus[];
}

const locksIn = async (dir: string): Promise<string[]> =>
  existsSync(dir) ? (await readdir(dir, { withFileTypes: true })).filter((entry) => entry.isFile() && !entry.name.startsWith(".")).map((entry) => entry.name).sort() : [];

/** The claim on `<pool>/claimed/<lock>` at HEAD; undefined when that file is not there. */
export async function readClaim(repo: PoolRepo, pool: PoolSpec, lock: string, now: number): Promise<Result<ClaimedLock | undefined, PoolGitFailure>> {
  const path = `${pool.name}/claimed/${lock}`;
  if (!existsSync(join(repo.dir, path))) return ok(undefined);
  const logged = await repo.gitOk(["log", "-1", "--format=%H%x00%cI%x00%B", "--", path], `could not read the claim on ${path}`);
  if (!logged.ok) return logged;
  const [commit = "", committed = "", message = ""] = logged.value.split("\0");
  const claimedAtMs = Date.parse(committed);
  const ageMs = now - claimedAtMs;
  return ok({
    name: lock,
    state: "claimed",
    commit,
    claimedAt: new Date(claimedAtMs).toISOString(),
    ageMinutes: Math.max(0, Math.floor(ageMs / 60_000)),
    build: parseClaimMessage(message),
    stale: ageMs > pool.staleAfterMinutes * 60_000,
  });
}

/** Each pool's locks at the clone's HEAD, in the order the pools were named. */
export async function readPools(repo: PoolRepo, pools: readonly PoolSpec[], now: number): Promise<Result<PoolStatus[], PoolGitFailure>> {
  const statuses: PoolStatus[] = [];
  for (const pool of pools) {
    const claimedDir = join(repo.dir, pool.name, "claimed");
    const unclaimedDir = join(repo.dir, pool.name, "unclaimed");
    if (!existsSync(claimedDir) && !existsSync(unclaimedDir)) {
      const present = await poolsPresent(repo.dir);
      const there = present.length === 0 ? "it has none" : `pools there: ${present.join(", ")}`;
      return err({ reason: "pool-missing", message: `pool "${pool.name}" is not in ${repo.url} (branch ${repo.branch}): no ${pool.name}/claimed or ${pool.name}/unclaimed directory; ${there}.` });
    }
    const locks: LockStatus[] = [];
    for (const name of await locksIn(claimedDir)) {
      const claim = await readClaim(repo, pool, name, now);
      if (!claim.ok) return claim;
      if (claim.value !== undefined) locks.push(claim.value);
    }
    for (const name of await locksIn(unclaimedDir)) locks.push({ name, state: "unclaimed" });
    statuses.push({ name: pool.name, staleAfterMinutes: pool.staleAfterMinutes, locks });
  }
  return ok(statuses);
}

/** The top-level directories that look like pools (hold claimed/ or unclaimed/). */
async function poolsPresent(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith(".") && (existsSync(join(dir, entry.name, "claimed")) || existsSync(join(dir, entry.name, "unclaimed"))))
    .map((entry) => entry.name)
    .sort();
}
