/** Issue 20's defects that only show through the command: each test is named after its item. */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { Workspace } from "./test-support/workspace.js";

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.remove());

const HEADER = `import { task } from "rbuild";\n`;

describe("Buildfile and task errors", () => {
  test("20.11: a top-level await that never settles is a Buildfile error, not a silent exit 13", async () => {
    ws.write({ "Buildfile.ts": `${HEADER}await new Promise(() => {});\ntask({ name: "a", run: "true" });\n` });
    expect(await ws.run(["a"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: "rbuild: error: Buildfile.ts: its top-level code awaits something that never settles (nothing is left for it to wait on)\n(thrown while loading Buildfile.ts; fix the Buildfile and run again)\n",
    });
  });

  test("20.11: a throw from a timer while loading is exit 2 with its place", async () => {
    ws.write({ "Buildfile.ts": `${HEADER}setTimeout(() => {\n  throw new Error("late");\n}, 1);\nawait new Promise((r) => setTimeout(r, 100));\n` });
    expect(await ws.run(["a"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: "rbuild: error: Buildfile.ts:3:9: late\n(thrown while loading Buildfile.ts; fix the Buildfile and run again)\n",
    });
  });

  test("20.11: a task function's stray throw or unawaited rejection fails that task, and the others go on", async () => {
    ws.write({
      "Buildfile.ts":
        HEADER +
        `const wait = () => new Promise((r) => setTimeout(r, 300));\n` +
        `task({ name: "timer", run: async () => { setTimeout(() => { throw new Error("from a timer"); }, 1); await wait(); } });\n` +
        `task({ name: "promise", run: async () => { void Promise.reject(new Error("nobody awaits me")); await wait(); } });\n` +
        `task({ name: "fine", run: async () => { await wait(); } });\n`,
    });
    const result = await ws.run(["-k", "timer", "promise", "fine"]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout.split("\n").filter((line) => /^[✓✗]/.test(line)).sort()).toEqual(["✓ fine (<t>)", "✗ promise (<t>)", "✗ timer (<t>)"]);
    expect(result.stderr).toBe(
      'error: Buildfile.ts:4:64: Task "promise" failed: nobody awaits me\nerror: Buildfile.ts:3:67: Task "timer" failed: from a timer\nrbuild: failed: 1 ran, 0 cached, 2 failed in <t>\n',
    );
  });

  test("20.11: a task function's throw after the task has finished names the task and fails the run", async () => {
    ws.write({
      "Buildfile.ts": `${HEADER}task({ name: "early", run: async () => { setTimeout(() => { throw new Error("too late"); }, 50); } });\ntask({ name: "slow", run: "sleep 2" });\n`,
    });
    const result = await ws.run(["early", "slow"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe('rbuild: error: Buildfile.ts:2:67: too late\n(thrown by task "early" after it had finished; await the work it starts)\n');
  });

  test("20.20: an import of a name rbuild does not export points at the Buildfile's import", async () => {
    ws.write({ "Buildfile.ts": `import { task, nosuch } from "rbuild";\nnosuch();\ntask({ name: "a" });\n` });
    expect(await ws.run(["a"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: `rbuild: error: Buildfile.ts:1:16: The requested module "rbuild" does not provide an export named 'nosuch'\n(thrown while loading Buildfile.ts; fix the Buildfile and run again)\n`,
    });
  });
});

describe("the Buildfile's directory", () => {
  test("20.17: the Buildfile sees the workspace root as its directory from a subdirectory and with -C", async () => {
    ws.write({
      "packages/app/package.json": "{}",
      "packages/lib/package.json": "{}",
      "tools/README": "",
      "Buildfile.ts": `${HEADER}import { readdirSync } from "node:fs";\nfor (const pkg of readdirSync("packages")) task({ name: pkg, run: "true" });\n`,
    });
    for (const [args, cwd] of [[["list"], `${ws.root}/packages/app`], [["-C", "tools", "list"], ws.root], [["-C", ws.root, "list"], "/"]] as const) {
      expect(await ws.run(args, { cwd })).toEqual({ exitCode: 0, stdout: "app\nlib\n", stderr: "" });
    }
  });
});
