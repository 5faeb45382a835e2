import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { claim, cloneAgain, hooksEnv, makePoolFixture, anotherClonePushes, remoteLocks, remoteSubjects, type PoolFixture } from "../../test-support/pool-repos.js";
import { testWorkspace, type Workspace } from "./test-support/workspace.js";

const MINUTE = 60_000;
let fixture: PoolFixture;
let ws: Workspace;
/** When the claims were made, to the minute and in the past (ages are whole minutes since then). */
let threeHoursAgo: string;
let tenMinutesAgo: string;

beforeEach(() => {
  fixture = makePoolFixture({ workers: ["worker-1", "worker-2", "worker-3"], testers: ["t1"] });
  ws = testWorkspace({});
  const minute = Math.floor(Date.now() / MINUTE) * MINUTE;
  threeHoursAgo = new Date(minute - 180 * MINUTE).toISOString();
  tenMinutesAgo = new Date(minute - 10 * MINUTE).toISOString();
  claim(fixture.pipeline, "workers", "worker-1", threeHoursAgo, "main/deploy/smoke build 12 claiming: worker-1");
  claim(fixture.pipeline, "workers", "worker-2", tenMinutesAgo, "main/deploy/apply build 7 claiming: worker-2");
});
afterEach(() => fixture.cleanup());

const gitEnv = (extra: Record<string, string> = {}): Record<string, string> => ({ GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1", ...extra });

async function pool(args: string[], env: Record<string, string> = {}): Promise<{ exitCode: number | undefined; stdout: string; stderr: string }> {
  const result = await ws.run(["pool", ...args], { env: gitEnv(env) });
  const tidy = (text: string): string => text.replaceAll(fixture.root, "<repos>").replace(/claimed (\d+m|\d+h\d\dm|\d+d\d\dh) ago/g, "claimed <age> ago");
  return { exitCode: result.exitCode, stdout: tidy(result.stdout), stderr: tidy(result.stderr) };
}

test("26.5: rbuild pool status --git lists each lock, claimed ones with age and build, stale ones marked (a path relative to the current directory)", async () => {
  expect(await pool(["status", `--git=${relative(ws.root, fixture.remote)}`, "--pools", "workers:60,testers:30"])).toEqual({
    exitCode: 0,
    stderr: "",
    stdout: [
      "workers (stale after 1h00m): 2 claimed (1 stale), 1 unclaimed",
      "  worker-1  claimed <age> ago by main/deploy/smoke build 12  STALE",
      "  worker-2  claimed <age> ago by main/deploy/apply build 7",
      "  worker-3  unclaimed",
      "testers (stale after 30m): 0 claimed, 1 unclaimed",
      "  t1  unclaimed",
      "",
    ].join("\n"),
  });
});

test("26.5: rbuild pool status --git --json gives each claim's commit time, age and build", async () => {
  const before = Date.now();
  const result = await ws.run(["pool", "status", "--git", fixture.remote, "--pools", "workers:60", "--json"], { env: gitEnv() });
  const after = Date.now();
  expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: "" });
  const ageBetween = (iso: string) => expect.toSatisfy((age: number) => age >= Math.floor((before - Date.parse(iso)) / MINUTE) && age <= Math.floor((after - Date.parse(iso)) / MINUTE));
  const commit = expect.stringMatching(/^[0-9a-f]{40}$/);
  expect(JSON.parse(result.stdout)).toEqual({
    repo: fixture.remote,
    branch: "main",
    pools: [
      {
        name: "workers",
        staleAfterMinutes: 60,
        locks: [
          {
            name: "worker-1",
            state: "claimed",
            commit,
            claimedAt: threeHoursAgo,
            ageMinutes: ageBetween(threeHoursAgo),
            build: { kind: "job", team: "main", pipeline: "deploy", job: "smoke", build: "12" },
            claimedBy: "main/deploy/smoke build 12",
            stale: true,
          },
          {
            name: "worker-2",
            state: "claimed",
            commit,
            claimedAt: tenMinutesAgo,
            ageMinutes: ageBetween(tenMinutesAgo),
            build: { kind: "job", team: "main", pipeline: "deploy", job: "apply", build: "7" },
            claimedBy: "main/deploy/apply build 7",
            stale: false,
          },
          { name: "worker-3", state: "unclaimed" },
        ],
      },
    ],
  });
});

test("26.5: rbuild pool clean --git moves the stale claim back while another clone pushes, retrying once", async () => {
  const other = cloneAgain(fixture, "other");
  const hooks = anotherClonePushes(fixture, other, [
    "git mv testers/unclaimed/t1 testers/claimed/t1",
    "git commit --quiet -m 'main/deploy/test build 4 claiming: t1'",
  ]);
  expect(await pool(["clean", "--git", fixture.remote, "--pools", "workers:60,testers:30"], hooksEnv(hooks))).toEqual({
    exitCode: 0,
    stderr: "",
    stdout: [
      "kept worker-2 of workers: claimed <age> ago by main/deploy/apply build 7, within the pool's 1h00m",
      "unclaimed worker-1 of workers: claimed <age> ago by main/deploy/smoke build 12, past the pool's 1h00m",
      "pushed 1 commit to main of <repos>/locks.git (after 1 non-fast-forward retry)",
      "",
    ].join("\n"),
  });
  expect(readFileSync(join(hooks, "pushes"), "utf8")).toBe("x\n");
  expect(remoteSubjects(fixture)).toEqual([
    "rbuild pool boy unclaiming: worker-1",
    "main/deploy/test build 4 claiming: t1",
    "main/deploy/apply build 7 claiming: worker-2",
    "main/deploy/smoke build 12 claiming: worker-1",
    "lay out the pools",
  ]);
  expect(remoteLocks(fixture, "workers")).toEqual(["claimed/worker-2", "unclaimed/worker-1", "unclaimed/worker-3"]);
  expect(remoteLocks(fixture, "testers")).toEqual(["claimed/t1"]);
});

test("26.5: rbuild pool clean --git --dry-run says what it would move and pushes nothing", async () => {
  const before = remoteSubjects(fixture);
  expect(await pool(["clean", "--git", fixture.remote, "--pools", "workers:60", "--dry-run"])).toEqual({
    exitCode: 0,
    stderr: "",
    stdout: [
      "kept worker-2 of workers: claimed <age> ago by main/deploy/apply build 7, within the pool's 1h00m",
      "would unclaim worker-1 of workers: claimed <age> ago by main/deploy/smoke build 12, past the pool's 1h00m",
      "dry run: nothing committed or pushed",
      "",
    ].join("\n"),
  });
  expect(remoteSubjects(fixture)).toEqual(before);
});

test("26.5: --concourse without credentials is a usage error that says where they come from (exit 2)", async () => {
  const result = await pool(["clean", "--git", fixture.remote, "--pools", "workers:60", "--concourse", "https://ci.test"]);
  expect({ exitCode: result.exitCode, stdout: result.stdout, first: result.stderr.split("\n")[0] }).toEqual({
    exitCode: 2,
    stdout: "",
    first: "rbuild: error: --concourse needs a user to log in as: set CONCOURSE_USERNAME (or pass --username).",
  });
  expect(remoteSubjects(fixture)[0]).toBe("main/deploy/apply build 7 claiming: worker-2");
});

test("26.5: a bad command line is a usage error (exit 2); a pool not in the repository fails (exit 1)", async () => {
  expect(await pool(["status", "--git", fixture.remote])).toEqual({
    exitCode: 2,
    stdout: "",
    stderr: [
      "rbuild: error: --pools needs name:minutes pairs, e.g. --pools workers:60,testers:30.",
      "Usage: rbuild pool status --git REPO --pools NAME:MINUTES,... [--branch B] [--json]",
      "       rbuild pool clean --git REPO --pools NAME:MINUTES,... [--branch B] [-n/--dry-run]",
      "   with [--concourse URL [--team T]]: a stale claim is unclaimed only when Concourse says its build has",
      "   finished or does not exist; log in with CONCOURSE_USERNAME and CONCOURSE_PASSWORD (or --username/--password).",
      "REPO is a Concourse pool-resource repository (a URL or a path); a claim older than its pool's MINUTES is stale.",
      "",
    ].join("\n"),
  });
  expect(await pool(["clean", "--git", fixture.remote, "--pools", "builders:60"])).toEqual({
    exitCode: 1,
    stdout: "",
    stderr: 'rbuild: error: pool "builders" is not in <repos>/locks.git (branch main): no builders/claimed or builders/unclaimed directory; pools there: testers, workers.\n',
  });
});
