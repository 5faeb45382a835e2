import { afterEach, beforeEach, expect, test } from "vitest";
import { ConcourseClient } from "@rbuild/concourse";
import { FakeConcourse } from "../../packages/concourse/src/test-support/fake-concourse.js";
import { claim, makePoolFixture, remoteLocks, type PoolFixture } from "../../test-support/pool-repos.js";
import { testWorkspace, type Workspace } from "./test-support/workspace.js";

const MINUTE = 60_000;
const PASSWORD = "pool-pass-5";
let fixture: PoolFixture;
let ws: Workspace;
let fake: FakeConcourse;

const PIPELINE = JSON.stringify({
  jobs: [{ name: "smoke", plan: [{ task: "run", config: { platform: "linux", image_resource: { type: "registry-image", source: { repository: "busybox" } }, run: { path: "true" } } }] }],
});

/** Builds 1..n of job smoke of pipeline deploy (team main), in the given states; the pipeline stays paused. */
async function builds(states: readonly ("pending" | "started" | "succeeded" | "failed")[]): Promise<void> {
  const client = new ConcourseClient({ url: fake.url, team: "main", username: "main", password: PASSWORD });
  expect((await client.setPipeline("deploy", PIPELINE)).ok).toBe(true);
  for (const state of states) {
    const build = await client.triggerJob("deploy", "smoke");
    if (!build.ok) throw new Error(build.error.message);
    const held = fake.build(build.value.id)!;
    if (state === "started") held.start(Math.floor(Date.now() / 1000));
    if (state === "succeeded" || state === "failed") held.finish(state, Math.floor(Date.now() / 1000));
  }
  await client.close();
}

beforeEach(async () => {
  fake = await FakeConcourse.start({ users: [{ username: "main", password: PASSWORD, teams: { main: ["owner"] } }] });
  fixture = makePoolFixture({ workers: ["w1", "w2", "w3", "w4", "w5"] });
  ws = testWorkspace({});
  const threeHoursAgo = new Date(Math.floor(Date.now() / MINUTE) * MINUTE - 180 * MINUTE).toISOString();
  claim(fixture.pipeline, "workers", "w1", threeHoursAgo, "main/deploy/smoke build 1 claiming: w1");
  claim(fixture.pipeline, "workers", "w2", threeHoursAgo, "main/deploy/smoke build 2 claiming: w2");
  claim(fixture.pipeline, "workers", "w3", threeHoursAgo, "main/deploy/smoke build 3 claiming: w3");
  claim(fixture.pipeline, "workers", "w4", threeHoursAgo, "main/deploy/smoke build 99 claiming: w4");
  claim(fixture.pipeline, "workers", "w5", threeHoursAgo, "adding claimed: w5");
});
afterEach(async () => {
  fixture.cleanup();
  await fake.close();
});

async function pool(args: string[], password = PASSWORD): Promise<{ exitCode: number | undefined; stdout: string; stderr: string }> {
  const env = { GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1", CONCOURSE_USERNAME: "main", CONCOURSE_PASSWORD: password };
  const result = await ws.run(["pool", ...args], { env });
  const tidy = (text: string): string =>
    text.replaceAll(fixture.root, "<repos>").replaceAll(fake.url, "<ci>").replace(/claimed (\d+m|\d+h\d\dm|\d+d\d\dh) ago/g, "claimed <age> ago").replace(/\(\d+\.\d+\.\d+\.\d+:\d+\)|127\.0\.0\.1:\d+/g, "<addr>");
  return { exitCode: result.exitCode, stdout: tidy(result.stdout), stderr: tidy(result.stderr) };
}

test("26.5: pool status --concourse shows each stale claim's build status", async () => {
  await builds(["started", "failed", "succeeded"]);
  expect(await pool(["status", "--git", fixture.remote, "--pools", "workers:60", "--concourse", fake.url])).toEqual({
    exitCode: 0,
    stderr: "",
    stdout: [
      "workers (stale after 1h00m): 5 claimed (5 stale), 0 unclaimed",
      "  w1  claimed <age> ago by main/deploy/smoke build 1  STALE (build running)",
      "  w2  claimed <age> ago by main/deploy/smoke build 2  STALE (build failed)",
      "  w3  claimed <age> ago by main/deploy/smoke build 3  STALE (build succeeded)",
      "  w4  claimed <age> ago by main/deploy/smoke build 99  STALE (no such build)",
      "  w5  claimed <age> ago by no build (added already claimed)  STALE (build not checked: the lock was added already claimed, by no build)",
      "",
    ].join("\n"),
  });
});

test("26.5: pool clean --concourse leaves running and unidentifiable claims, unclaims finished and unknown (404) builds' claims", async () => {
  await builds(["started", "failed", "succeeded"]);
  const result = await pool(["clean", "--git", fixture.remote, "--pools", "workers:60", "--concourse", fake.url, "--team", "main"]);
  expect(result).toEqual({
    exitCode: 0,
    stderr: "",
    stdout: [
      "unclaimed w2 of workers: claimed <age> ago by main/deploy/smoke build 2, past the pool's 1h00m (build failed)",
      "unclaimed w3 of workers: claimed <age> ago by main/deploy/smoke build 3, past the pool's 1h00m (build succeeded)",
      "unclaimed w4 of workers: claimed <age> ago by main/deploy/smoke build 99, past the pool's 1h00m (no such build)",
      "left w1 of workers alone: stale, but its build is still running",
      "left w5 of workers alone: stale, but whether its build still runs is not known (the lock was added already claimed, by no build); a claim is never unclaimed on doubt",
      "pushed 3 commits to main of <repos>/locks.git",
      "",
    ].join("\n"),
  });
  expect(remoteLocks(fixture, "workers")).toEqual(["claimed/w1", "claimed/w5", "unclaimed/w2", "unclaimed/w3", "unclaimed/w4"]);
});

test("26.5: pool clean --concourse with Concourse unreachable leaves everything and exits 1", async () => {
  const url = fake.url;
  await fake.close();
  fake = await FakeConcourse.start();
  const result = await pool(["clean", "--git", fixture.remote, "--pools", "workers:60", "--concourse", url]);
  expect(result.exitCode).toBe(1);
  expect(result.stdout).toBe("");
  expect(result.stderr).toMatch(/^rbuild: error: .*\nWhether the builds of the stale claims \(w1 of workers, w2 of workers, w3 of workers, w4 of workers, w5 of workers\) still run could not be checked\. Left every one of them alone; nothing was changed\.\n$/s);
  expect(remoteLocks(fixture, "workers")).toEqual(["claimed/w1", "claimed/w2", "claimed/w3", "claimed/w4", "claimed/w5"]);
});

test("26.5: pool clean --concourse with bad credentials leaves everything, exits 1, and never prints the password", async () => {
  await builds(["failed"]);
  const result = await pool(["clean", "--git", fixture.remote, "--pools", "workers:60", "--concourse", fake.url], "wrong-secret-3");
  expect(result.exitCode).toBe(1);
  expect(result.stdout).toBe("");
  expect(result.stderr).toMatch(/^rbuild: error: .*\nWhether the builds of the stale claims .* still run could not be checked\. Left every one of them alone; nothing was changed\.\n$/s);
  expect(`${result.stdout}${result.stderr}`).not.toContain("wrong-secret-3");
  expect(remoteLocks(fixture, "workers")).toEqual(["claimed/w1", "claimed/w2", "claimed/w3", "claimed/w4", "claimed/w5"]);
});
