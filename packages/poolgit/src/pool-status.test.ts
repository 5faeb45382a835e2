import { afterEach, beforeEach, expect, test } from "vitest";
import { formatStatus } from "./format-status.js";
import { withPoolRepo } from "./pool-repo.js";
import { readPools } from "./read-pools.js";
import { claim, git, isolatedGitEnv, makePoolFixture, type PoolFixture } from "../../../test-support/pool-repos.js";

const NOW = Date.parse("2026-12-02T12:00:00Z");
let fixture: PoolFixture;

beforeEach(() => {
  fixture = makePoolFixture({ workers: ["worker-1", "worker-2", "worker-3", "worker-4"], testers: ["t1", "t2"] });
  claim(fixture.pipeline, "workers", "worker-1", "2026-12-02T09:55:00Z", "main/deploy/smoke build 12 claiming: worker-1");
  claim(fixture.pipeline, "workers", "worker-2", "2026-12-02T11:50:00Z", "claiming: worker-2", "Build URL: https://ci.test/teams/main/pipelines/deploy/jobs/apply/builds/7 ");
  claim(fixture.pipeline, "testers", "t1", "2026-11-30T10:00:00Z", "deploy/test build 3 claiming: t1");
  claim(fixture.pipeline, "testers", "t2", "2026-12-02T11:55:30Z", "one-off build 99 claiming: t2");
});
afterEach(() => fixture.cleanup());

const status = (pools: { name: string; staleAfterMinutes: number }[]) =>
  withPoolRepo({ url: fixture.remote, cwd: fixture.root, env: isolatedGitEnv() }, (repo) => readPools(repo, pools, NOW));

test("26.5: status reports each lock unclaimed or claimed, with the claim's age and build, stale past the pool's minutes", async () => {
  const pools = await status([
    { name: "workers", staleAfterMinutes: 60 },
    { name: "testers", staleAfterMinutes: 30 },
  ]);
  if (!pools.ok) throw new Error(pools.error.message);
  expect(formatStatus(pools.value)).toBe(
    [
      "workers (stale after 1h00m): 2 claimed (1 stale), 2 unclaimed",
      "  worker-1  claimed 2h05m ago by main/deploy/smoke build 12  STALE",
      "  worker-2  claimed 10m ago by https://ci.test/teams/main/pipelines/deploy/jobs/apply/builds/7",
      "  worker-3  unclaimed",
      "  worker-4  unclaimed",
      "testers (stale after 30m): 2 claimed (1 stale), 0 unclaimed",
      "  t1  claimed 2d02h ago by deploy/test build 3  STALE",
      "  t2  claimed 4m ago by one-off build 99",
      "",
    ].join("\n"),
  );
  const worker1 = pools.value[0]!.locks[0]!;
  expect(worker1).toEqual({
    name: "worker-1",
    state: "claimed",
    commit: expect.stringMatching(/^[0-9a-f]{40}$/),
    claimedAt: "2026-12-02T09:55:00.000Z",
    ageMinutes: 125,
    build: { kind: "job", team: "main", pipeline: "deploy", job: "smoke", build: "12" },
    stale: true,
  });
});

test("26.5: a pool that is not in the repository is a failure naming the pools that are", async () => {
  const pools = await status([{ name: "builders", staleAfterMinutes: 60 }]);
  expect(pools).toEqual({
    ok: false,
    error: {
      reason: "pool-missing",
      message: `pool "builders" is not in ${fixture.remote} (branch main): no builders/claimed or builders/unclaimed directory; pools there: testers, workers.`,
    },
  });
});

test("26.5: a repository that cannot be cloned is a failure that says what to check", async () => {
  const missing = `${fixture.root}/no-such.git`;
  const result = await withPoolRepo({ url: missing, cwd: fixture.root, env: isolatedGitEnv() }, (repo) => readPools(repo, [], NOW));
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.error.reason).toBe("git-failed");
  expect(result.error.message).toMatch(new RegExp(`^could not clone the pool repository ${missing}: \`git clone --quiet --no-tags -- ${missing} \\S+\` exited with status 128:\\n`));
  expect(result.error.message).toMatch(/\nCheck the URL, and that git reaches it without asking for a password \(prompts are off\)\.$/);
});

test("26.5: --branch reads the pools of that branch; a branch that is not there fails naming it", async () => {
  const layout = git(fixture.pipeline, ["rev-list", "--max-parents=0", "HEAD"]).trim();
  git(fixture.pipeline, ["push", "--quiet", "origin", `${layout}:refs/heads/locks`]);
  const onBranch = (branch: string) =>
    withPoolRepo({ url: fixture.remote, branch, cwd: fixture.root, env: isolatedGitEnv() }, async (repo) => {
      const pools = await readPools(repo, [{ name: "testers", staleAfterMinutes: 30 }], NOW);
      return pools.ok ? { ok: true as const, value: `${repo.branch}\n${formatStatus(pools.value)}` } : pools;
    });
  expect(await onBranch("locks")).toEqual({ ok: true, value: "locks\ntesters (stale after 30m): 0 claimed, 2 unclaimed\n  t1  unclaimed\n  t2  unclaimed\n" });
  const missing = await onBranch("no-such-branch");
  expect(missing.ok).toBe(false);
  if (!missing.ok) expect(missing.error.message).toMatch(/\nCheck the URL and the branch "no-such-branch", and that git reaches it without asking for a password \(prompts are off\)\.$/);
});
