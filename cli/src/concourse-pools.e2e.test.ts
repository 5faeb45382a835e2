import { expect, test } from "vitest";
import { parse } from "yaml";
import { testWorkspace } from "./test-support/workspace.js";

test("28.1: a Buildfile pool becomes its jobs' serial group", async () => {
  const ws = testWorkspace({
    "Buildfile.ts": `import { pool, task } from "rbuild";
const staging = pool("Staging_Env", { size: 1 });
const migrate = task({ name: "migrate", pure: false, pool: staging, run: "echo migrate" });
task({ name: "deploy", deps: [migrate], pure: false, pool: staging, run: "echo deploy" });
task({ name: "lint", run: "echo lint" });
`,
  });
  const result = await ws.run(["concourse", "render", "deploy", "lint", "--image", "acme/rbuild-ci:1", "--remote", "https://cache.example:8080"]);
  expect(result.exitCode).toBe(0);
  const config = parse(result.stdout);
  expect(config.jobs.map((job: { name: string; serial_groups?: string[] }) => [job.name, job.serial_groups])).toEqual([
    ["lint", undefined],
    ["migrate", ["staging_env"]],
    ["deploy", ["staging_env"]],
  ]);
});
