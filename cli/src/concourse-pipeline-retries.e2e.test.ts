import { mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { expect, onTestFinished, test } from "vitest";
import { startCacheServer } from "rbuild-cache-server";
import { ConcourseClient } from "../../packages/concourse/src/client/client.js";
import { FakeConcourse } from "../../packages/concourse/src/test-support/fake-concourse.js";
import { RBUILD_COMMAND, testWorkspace } from "./test-support/workspace.js";

// A rendered pipeline's job on the test double, which runs `get: source` as a copy of the workspace and rbuild from PATH (issue 28.2).
const TIMEOUT = 180_000;

function scratch(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-cpipe-")));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("28.2: a rendered job whose task has retries: 2 and fails every time runs it exactly 3 times, not 3 x 3", { timeout: TIMEOUT }, async () => {
  const runs = join(scratch(), "runs");
  const ws = testWorkspace({
    "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "flaky", retries: 2, retryDelay: 1, run: "echo ran >> ${runs}; echo no luck; exit 5" });\n`,
  });
  const cache = await startCacheServer({ dir: scratch(), port: 0, maxSize: 1e9 });
  onTestFinished(() => cache.stop());
  const rendered = await ws.run(["concourse", "render", "--image", "acme/rbuild-ci:1", "--remote", cache.url, "--out", "pipeline.yml"]);
  expect(rendered.exitCode).toBe(0);

  const fake = await FakeConcourse.start({
    resources: { source: ws.root },
    taskEnv: { PATH: `${dirname(RBUILD_COMMAND)}:${process.env.PATH ?? "/usr/bin:/bin"}`, RBUILD_DAEMON: "0" },
  });
  onTestFinished(() => fake.close());
  const concourse = new ConcourseClient({ url: fake.url, team: "main", username: "main", password: "main" });
  onTestFinished(() => concourse.close());
  expect((await concourse.setPipeline("app", ws.read("pipeline.yml"))).ok).toBe(true);
  expect((await concourse.unpause("app")).ok).toBe(true);
  const build = await concourse.triggerJob("app", "flaky");
  if (!build.ok) throw new Error(build.error.message);
  let log = "";
  const followed = await concourse.followBuild(build.value.id, { onEvent: (event) => void (event.event === "log" && (log += event.data.payload)) });

  expect(followed).toMatchObject({ ok: true, value: { status: "failed" } });
  expect([readFileSync(runs, "utf8"), log.match(/^\[flaky\] no luck$/gm)?.length]).toEqual(["ran\nran\nran\n", 3]);
});
