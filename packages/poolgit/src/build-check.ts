/**
 * `--concourse`: before a stale claim is unclaimed, ask Concourse whether the
 * build that claimed it still runs (the Pix4D pool boy's liveness check,
 * reference concourse.md §3.2, made safe). The rule is: never unclaim on doubt.
 *
 *   pending, started                     still running: leave the claim, whatever its age
 *   succeeded, failed, errored, aborted  finished: unclaim
 *   no such build (404)                  gone (pipeline destroyed, build reaped): unclaim
 *   anything else                        doubt: leave the claim and say why
 *
 * A claim whose commit does not name a build this Concourse can be asked
 * about (an `adding claimed:` commit, an unrecognised message, an instanced
 * pipeline, a Build URL of another Concourse) is doubt too. Concourse itself
 * is behind `BuildStatusLookup`, so this package needs no HTTP client.
 */
import { ok, unreachable, type Result } from "@rbuild/core";
import type { ClaimingBuild } from "./claim-message.js";
import type { PoolGitFailure } from "./failure.js";
import type { ClaimedLock, PoolStatus } from "./read-pools.js";

export type BuildStatus = "pending" | "started" | "succeeded" | "failed" | "errored" | "aborted";

/** A build Concourse can be asked about: a job's build by team, pipeline, job and name, or a one-off by id. */
export type BuildRef =
  | { readonly kind: "job"; readonly team: string; readonly pipeline: string; readonly job: string; readonly name: string }
  | { readonly kind: "one-off"; readonly id: number };

/** Why a lookup failed. `unreachable` (no answer, or the login refused) stops all checking. */
export interface LookupFailure {
  readonly reason: "unreachable" | "answer";
  readonly message: string;
}

/** Concourse, as the pool boy asks it. `not-found`: Concourse answered that there is no such build. */
export interface BuildStatusLookup {
  /** What is printed as the Concourse asked, e.g. `https://ci.example.org`. */
  readonly url: string;
  /** The team of claims whose commit names none (pool-resource before 2018). */
  readonly team: string;
  lookup(build: BuildRef): Promise<Result<BuildStatus | "not-found", LookupFailure>>;
}

/** What Concourse said of one stale claim's build. */
export type BuildCheck =
  | { readonly verdict: "running"; readonly status: "pending" | "started" }
  | { readonly verdict: "finished"; readonly status: "succeeded" | "failed" | "errored" | "aborted" }
  | { readonly verdict: "gone" }
  | { readonly verdict: "doubt"; readonly why: string };

/** Claim commit → what its build is, for every stale claim. */
export type BuildChecks = ReadonlyMap<string, BuildCheck>;

/** The build a claim names, or why it names none that `concourse` can be asked about. */
export function buildRef(build: ClaimingBuild, concourse: { readonly url: string; readonly team: string }): BuildRef | { readonly kind: "unidentified"; readonly why: string } {
  switch (build.kind) {
    case "job":
      if (build.instanceVars !== undefined) return { kind: "unidentified", why: "the claim names an instanced pipeline, whose instance vars the commit message does not give exactly" };
      return { kind: "job", team: build.team ?? concourse.team, pipeline: build.pipeline, job: build.job, name: build.build };
    case "one-off":
      return /^[1-9]\d*$/.test(build.build) ? { kind: "one-off", id: Number(build.build) } : { kind: "unidentified", why: `"${build.build}" is not a build id` };
    case "url":
      return urlRef(build.url, concourse.url);
    case "added-claimed":
      return { kind: "unidentified", why: "the lock was added already claimed, by no build" };
    case "unknown":
      return { kind: "unidentified", why: "the claim commit's message names no build" };
    default:
      return unreachable(build);
  }
}

/** A v1.8 `Build URL:` of this Concourse: `<base>/teams/T/pipelines/P/jobs/J/builds/N` or `<base>/builds/ID`. */
function urlRef(url: string, base: string): BuildRef | { readonly kind: "unidentified"; readonly why: string } {
  const root = base.replace(/\/+$/, "");
  if (!url.startsWith(`${root}/`)) return { kind: "unidentified", why: `its build URL ${url} is not on ${root}` };
  const rest = url.slice(root.length);
  if (rest.includes("?")) return { kind: "unidentified", why: `its build URL ${url} names an instanced pipeline` };
  const parts = rest.split("/").slice(1).map((part) => decodeURIComponent(part));
  if (parts.length === 8 && parts[0] === "teams" && parts[2] === "pipelines" && parts[4] === "jobs" && parts[6] === "builds") {
    return { kind: "job", team: parts[1]!, pipeline: parts[3]!, job: parts[5]!, name: parts[7]! };
  }
  if (parts.length === 2 && parts[0] === "builds" && /^[1-9]\d*$/.test(parts[1]!)) return { kind: "one-off", id: Number(parts[1]) };
  return { kind: "unidentified", why: `its build URL ${url} is not one of a build` };
}

const isRunning = (status: BuildStatus): status is "pending" | "started" => status === "pending" || status === "started";

/**
 * Asks `lookup` about the build of every stale claim in `pools`. An unreachable Concourse (or a refused
 * login) is the failure `concourse-unreachable`, naming the claims it leaves alone: nothing is decided then.
 */
export async function checkStaleClaims(pools: readonly PoolStatus[], lookup: BuildStatusLookup): Promise<Result<BuildChecks, PoolGitFailure>> {
  const checks = new Map<string, BuildCheck>();
  const stale = pools.flatMap((pool) => pool.locks.flatMap((lock) => (lock.state === "claimed" && lock.stale ? [{ pool: pool.name, lock }] : [])));
  for (const { lock } of stale) {
    const ref = buildRef(lock.build, lookup);
    if (ref.kind === "unidentified") {
      checks.set(lock.commit, { verdict: "doubt", why: ref.why });
      continue;
    }
    const found = await lookup.lookup(ref);
    if (!found.ok) {
      if (found.error.reason === "unreachable") {
        const names = stale.map((claim) => `${claim.lock.name} of ${claim.pool}`).join(", ");
        return { ok: false, error: { reason: "concourse-unreachable", message: `${found.error.message}\nWhether the builds of the stale claims (${names}) still run could not be checked.` } };
      }
      checks.set(lock.commit, { verdict: "doubt", why: found.error.message });
    } else if (found.value === "not-found") checks.set(lock.commit, { verdict: "gone" });
    else if (isRunning(found.value)) checks.set(lock.commit, { verdict: "running", status: found.value });
    else checks.set(lock.commit, { verdict: "finished", status: found.value });
  }
  return ok(checks);
}

/** The check in a few words, e.g. `build running`, `build failed`, `no such build`. */
export function describeCheck(check: BuildCheck): string {
  switch (check.verdict) {
    case "running":
      return check.status === "started" ? "build running" : "build pending";
    case "finished":
      return `build ${check.status}`;
    case "gone":
      return "no such build";
    case "doubt":
      return `build not checked: ${check.why}`;
    default:
      return unreachable(check);
  }
}

/** Whether the clean may unclaim this stale claim: only when Concourse said its build is over or gone. */
export const mayUnclaim = (lock: ClaimedLock, checks: BuildChecks): boolean => {
  const verdict = checks.get(lock.commit)?.verdict;
  return verdict === "finished" || verdict === "gone";
};
