/** How `rbuild export` and `rbuild show` answer for a task not yet run when the Buildfile does not load (an independent run of 27.4 item 3). */
import { expect, test } from "vitest";
import { testWorkspace } from "./test-support/workspace.js";

const HEADER = `import { task } from "rbuild";\n`;

test("27.4: a task the history does not know, in a Buildfile that does not load, is answered with the Buildfile's errors, not as an unknown task", async () => {
  const ws = testWorkspace({ "Buildfile.ts": HEADER + `task({ name: "a", outputs: ["out/a.txt"], run: "mkdir -p out && echo a > out/a.txt" });\n` });
  expect((await ws.run(["a"])).exitCode).toBe(0);
  // A new task whose outputs overlap the first's: the Buildfile no longer loads, and "b" has never run.
  ws.write({ "Buildfile.ts": HEADER + `task({ name: "a", outputs: ["out/a.txt"], run: "mkdir -p out && echo a > out/a.txt" });\ntask({ name: "b", outputs: ["out/**"], run: "true" });\n` });
  const overlap =
    'rbuild: error: Buildfile.ts:3:1: Tasks "a" and "b" both declare out/a.txt as an output ("a" through "out/a.txt", "b" through "out/**"). Each would delete and store the other\'s files: narrow one of the globs, or leave the other task\'s files out with a "!" glob.\n';
  expect(await ws.run(["export", "b", "--oci", "layout"])).toEqual({ exitCode: 2, stdout: "", stderr: overlap });
  expect(await ws.run(["show", "b"])).toEqual({ exitCode: 2, stdout: "", stderr: overlap });
  // A task the history knows is still answered from it.
  expect((await ws.run(["export", "a", "--oci", "layout"])).exitCode).toBe(0);
});
