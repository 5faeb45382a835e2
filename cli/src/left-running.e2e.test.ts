// The built rbuild killed (SIGKILL) while a task runs: nothing of the task may go on to write into the next
// build's outputs, where a dependent would store what it read under the wrong key. Real processes, killed for real.
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, expect, test } from "vitest";
import { liveMembers } from "../../test-support/processes.js";
import { daemonPids, stopDaemons, until } from "./test-support/daemon.js";
import { Workspace } from "./test-support/workspace.js";

let ws: Workspace;
/** Process groups a test started: killed after it, whatever it did. */
let groups: number[] = [];

// `a` takes as long as `delay` says, then writes `msg`; `b` copies what `a` wrote.
const BUILDFILE = `import { task } from "rbuild";
const a = task({ name: "a", inputs: ["delay", "msg"], outputs: ["out/a.txt"], run: "echo $$ > a.pgid; sleep $(cat delay); mkdir -p out; cat msg > out/a.txt" });
task({ name: "b", deps: [a], outputs: ["out/b.txt"], run: "cat out/a.txt > out/b.txt" });
`;

beforeEach(() => {
  ws = new Workspace();
  ws.write({ "Buildfile.ts": BUILDFILE, delay: "300\n", msg: "one\n" });
});

afterEach(() => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // Gone already, as it should be.
    }
  }
  groups = [];
  stopDaemons(ws);
  ws.remove();
});

const commOf = (pid: number): string | undefined => {
  try {
    return readFileSync(`/proc/${pid}/comm`, "latin1").trim();
  } catch {
    return undefined; // Gone.
  }
};

const parentOf = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
};

/** Waits until `a` runs (its shell and its sleep): returns its process group. */
async function aRunning(): Promise<number> {
  let text = "";
  for (let i = 0; i < 6000 && !text.endsWith("\n"); i++) {
    text = readFileSync(join(ws.root, "a.pgid"), { encoding: "utf8", flag: "a+" });
    await sleep(10);
  }
  const pgid = Number(text);
  groups.push(pgid);
  // Its shell, and the sleep it waits for (not the subshell of `$(cat delay)`, for a moment a third).
  const sleeping = (): boolean => liveMembers(pgid).some((pid) => commOf(pid) === "sleep");
  for (const deadline = Date.now() + 60_000; Date.now() < deadline && !sleeping(); ) await sleep(20);
  expect(liveMembers(pgid)).toHaveLength(2);
  return pgid;
}

/** Waits (a minute at most: the machine may be loaded) until group `pgid` has no live process; returns those left. */
async function gone(pgid: number): Promise<number[]> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && liveMembers(pgid).length > 0) await sleep(20);
  return liveMembers(pgid);
}

/** The build after the killed one: `a` now quick, with another message. */
async function nextBuild(env: Record<string, string> = {}): Promise<{ exitCode: number | undefined; stderr: string; outputs: string[] }> {
  ws.write({ delay: "0\n", msg: "two\n" });
  const result = await ws.run(["b"], { env });
  return { exitCode: result.exitCode, stderr: result.stderr, outputs: [ws.read("out/a.txt"), ws.read("out/b.txt")] };
}

test("20.N2: rbuild killed mid-build: its process helper stops the running task, and the next build is right", async () => {
  const child = ws.start(["b"]);
  const pgid = await aRunning();
  child.kill("SIGKILL");
  await child;
  expect(await gone(pgid)).toEqual([]);
  expect(await nextBuild()).toEqual({ exitCode: 0, stderr: "rbuild: ok: 2 ran, 0 cached in <t>\n", outputs: ["two\n", "two\n"] });
}, 120_000);

test("20.N2: rbuild killed mid-build with tasks forked from Node: the next build stops them first, saying so in one line, and is right", async () => {
  const env = { RBUILD_SPAWN: "direct" };
  const child = ws.start(["b"], { env });
  const pgid = await aRunning();
  child.kill("SIGKILL");
  await child;
  // Nothing else stops it: the next build does, before it runs anything.
  expect(liveMembers(pgid)).toHaveLength(2);
  expect(await nextBuild(env)).toEqual({
    exitCode: 0,
    stderr:
      `rbuild: an earlier rbuild was killed while tasks ran: stopped the process group ${pgid} that it left running (it would go on writing into task outputs)\n` +
      "rbuild: ok: 2 ran, 0 cached in <t>\n",
    outputs: ["two\n", "two\n"],
  });
  expect(liveMembers(pgid)).toEqual([]);
  expect(readdirSync(join(ws.root, ".rbuild")).filter((name) => name.startsWith("build."))).toEqual(["build.generation"]);
}, 120_000);

test("20.N2: the daemon killed mid-build: its process helper stops the running task, and the next build is right", async () => {
  const env = { RBUILD_DAEMON: "1" };
  ws.write({ delay: "0\n" });
  expect((await ws.run(["b"], { command: true, env })).exitCode).toBe(0); // In Node; it starts the daemon.
  await until("the daemon listens", () => daemonPids(ws).length > 0);
  rmSync(join(ws.root, "a.pgid")); // The group of that build's `a`, gone.
  ws.write({ delay: "300\n", msg: "three\n" });
  const child = ws.start(["b"], { command: true, env });
  const pgid = await aRunning();
  const [daemon] = daemonPids(ws);
  // The daemon runs it: its helper started the task.
  expect(parentOf(parentOf(pgid))).toBe(daemon);
  process.kill(daemon!, "SIGKILL");
  await child;
  expect(await gone(pgid)).toEqual([]);
  // Until init has reaped the daemon, its build lock looks held (kill(pid, 0) finds a zombie): not what this tests.
  for (const deadline = Date.now() + 60_000; Date.now() < deadline && existsSync(`/proc/${daemon}`); ) await sleep(20);
  ws.write({ delay: "0\n", msg: "two\n" });
  const next = await ws.run(["b"], { env: {} });
  expect([next.exitCode, next.stderr, ws.read("out/a.txt"), ws.read("out/b.txt")]).toEqual([0, "rbuild: ok: 2 ran, 0 cached in <t>\n", "two\n", "two\n"]);
}, 120_000);

test("20.N2: `rbuild clean --cache` after a build killed with tasks forked from Node stops them before it removes their record", async () => {
  const env = { RBUILD_SPAWN: "direct" };
  const child = ws.start(["b"], { env });
  const pgid = await aRunning();
  child.kill("SIGKILL");
  await child;
  expect(liveMembers(pgid)).toHaveLength(2);
  expect(await ws.run(["clean", "--cache"], { env })).toEqual({
    exitCode: 0,
    stdout: "removed 0 output files\nremoved the cache <root>/.rbuild\n",
    stderr: `rbuild: an earlier rbuild was killed while tasks ran: stopped the process group ${pgid} that it left running (it would go on writing into task outputs)\n`,
  });
  expect(liveMembers(pgid)).toEqual([]);
}, 120_000);
