// The built rbuild when its process helper (packages/runners/src/process-helper.ts) is killed or stopped mid-build.
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, expect, test } from "vitest";
import { isAlive, livePidsWith } from "../../test-support/processes.js";
import { daemonPids, servedBuilds, stopDaemons, until } from "./test-support/daemon.js";
import { normalize, Workspace, type RunResult } from "./test-support/workspace.js";

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
  stopDaemons(ws);
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

/** Stops `pid` (SIGSTOP) and waits until it is stopped: the signal is not there at once. */
async function stop(pid: number): Promise<void> {
  process.kill(pid, "SIGSTOP");
  const state = (): string => {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat[stat.lastIndexOf(")") + 2]!;
  };
  for (let i = 0; i < 3000 && state() !== "T"; i++) await sleep(10);
  expect(state()).toBe("T");
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
  await stop(helper);
  child.kill("SIGINT");
  const result = await child;
  expect(livePidsWith(marker)).toEqual([]);
  expect(isAlive(helper)).toBe(false);
  expect([result.exitCode, normalize(String(result.stderr), ws.root)]).toEqual([
    130,
    `rbuild: the process helper (pid ${helper}) was stopped (SIGSTOP) when the build was interrupted, so rbuild killed it; tasks start without it for the rest of this build\n` +
      'error: Task "long" was interrupted.\nrbuild: interrupted: 0 ran, 0 cached, 1 interrupted in <t>\n',
  ]);
}, 60_000);

test("20.hardening: in the daemon, a process helper that stops answering is killed after 5 s with one warning, the build goes on without it, and the next one has a new helper", async () => {
  ws.write({ "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "parent", run: "echo $PPID; cat /proc/$PPID/comm" });\n` });
  const build = (): Promise<RunResult> => ws.run(["parent", "--force"], { command: true, env: { RBUILD_DAEMON: "1" } });
  /** The pid and name of what started the task. */
  const parent = (result: RunResult): [number, string] => {
    const [, pid, name] = /^\[parent\] (\d+)\n\[parent\] (\S+)$/m.exec(result.stdout) ?? [];
    return [Number(pid), name ?? result.stdout];
  };
  expect((await build()).exitCode).toBe(0); // In Node; it starts the daemon.
  await until("the daemon listens", () => daemonPids(ws).length > 0);
  const [helper, name] = parent(await build());
  expect([servedBuilds(ws), name]).toEqual([1, "python3"]);
  leftovers.push(helper);
  await stop(helper);

  const served = await build();
  const [daemon] = daemonPids(ws);
  expect(served).toEqual({
    exitCode: 0,
    stdout: `> parent\n[parent] ${daemon}\n[parent] node\n✓ parent (<t>)\n`,
    stderr: `rbuild: the process helper (pid ${helper}) did not answer for 5 s, so rbuild stopped it; tasks start without it for the rest of this build\nrbuild: ok: 1 ran, 0 cached in <t>\n`,
  });
  expect(isAlive(helper)).toBe(false);
  const [next, nextName] = parent(await build());
  expect([servedBuilds(ws), nextName, next === helper]).toEqual([3, "python3", false]);
}, 60_000);
