import { cpSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { testWorkspace, type RunResult, type Workspace } from "./test-support/workspace.js";

const FIXTURE = fileURLToPath(new URL("../../fixtures/deploy-pipeline/", import.meta.url));

/** A copy of the fixture, without what a build of it left there. */
function deployPipeline(): Workspace {
  const ws = testWorkspace({});
  cpSync(FIXTURE, ws.root, { recursive: true, filter: (source) => !/\/(dist|out|envs|\.rbuild)(\/|$)/.test(source.slice(FIXTURE.length - 1)) });
  return ws;
}

/** rbuild's output with the times it cannot know ahead normalised too: stubbed and flaky tasks', and retry waits. */
async function run(ws: Workspace, args: readonly string[]): Promise<RunResult> {
  const result = await ws.run(args);
  const times = (text: string): string =>
    text
      .replace(/\((stubbed, )?(\d+ms|\d+\.\ds)(, flaky: \d attempts)?\)/g, "($1<t>$3)")
      .replace(/ in \d+ ms: /g, " in <ms>: ")
      .replace(/ in (\d+ms|\d+\.\ds)$/gm, " in <t>");
  return { exitCode: result.exitCode, stdout: times(result.stdout), stderr: times(result.stderr) };
}

/** The smoke test's "not answering yet" goes to stderr, once per failed attempt. */
const WARMING = "[smoke-staging] staging is not answering yet\n".repeat(2);
const UP_TO_STAGING =
  "── stage ci ──\n" +
  "> build\n[build] built app 1.4.0\n✓ build (<t>)\n" +
  "> test\n[test] app says: hello from app 1.4.0\n✓ test (<t>)\n" +
  "> package\n[package] packaged out/app.tar (1.4.0)\n✓ package (<t>)\n" +
  "── stage staging ──\n" +
  "> deploy-staging\n[deploy-staging] deployed 1.4.0 to staging\n✓ deploy-staging (<t>)\n" +
  "> migrate-staging\n[migrate-staging] migrated staging to schema 3\n✓ migrate-staging (<t>)\n" +
  "> smoke-staging\nretrying smoke-staging (attempt 2 of 4) in <ms>: exit 75\n" +
  "> smoke-staging\nretrying smoke-staging (attempt 3 of 4) in <ms>: exit 75\n" +
  "> smoke-staging\n[smoke-staging] staging answers: hello from app 1.4.0\n✓ smoke-staging (<t>, flaky: 3 attempts)\n" +
  "── stage production ──\n";

test("26.7: fixtures/deploy-pipeline with --stub promote: staging deployed and smoke-tested, production only stubbed", async () => {
  const ws = deployPipeline();
  const result = await run(ws, ["release", "-j", "1", "--output", "plain", "--stub", "promote=echo would promote $APP_VERSION"]);
  expect(result).toEqual({
    exitCode: 0,
    stdout: `${UP_TO_STAGING}> promote\n[promote] would promote 1.4.0\n✓ promote (stubbed, <t>)\n`,
    stderr: WARMING + "rbuild: ok: 7 ran, 0 cached, 1 flaky (smoke-staging), 1 stubbed (promote) in <t>\n",
  });
  expect([ws.read("envs/staging/current"), existsSync(join(ws.root, "envs/production"))]).toEqual(["1.4.0\n", false]);
});

test("26.7: fixtures/deploy-pipeline: a failed (stubbed) promotion rolls staging back through the undos, the migration's first", async () => {
  const ws = deployPipeline();
  const result = await run(ws, ["release", "-j", "1", "--output", "plain", "--stub", "promote=echo production refused >&2; exit 1"]);
  expect(result).toEqual({
    exitCode: 1,
    stdout:
      `${UP_TO_STAGING}> promote\n✗ promote (stubbed, <t>)\n- release skipped (dependency-failed: promote)\n` +
      "> undo migrate-staging\n[migrate-staging] migrated staging back to schema none\nundo migrate-staging: ok\n" +
      "> undo deploy-staging\n[deploy-staging] removed 1.4.0 from staging\nundo deploy-staging: ok\n",
    stderr:
      WARMING +
      '[promote] production refused\nerror: Task "promote" failed: its command exited with code 1.\n' +
      "rbuild: failed: 6 ran, 0 cached, 1 flaky (smoke-staging), 1 stubbed (promote), 1 failed, 1 skipped in <t>\n",
  });
  expect(existsSync(join(ws.root, "envs/staging/current"))).toBe(false);
});
