/**
 * `rbuild pool clean --git`: move every stale claim back to `unclaimed/`, one
 * commit per lock, and push. The push races the pipelines claiming and
 * releasing locks (pool-resource's own protocol: fetch, reset, mutate, commit,
 * push, and on a rejection start over). On a non-fast-forward rejection the
 * clone is reset to the new branch head and each move is made again on top of
 * it, but only for a lock whose claim is still the very one found stale: the
 * same commit last touched `<pool>/claimed/<lock>`. A lock released, or released
 * and claimed again, meanwhile is left alone (a rebase would not notice the
 * second case: the file is back where it was, and the move would apply cleanly).
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { err, ok, type Result } from "@rbuild/core";
import { checkStaleClaims, describeCheck, mayUnclaim, type BuildCheck, type BuildChecks, type BuildStatusLookup } from "./build-check.js";
import { describeClaimingBuild } from "./claim-message.js";
import type { PoolGitFailure } from "./failure.js";
import { formatAge } from "./format-status.js";
import { gitProblem } from "./git.js";
import type { PoolRepo } from "./pool-repo.js";
import { readClaim, readPools, type ClaimedLock, type PoolStatus } from "./read-pools.js";
import type { PoolSpec } from "./pools-spec.js";

export interface CleanOptions {
  /** The clock ages are measured with (Date.now by default). */
  readonly now?: () => number;
  /** Say what would be moved; commit and push nothing. */
  readonly dryRun?: boolean;
  /** How many pushes to try before giving up on a branch that keeps moving (default 5). */
  readonly maxAttempts?: number;
  /** Ask Concourse first: a stale claim is unclaimed only when its build has finished or does not exist. */
  readonly builds?: BuildStatusLookup;
}

export interface StaleClaim {
  readonly pool: PoolSpec;
  /** The claim as found, before any move. */
  readonly lock: ClaimedLock;
}

export interface LeftAlone {
  readonly pool: string;
  readonly lock: string;
  readonly why: string;
}

export interface CleanReport {
  /** The pools as first seen. */
  readonly pools: readonly PoolStatus[];
  /** The claims moved back and pushed, or with a dry run those that would be. */
  readonly moved: readonly StaleClaim[];
  /** Stale, but its build still runs or could not be checked; or changed by someone else before the push. */
  readonly leftAlone: readonly LeftAlone[];
  /** With `builds`: what Concourse said of each stale claim's build, by claim commit. */
  readonly checks?: BuildChecks;
  /** Pushes tried (0: nothing to push, or a dry run); more than 1 means non-fast-forward retries. */
  readonly pushAttempts: number;
  readonly dryRun: boolean;
}

export const DEFAULT_PUSH_ATTEMPTS = 5;

/** The commit message of one move: pool-resource's `unclaiming:` verb, then why. */
export function unclaimMessage(claim: StaleClaim): string {
  const { pool, lock } = claim;
  return (
    `rbuild pool boy unclaiming: ${lock.name}\n\n` +
    `The claim on lock ${lock.name} of pool ${pool.name} was stale: claimed ${formatAge(lock.ageMinutes)} ago ` +
    `(${lock.claimedAt}, commit ${lock.commit.slice(0, 12)}) by ${describeClaimingBuild(lock.build)}, ` +
    `older than the pool's ${pool.staleAfterMinutes} minutes. ` +
    `Moved ${pool.name}/claimed/${lock.name} back to ${pool.name}/unclaimed/.\n`
  );
}

/** Why a stale claim stays, from what Concourse said of its build. */
function keptBecause(check: BuildCheck): string {
  if (check.verdict === "running") return `stale, but its build is still ${check.status === "started" ? "running" : "pending"}`;
  if (check.verdict === "doubt") return `stale, but whether its build still runs is not known (${check.why}); a claim is never unclaimed on doubt`;
  return describeCheck(check);
}

/** A rejection another push caused, worth a fetch and a retry (the output of `git push --porcelain`). */
const isRace = (output: string): boolean => /\[rejected\]/.test(output) || /\[remote rejected\].*(failed to update ref|cannot lock ref|failed to lock)/.test(output);

export async function cleanPools(repo: PoolRepo, pools: readonly PoolSpec[], options: CleanOptions = {}): Promise<Result<CleanReport, PoolGitFailure>> {
  const now = options.now ?? Date.now;
  const maxAttempts = options.maxAttempts ?? DEFAULT_PUSH_ATTEMPTS;
  const seen = await readPools(repo, pools, now());
  if (!seen.ok) return seen;
  const allStale: StaleClaim[] = seen.value.flatMap((status) => {
    const pool = pools.find((spec) => spec.name === status.name)!;
    return status.locks.flatMap((lock) => (lock.state === "claimed" && lock.stale ? [{ pool, lock }] : []));
  });
  let stale = allStale;
  const leftAlone: LeftAlone[] = [];
  let report: { pools: readonly PoolStatus[]; dryRun: boolean; checks?: BuildChecks } = { pools: seen.value, dryRun: options.dryRun === true };
  if (options.builds !== undefined && allStale.length > 0) {
    const checked = await checkStaleClaims(seen.value, options.builds);
    if (!checked.ok) return err({ ...checked.error, message: `${checked.error.message} Left every one of them alone; nothing was changed.` });
    const checks = checked.value;
    report = { ...report, checks };
    stale = allStale.filter((claim) => mayUnclaim(claim.lock, checks));
    for (const claim of allStale) {
      if (!stale.includes(claim)) leftAlone.push({ pool: claim.pool.name, lock: claim.lock.name, why: keptBecause(checks.get(claim.lock.commit)!) });
    }
  }
  if (options.dryRun === true || stale.length === 0) return ok({ ...report, moved: stale, leftAlone, pushAttempts: 0 });

  let pending = stale;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const still: StaleClaim[] = [];
    for (const claim of pending) {
      const current = await readClaim(repo, claim.pool, claim.lock.name, now());
      if (!current.ok) return current;
      if (current.value?.commit === claim.lock.commit) still.push(claim);
      else {
        const why = current.value === undefined ? "released meanwhile" : `claimed again meanwhile (commit ${current.value.commit.slice(0, 12)})`;
        leftAlone.push({ pool: claim.pool.name, lock: claim.lock.name, why });
      }
    }
    pending = still;
    if (pending.length === 0) return ok({ ...report, moved: [], leftAlone, pushAttempts: attempt - 1 });
    for (const claim of pending) {
      const moved = await moveBack(repo, claim);
      if (!moved.ok) return moved;
    }
    const pushArgs = ["push", "--porcelain", "origin", `HEAD:refs/heads/${repo.branch}`];
    const pushed = await repo.git(pushArgs);
    if (pushed.code === 0) return ok({ ...report, moved: pending, leftAlone, pushAttempts: attempt });
    if (!isRace(`${pushed.stdout}\n${pushed.stderr}`)) {
      return err({ reason: "push-rejected", message: `could not push the unclaimed locks to ${repo.url}: ${gitProblem(pushArgs, pushed)}\nNothing was changed on the remote; check write access to branch ${repo.branch}.` });
    }
    const fetched = await repo.gitOk(["fetch", "--quiet", "origin", `+refs/heads/${repo.branch}:refs/remotes/origin/${repo.branch}`], "could not fetch after a rejected push");
    if (!fetched.ok) return fetched;
    const reset = await repo.gitOk(["reset", "--hard", "--quiet", `refs/remotes/origin/${repo.branch}`], "could not reset to the fetched branch");
    if (!reset.ok) return reset;
  }
  return err({
    reason: "push-conflicts",
    message: `gave up after ${maxAttempts} pushes to branch ${repo.branch} of ${repo.url}, each rejected because the branch had moved (other pushes kept landing first). Nothing was changed on the remote; run \`rbuild pool clean\` again.`,
  });
}

/** `git mv <pool>/claimed/<lock> <pool>/unclaimed/` and its commit. */
async function moveBack(repo: PoolRepo, claim: StaleClaim): Promise<Result<void, PoolGitFailure>> {
  const from = `${claim.pool.name}/claimed/${claim.lock.name}`;
  const to = `${claim.pool.name}/unclaimed/${claim.lock.name}`;
  await mkdir(join(repo.dir, claim.pool.name, "unclaimed"), { recursive: true });
  const moved = await repo.gitOk(["mv", "--", from, to], `could not move ${from} back to unclaimed/`);
  if (!moved.ok) return moved;
  const committed = await repo.gitOk(["commit", "--quiet", "--no-verify", "-m", unclaimMessage(claim), "--", from, to], `could not commit the move of ${from}`);
  return committed.ok ? ok(undefined) : committed;
}
