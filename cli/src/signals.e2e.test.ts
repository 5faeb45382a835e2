import { existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { livePidsWith } from "../../test-support/processes.js";
import { normalize, Workspace } from "./test-support/workspace.js";

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.remove());

async function waitForFile(path: string): Promise<void> {
  for (let i = 0; i < 1000 && !existsSync(path); i++) await sleep(10);
  expect(existsSync(path)).toBe(true);
}

describe.each(["SIGINT", "SIGTERM"] as const)("%s", (signal) => {
  test("kills every running task's process tree, waits for it, and exits 130", async () => {
    // A unique marker in the command lines lets the test find any process left behind.
    const marker = `rbuild-orphan-check-${process.pid}-${signal}`;
    ws.write({
      "Buildfile.ts": `import { task } from "rbuild";
// A grandchild in the background, then a foreground child.
const one = task({ name: "one", run: "sh -c 'sleep 300; : ${marker}' & touch one.started; sleep 301; : ${marker}" });
// A grandchild that ignores SIGTERM: only SIGKILL stops it.
const two = task({ name: "two", run: "(trap '' TERM; sleep 302; : ${marker}) & touch two.started; wait" });
const three = task({ name: "three", run: "touch three.started; sleep 303; : ${marker}" });
task({ name: "after", deps: [one, two, three], run: "echo never" });
`,
    });
    const child = ws.start(["after", "-j", "3", "--summary", "summary.json"]);
    await waitForFile(join(ws.root, "one.started"));
    await waitForFile(join(ws.root, "two.started"));
    await waitForFile(join(ws.root, "three.started"));
    expect(livePidsWith(marker).length).toBeGreaterThan(0);
    child.kill(signal);
    const result = await child;

    expect(result.exitCode).toBe(130);
    // Even the process that ignores SIGTERM is gone: it got SIGKILL after the grace period.
    expect(livePidsWith(marker)).toEqual([]);
    expect(normalize(String(result.stderr), ws.root).split("\n").slice(-5)).toEqual([
      'error: Task "one" was interrupted.',
      'error: Task "three" was interrupted.',
      'error: Task "two" was interrupted.',
      "rbuild: interrupted: 0 ran, 0 cached, 3 interrupted, 1 skipped in <t>",
      "",
    ]);
    const summary = JSON.parse(ws.read("summary.json")) as { ok: boolean; tasks: { name: string; status: string; reasons: string[] }[] };
    expect(summary.ok).toBe(false);
    expect(summary.tasks.map((t) => [t.name, t.status])).toEqual([
      ["one", "interrupted"],
      ["two", "interrupted"],
      ["three", "interrupted"],
      ["after", "skipped"],
    ]);
  });
});
