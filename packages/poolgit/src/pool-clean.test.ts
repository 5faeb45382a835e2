import { readFileSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { cleanPools, type CleanOptions } from "./clean-pools.js";
import { withPoolRepo } from "./pool-repo.js";
import {
  claim,
  cloneAgain,
  git,
  hooksEnv,
  isolatedGitEnv,
  makePoolFixture,
  anotherClonePushes,
  remoteLocks,
  remoteSubjects,
  type PoolFixture,
} from "../../../test-support/pool-repos.js";

const NOW = Date.parse("2026-12-02T12:00:00Z");
const POOLS = [
  { name: "workers", staleAfterMinutes: 60 },
  { name: "testers", staleAfterMinutes: 30 },
];
let fixture: PoolFixture;
let worker1Claim: string;
let t1Claim: string;

beforeEach(() => {
  fixture = makePoolFixture({ workers: ["worker-1", "worker-2", "worker-3"], testers: ["t1"] });
  worker1Claim = claim(fixture.pipeline, "workers", "worker-1", "2026-12-02T09:55:00Z", "main/deploy/smoke build 12 claiming: worker-1");
  claim(fixture.pipeline, "workers", "worker-2", "2026-12-02T11:50:00Z", "main/deploy/apply build 7 claiming: worker-2");
  t1Claim = claim(fixture.pipeline, "testers", "t1", "2026-11-30T10:00:00Z", "deploy/test build 3 claiming: t1");
});
afterEach(() => fixture.cleanup());

const clean = (env: Record<string, string> = {}, options: CleanOptions = {}) =>
  withPoolRepo({ url: fixture.remote, cwd: fixture.root, env: isolatedGitEnv(env) }, (repo) => cleanPools(repo, POOLS, { now: () => NOW, ...options }));

const LAYOUT_AND_CLAIMS = [
  "deploy/test build 3 claiming: t1",
  "main/deploy/apply build 7 claiming: worker-2",
  "main/deploy/smoke build 12 claiming: worker-1",
  "lay out the pools",
];

const worker1Message = (): string =>
  "rbuild pool boy unclaiming: worker-1\n\n" +
  `The claim on lock worker-1 of pool workers was stale: claimed 2h05m ago (2026-12-02T09:55:00.000Z, commit ${worker1Claim.slice(0, 12)}) by main/deploy/smoke build 12, ` +
  "older than the pool's 60 minutes. Moved workers/claimed/worker-1 back to workers/unclaimed/.\n";
const t1Message = (): string =>
  "rbuild pool boy unclaiming: t1\n\n" +
  `The claim on lock t1 of pool testers was stale: claimed 2d02h ago (2026-11-30T10:00:00.000Z, commit ${t1Claim.slice(0, 12)}) by deploy/test build 3, ` +
  "older than the pool's 30 minutes. Moved testers/claimed/t1 back to testers/unclaimed/.\n";

/** The newest `count` commits on the remote: message, author, committer and the paths each changed. */
const newestCommits = (count: number): string[] =>
  git(fixture.remote, ["log", `-${count}`, "--format=%x00%B%an <%ae> / %cn <%ce>", "--name-status", "main"])
    .split("\0")
    .slice(1)
    .map((entry) => entry.replace(/\n+$/, ""));

test("26.5: clean moves only the stale claims back, one commit each with a message naming lock, pool, age and build; a fresh claim is untouched", async () => {
  const result = await clean();
  if (!result.ok) throw new Error(result.error.message);
  expect(result.value.moved.map((claim) => `${claim.pool.name}/${claim.lock.name}`)).toEqual(["workers/worker-1", "testers/t1"]);
  expect(result.value.pushAttempts).toBe(1);
  expect(result.value.leftAlone).toEqual([]);
  expect(remoteSubjects(fixture)).toEqual(["rbuild pool boy unclaiming: t1", "rbuild pool boy unclaiming: worker-1", ...LAYOUT_AND_CLAIMS]);
  expect(newestCommits(2)).toEqual([
    `${t1Message()}rbuild pool boy <rbuild@localhost> / rbuild pool boy <rbuild@localhost>\n\nR100\ttesters/claimed/t1\ttesters/unclaimed/t1`,
    `${worker1Message()}rbuild pool boy <rbuild@localhost> / rbuild pool boy <rbuild@localhost>\n\nR100\tworkers/claimed/worker-1\tworkers/unclaimed/worker-1`,
  ]);
  expect(remoteLocks(fixture, "workers")).toEqual(["claimed/worker-2", "unclaimed/worker-1", "unclaimed/worker-3"]);
  expect(remoteLocks(fixture, "testers")).toEqual(["unclaimed/t1"]);
});

test("26.5: the author and committer come from the environment when it names them", async () => {
  const result = await clean({ GIT_AUTHOR_NAME: "Ops Bot", GIT_AUTHOR_EMAIL: "ops@localhost", GIT_COMMITTER_NAME: "Ops Bot", GIT_COMMITTER_EMAIL: "ops@localhost" });
  expect(result.ok).toBe(true);
  expect(git(fixture.remote, ["log", "-1", "--format=%an <%ae> / %cn <%ce>", "main"]).trim()).toBe("Ops Bot <ops@localhost> / Ops Bot <ops@localhost>");
});

test("26.5: a dry run says what would move and changes nothing", async () => {
  const before = git(fixture.remote, ["rev-parse", "main"]);
  const result = await clean({}, { dryRun: true });
  if (!result.ok) throw new Error(result.error.message);
  expect(result.value.moved.map((claim) => `${claim.pool.name}/${claim.lock.name}`)).toEqual(["workers/worker-1", "testers/t1"]);
  expect(result.value.pushAttempts).toBe(0);
  expect(git(fixture.remote, ["rev-parse", "main"])).toBe(before);
});

test("26.5: a push from another clone between the pool boy's clone and its push: one non-fast-forward retry, both changes on the remote", async () => {
  const other = cloneAgain(fixture, "other");
  const hooks = anotherClonePushes(fixture, other, [
    "git mv workers/unclaimed/worker-3 workers/claimed/worker-3",
    "GIT_AUTHOR_DATE=2026-12-02T11:59:00Z GIT_COMMITTER_DATE=2026-12-02T11:59:00Z git commit --quiet -m 'main/deploy/late build 1 claiming: worker-3'",
  ]);
  const result = await clean(hooksEnv(hooks));
  if (!result.ok) throw new Error(result.error.message);
  expect(readFileSync(join(hooks, "pushes"), "utf8")).toBe("x\n");
  expect(result.value.pushAttempts).toBe(2);
  expect(result.value.moved.map((claim) => `${claim.pool.name}/${claim.lock.name}`)).toEqual(["workers/worker-1", "testers/t1"]);
  expect(remoteSubjects(fixture)).toEqual([
    "rbuild pool boy unclaiming: t1",
    "rbuild pool boy unclaiming: worker-1",
    "main/deploy/late build 1 claiming: worker-3",
    ...LAYOUT_AND_CLAIMS,
  ]);
  expect(newestCommits(2).map((entry) => entry.split("rbuild pool boy <")[0])).toEqual([t1Message(), worker1Message()]);
  expect(remoteLocks(fixture, "workers")).toEqual(["claimed/worker-2", "claimed/worker-3", "unclaimed/worker-1"]);
});

test("26.5: a push from another clone landing during the pool boy's push (the ref moved under it) is retried the same way", async () => {
  const other = cloneAgain(fixture, "other");
  const hooks = anotherClonePushes(fixture, other, ["git mv workers/unclaimed/worker-3 workers/claimed/worker-3", "git commit --quiet -m 'main/deploy/late build 1 claiming: worker-3'"], {
    hook: "pre-push",
  });
  const result = await clean(hooksEnv(hooks));
  if (!result.ok) throw new Error(result.error.message);
  expect(readFileSync(join(hooks, "pushes"), "utf8")).toBe("x\n");
  expect(result.value.pushAttempts).toBe(2);
  expect(remoteSubjects(fixture)).toEqual([
    "rbuild pool boy unclaiming: t1",
    "rbuild pool boy unclaiming: worker-1",
    "main/deploy/late build 1 claiming: worker-3",
    ...LAYOUT_AND_CLAIMS,
  ]);
});

test("26.5: a stale lock released before the pool boy's push is left alone", async () => {
  const other = cloneAgain(fixture, "other");
  const hooks = anotherClonePushes(fixture, other, ["git mv workers/claimed/worker-1 workers/unclaimed/worker-1", "git commit --quiet -m 'main/deploy/smoke build 12 unclaiming: worker-1'"]);
  const result = await clean(hooksEnv(hooks));
  if (!result.ok) throw new Error(result.error.message);
  expect(result.value.moved.map((claim) => `${claim.pool.name}/${claim.lock.name}`)).toEqual(["testers/t1"]);
  expect(result.value.leftAlone).toEqual([{ pool: "workers", lock: "worker-1", why: "released meanwhile" }]);
  expect(remoteSubjects(fixture)).toEqual(["rbuild pool boy unclaiming: t1", "main/deploy/smoke build 12 unclaiming: worker-1", ...LAYOUT_AND_CLAIMS]);
});

test("26.5: a stale lock released and claimed again before the pool boy's push is left alone; the other stale one is still cleaned", async () => {
  const other = cloneAgain(fixture, "other");
  const hooks = anotherClonePushes(fixture, other, [
    "git mv workers/claimed/worker-1 workers/unclaimed/worker-1",
    "git commit --quiet -m 'main/deploy/smoke build 12 unclaiming: worker-1'",
    "git mv workers/unclaimed/worker-1 workers/claimed/worker-1",
    "GIT_AUTHOR_DATE=2026-12-02T11:59:00Z GIT_COMMITTER_DATE=2026-12-02T11:59:00Z git commit --quiet -m 'main/deploy/smoke build 13 claiming: worker-1'",
  ]);
  const result = await clean(hooksEnv(hooks));
  if (!result.ok) throw new Error(result.error.message);
  const reclaim = git(fixture.remote, ["log", "-1", "--format=%H", "main", "--", "workers/claimed/worker-1"]).trim();
  expect(result.value.pushAttempts).toBe(2);
  expect(result.value.moved.map((claim) => `${claim.pool.name}/${claim.lock.name}`)).toEqual(["testers/t1"]);
  expect(result.value.leftAlone).toEqual([{ pool: "workers", lock: "worker-1", why: `claimed again meanwhile (commit ${reclaim.slice(0, 12)})` }]);
  expect(remoteSubjects(fixture)).toEqual([
    "rbuild pool boy unclaiming: t1",
    "main/deploy/smoke build 13 claiming: worker-1",
    "main/deploy/smoke build 12 unclaiming: worker-1",
    ...LAYOUT_AND_CLAIMS,
  ]);
  expect(remoteLocks(fixture, "workers")).toEqual(["claimed/worker-1", "claimed/worker-2", "unclaimed/worker-3"]);
});

test("26.5: a branch that keeps moving: the retries are bounded and the failure says so, with nothing of the pool boy's on the remote", async () => {
  const other = cloneAgain(fixture, "other");
  const hooks = anotherClonePushes(fixture, other, ["date >> noise", "git add noise", "git commit --quiet -m noise"], { every: true });
  const result = await clean(hooksEnv(hooks), { maxAttempts: 3 });
  expect(result).toEqual({
    ok: false,
    error: {
      reason: "push-conflicts",
      message: `gave up after 3 pushes to branch main of ${fixture.remote}, each rejected because the branch had moved (other pushes kept landing first). Nothing was changed on the remote; run \`rbuild pool clean\` again.`,
    },
  });
  expect(remoteSubjects(fixture).filter((subject) => subject.startsWith("rbuild pool boy"))).toEqual([]);
});

test("26.5: a push the remote refuses for another reason fails at once with git's words", async () => {
  writeFileSync(join(fixture.remote, "hooks", "pre-receive"), "#!/bin/sh\necho 'locks are frozen today' >&2\nexit 1\n");
  chmodSync(join(fixture.remote, "hooks", "pre-receive"), 0o755);
  const result = await clean();
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.error.reason).toBe("push-rejected");
  expect(result.error.message).toMatch(/^could not push the unclaimed locks to .*: `git push --porcelain origin HEAD:refs\/heads\/main` exited with status 1:\n/);
  expect(result.error.message).toContain("locks are frozen today");
  expect(result.error.message).toMatch(/\nNothing was changed on the remote; check write access to branch main\.$/);
});
