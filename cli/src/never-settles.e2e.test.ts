/** Task functions whose promise never settles (issue 20, N5): the task fails with a reason, the build finishes. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { byTask, endOrder } from "./test-support/task-lines.js";
import { Workspace } from "./test-support/workspace.js";

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.remove());

const HEADER = `import { task } from "rbuild";\n`;

const NEVER =
  'error: Task "stuck" failed: its function returned a promise that never settles: nothing is left that could resolve it. ' +
  "Make sure what it awaits settles: a promise whose resolve is never called, or one that only an unref()ed timer or socket would settle, never does.\n";

describe("a task function that never settles", () => {
  test("20.N5: it fails with a reason once nothing else is left, and the build ends with its summary and exit 1, not a silent 13", async () => {
    ws.write({
      "Buildfile.ts": `${HEADER}task({ name: "stuck", run: async () => {\n  await new Promise(() => {});\n} });\ntask({ name: "after", deps: ["stuck"], run: "touch after" });\n`,
    });
    expect(await ws.run(["after"])).toEqual({
      exitCode: 1,
      stdout: "> stuck\n✗ stuck (<t>)\n- after skipped (dependency-failed: stuck)\n",
      stderr: `${NEVER}rbuild: failed: 0 ran, 0 cached, 1 failed, 1 skipped in <t>\n`,
    });
    expect(existsSync(join(ws.root, "after"))).toBe(false);
  });

  test("20.N5: it is failed only when the rest of the build is done: the other tasks, command and function, run to the end", async () => {
    ws.write({
      "Buildfile.ts":
        HEADER +
        `task({ name: "stuck", run: () => new Promise(() => {}) });\n` +
        `task({ name: "slow", run: "sleep 1 && touch slow" });\n` +
        `task({ name: "waits", run: async () => { await new Promise((r) => setTimeout(r, 1500)); } });\n`,
    });
    const result = await ws.run(["-k", "-j", "3", "stuck", "slow", "waits"]);
    // slow and waits run beside each other (a 1 s sleep, a 1.5 s timer): on a loaded machine either ends first.
    expect(byTask(result)).toEqual({
      exitCode: 1,
      stdout: "> slow\n✓ slow (<t>)\n> stuck\n✗ stuck (<t>)\n> waits\n✓ waits (<t>)\n",
      stderr: `${NEVER}rbuild: failed: 2 ran, 0 cached, 1 failed in <t>\n`,
    });
    // What is asserted of the order: stuck is failed last, once the rest is done.
    expect(endOrder(result.stdout).at(-1)).toBe("stuck");
    expect(existsSync(join(ws.root, "slow"))).toBe(true);
  });

  test("20.N5: a function waiting on what only its own dependent would do is failed, and the dependent skipped", async () => {
    ws.write({
      "Buildfile.ts":
        HEADER +
        `let release;\nconst gate = new Promise((r) => { release = r; });\n` +
        `task({ name: "stuck", run: async () => { await gate; } });\n` +
        `task({ name: "opener", deps: ["stuck"], run: async () => { release(); } });\n`,
    });
    expect(await ws.run(["opener"])).toEqual({
      exitCode: 1,
      stdout: "> stuck\n✗ stuck (<t>)\n- opener skipped (dependency-failed: stuck)\n",
      stderr: `${NEVER}rbuild: failed: 0 ran, 0 cached, 1 failed, 1 skipped in <t>\n`,
    });
  });
});
