/** The sandbox runner from the Buildfile and the command line (issue 27.1): `runner: "sandbox"`, `network`, `--sandbox`. */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { testWorkspace } from "./test-support/workspace.js";

const HEADER = `import { task } from "rbuild";\n`;

const CHAIN =
  HEADER +
  `const gen = task({ name: "gen", inputs: ["src/**"], outputs: ["gen/**"], runner: "sandbox", run: "mkdir -p gen && tr a-z A-Z < src/a.txt > gen/a.txt" });\n` +
  `task({ name: "use", deps: [gen], inputs: ["main.txt"], outputs: ["out/**"], runner: "sandbox", run: "mkdir -p out && cat main.txt gen/a.txt > out/all.txt" });\n`;

test("27.1: a sandboxed task reads its inputs and its deps' outputs; its outputs are collected, cached and restored", async () => {
  const ws = testWorkspace({ "Buildfile.ts": CHAIN, "src/a.txt": "from src\n", "main.txt": "main\n", "unrelated.txt": "x\n" });
  expect(await ws.run(["use"])).toEqual({ exitCode: 0, stdout: "> gen\n✓ gen (<t>)\n> use\n✓ use (<t>)\n", stderr: "rbuild: ok: 2 ran, 0 cached in <t>\n" });
  expect(ws.read("out/all.txt")).toBe("main\nFROM SRC\n");
  rmSync(join(ws.root, "out"), { recursive: true });
  rmSync(join(ws.root, "gen"), { recursive: true });
  expect(await ws.run(["use"])).toEqual({ exitCode: 0, stdout: "✓ gen (cached, local)\n✓ use (cached, local)\n", stderr: "rbuild: ok: 0 ran, 2 cached in <t>\n" });
  expect(ws.read("out/all.txt")).toBe("main\nFROM SRC\n");
});

test("27.1: an undeclared read fails the task, naming it, the file and the input to add; --sandbox does it for a pure task", async () => {
  const ws = testWorkspace({
    "Buildfile.ts": HEADER + `task({ name: "leaky", inputs: ["main.txt"], outputs: ["out.txt"], run: "cat main.txt config/secret.txt > out.txt" });\n`,
    "main.txt": "main\n",
    "config/secret.txt": "s\n",
  });
  expect(await ws.run(["leaky"])).toEqual({ exitCode: 0, stdout: "> leaky\n✓ leaky (<t>)\n", stderr: "rbuild: ok: 1 ran, 0 cached in <t>\n" });
  expect(await ws.run(["leaky", "--sandbox", "--force"])).toEqual({
    exitCode: 1,
    stdout: "> leaky\n✗ leaky (<t>)\n",
    stderr:
      "[leaky] cat: config/secret.txt: No such file or directory\n" +
      'error: Task "leaky" read config/secret.txt, which is not among its inputs or its deps\' outputs: in its sandbox it is missing, and it exited with code 1. ' +
      'Add "config/secret.txt" to its `inputs` (or make the task that writes it one of its deps).\n' +
      "rbuild: failed: 0 ran, 0 cached, 1 failed in <t>\n",
  });
});

test("27.1: a write outside the declared outputs fails the task, naming the files and the output to add", async () => {
  const ws = testWorkspace({ "Buildfile.ts": HEADER + `task({ name: "messy", outputs: ["dist/**"], runner: "sandbox", run: "mkdir -p dist && echo d > dist/d.txt && echo l > build.log" });\n` });
  expect(await ws.run(["messy"])).toEqual({
    exitCode: 1,
    stdout: "> messy\n✗ messy (<t>)\n",
    stderr:
      "[messy] /bin/sh: 1: cannot create build.log: Read-only file system\n" +
      'error: Task "messy" wrote build.log, which no glob of its `outputs` matches: it would not be stored or restored. Add "build.log" to its `outputs`, or write scratch files under /tmp (a fresh directory in the sandbox).\n' +
      "rbuild: failed: 0 ran, 0 cached, 1 failed in <t>\n",
  });
  expect([existsSync(join(ws.root, "build.log")), existsSync(join(ws.root, "dist/d.txt"))]).toEqual([false, false]);
});

test("27.1: --sandbox leaves impure tasks and tasks that say runner: \"local\" in place", async () => {
  const ws = testWorkspace({
    "Buildfile.ts":
      HEADER +
      `task({ name: "deploy", pure: false, run: "cat secret.txt" });\n` +
      `task({ name: "local", runner: "local", run: "cat secret.txt" });\n`,
    "secret.txt": "seen\n",
  });
  expect(await ws.run(["deploy", "local", "--sandbox", "-j", "1"])).toEqual({
    exitCode: 0,
    stdout: "> deploy\n[deploy] seen\n✓ deploy (<t>)\n> local\n[local] seen\n✓ local (<t>)\n",
    stderr: "rbuild: ok: 2 ran, 0 cached in <t>\n",
  });
});

test("27.1: runner and network are checked like every field", async () => {
  const ws = testWorkspace({ "Buildfile.ts": HEADER + `task({ name: "a", runner: "docker", network: "yes", run: "true" });\n` });
  expect(await ws.run(["a"])).toEqual({
    exitCode: 2,
    stdout: "",
    stderr:
      'rbuild: error: Buildfile.ts:2:1: Task "a": `runner` must be "local" or "sandbox", got "docker"\n' +
      'rbuild: error: Buildfile.ts:2:1: Task "a": `network` must be true or false, got "yes"\n',
  });
});
