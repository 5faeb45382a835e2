/** The Buildfile's option checks as a user meets them: before the build, at the line to fix, naming the field or the pool and what is accepted. */
import { expect, test } from "vitest";
import { testWorkspace } from "./test-support/workspace.js";

test("H.3: absurd retries and an empty retryOn are refused before anything runs, at the task's line, with the accepted range", async () => {
  const ws = testWorkspace({
    "Buildfile.ts": `import { task } from "rbuild";
task({ name: "deploy", pure: false, retries: 1e9, run: "touch ran" });
task({ name: "smoke", pure: false, retries: 3, retryOn: [], run: "touch ran" });
`,
  });
  expect(await ws.run(["deploy", "smoke"])).toEqual({
    exitCode: 2,
    stdout: "",
    stderr:
      'rbuild: error: Buildfile.ts:2:1: Task "deploy": `retries` must be a whole number of retries from 0 to 100, got 1000000000\n' +
      'rbuild: error: Buildfile.ts:3:1: Task "smoke": `retryOn` must list at least one exit code (whole numbers from 1 to 255), e.g. [75]; leave it out to retry on any failure\n',
  });
});

test("H.3: a pool whose name has whitespace is refused at the pool() that declares it, naming the pool, once for the two tasks using it", async () => {
  const ws = testWorkspace({
    "Buildfile.ts": `import { pool, task } from "rbuild";
const staging = pool("staging env", { size: 1 });
task({ name: "deploy", pure: false, pool: staging, run: "touch ran" });
task({ name: "migrate", pure: false, pool: staging, run: "touch ran" });
`,
  });
  expect(await ws.run(["deploy", "migrate"])).toEqual({
    exitCode: 2,
    stdout: "",
    stderr:
      'rbuild: error: Buildfile.ts:2:17: Pool "staging env": its name must be a non-empty name of at most 200 characters without whitespace or control characters (it is typed in `rbuild pool` commands), got "staging env"\n',
  });
});
