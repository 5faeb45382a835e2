import { afterEach, expect, test } from "vitest";
import { daemonPids, stopDaemons, until } from "./test-support/daemon.js";
import { testWorkspace, type Workspace } from "./test-support/workspace.js";

let ws: Workspace | undefined;
afterEach(() => {
  if (ws !== undefined) stopDaemons(ws);
  ws = undefined;
});

test("28.1: with the workspace's daemon running, `rbuild concourse validate FILE` is the command, not a build of tasks named concourse", async () => {
  const workspace = testWorkspace({
    "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "lib", run: "echo lib" });\n`,
    "pipeline.yml": "resources:\n  - name: src\n    type: git\njobs:\n  - name: a\n    plan:\n      - get: src\n",
  });
  ws = workspace;
  const env = { RBUILD_DAEMON: "1" };
  expect((await workspace.run(["lib"], { command: true, env })).exitCode).toBe(0);
  await until("the daemon listens", () => daemonPids(workspace).length > 0);
  expect(await workspace.run(["concourse", "validate", "pipeline.yml"], { command: true, env })).toEqual({ exitCode: 0, stdout: "looks good\n", stderr: "" });
  // --only builds are the daemon's like any other.
  expect(await workspace.run(["run", "lib", "--only", "--output", "plain"], { command: true, env })).toEqual({
    exitCode: 0,
    stdout: expect.stringMatching(/^(> lib\n\[lib\] lib\n✓ lib \(<t>\)|✓ lib \(cached, local\))\n$/),
    stderr: expect.stringMatching(/^rbuild: ok: /),
  });
});
