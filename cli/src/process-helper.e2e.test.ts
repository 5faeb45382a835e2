// The built rbuild when its process helper (packages/runners/src/process-helper.ts) is killed or stopped mid-build.
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, expect, test } from "vitest";
import { isAlive, livePidsWith } from "../../test-support/processes.js";
import { normalize, Workspace } from "./test-support/workspace.js";

let ws: Workspace;
/** Processes a test stopped or started: killed after it, whatever it did. */
let leftovers: number[] = [];

beforeEach(() => {
  ws = new Workspace();
});

afterEach(() => {
  for (const pid of leftovers) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone already, as it should be.
    }
  }
  leftovers = [];
  ws.remove();
});

/**
 * A build of one long task, started: once its first line is shown, rbuild
 * has read everything the helper said before it (that it started it).
 */
async function startLong(marker: string, args: readonly string[]): Promise<{ child: ReturnType<Workspace["start"]>; task: number; helper: number }> {
  ws.write({
    "Buildfile.ts": `import { task } from "rbuild";
task({ name: "long", run: "echo $$ $PPID > long.pids; echo started; sleep 60; : ${marker}" });
task({ name: "then", run: "cat /proc/$PPID/comm" });
`,
  });
  const child = ws.start(args);
  leftovers.push(child.pid!);
  let stdout = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  for (let i = 0; i < 3000 && !stdout.includes("[long] started\n"); i++) await sleep(10);
  expect(stdout).toContain("[long] started\n");
  const [task, helper] = ws.read("long.pids").trim().split(" ").map(Number);
  expect(readFileSync(`/proc/${helper}/cmdline`, "latin1")).toContain("process_helper.py");
  leftovers.push(helper!);
  return { child, task: task!, helper: helper! };
}

test("20.hardening: a process helper killed mid-build fails the task it ran saying so, stops its command, and the rest of the build starts tasks without it", async () => {
  const marker = `rbuild-helper-killed-${process.pid}`;
  const { child, helper } = await startLong(marker, ["long", "then", "-k", "-j", "1"]);
  process.kill(helper, "SIGKILL");
  const result = await child;
  expect(livePidsWith(marker)).toEqual([]);
  expect([result.exitCode, normalize(String(result.stdout), ws.root), normalize(String(result.stderr), ws.root)]).toEqual([
    1,
    "> long\n[long] started\n✗ long (<t>)\n> then\n[then] node\n✓ then (<t>)\n",
    `rbuild: the process helper (pid ${helper}) exited with signal SIGKILL; tasks start without it for the rest of this build\n` +
      `error: Task "long" failed: the process helper (pid ${helper}) exited with signal SIGKILL while \`long\` ran; its command was stopped. ` +
      "Run the build again; if this keeps happening, set RBUILD_SPAWN=direct to start tasks without the helper.\n" +
      "rbuild: failed: 1 ran, 0 cached, 1 failed in <t>\n",
  ]);
}, 60_000);

test("20.hardening: Ctrl-C with the process helper stopped (SIGSTOP) exits 130 at once, its commands and the helper killed", async () => {
  const marker = `rbuild-helper-stopped-${process.pid}`;
  const { child, helper } = await startLong(marker, ["long"]);
  process.kill(helper, "SIGSTOP");
  const state = (): string => {
    const stat = readFileSync(`/proc/${helper}/stat`, "latin1");
    return stat[stat.lastIndexOf(")") + 2]!;
  };
  for (let i = 0; i < 3000 && state() !== "T"; i++) await sleep(10);
  expect(state()).toBe("T");
  child.kill("SIGINT");
  const result = await child;
  expect(livePidsWith(marker)).toEqual([]);
  expect(isAlive(helper)).toBe(false);
  expect([result.exitCode, normalize(String(result.stderr), ws.root)]).toEqual([
    130,
    `rbuild: the process helper (pid ${helper}) was stopped (SIGSTOP) when the build was interrupted, so rbuild killed it; tasks start without it for the rest of this build\n` +
      'error: Task "long" was interrupted.\nrbuild: interrupted: 0 ran, 0 cached, 1 failed in <t>\n',
  ]);
}, 60_000);
