// What a build that died left running is stopped by the next build, whichever way that build goes and however
// the one before died: the no-op path too, and a process helper killed with its rbuild. Real processes, killed for real.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, expect, test } from "vitest";
import { isAlive, eventually, killGroups, liveMembers, parentOf } from "../../test-support/processes.js";
import { byTask } from "./test-support/task-lines.js";
import { Workspace } from "./test-support/workspace.js";

let ws: Workspace;
/** Process groups a test started: killed after it, whatever it did. */
let groups: number[] = [];

beforeEach(() => {
  ws = new Workspace();
});

afterEach(() => {
  killGroups(groups);
  groups = [];
  ws.remove();
});

/** Waits until `file` holds a task's shell's pid (its group's id) and that group runs a `sleep`; returns the group. */
async function groupRunning(file: string): Promise<number> {
  let text = "";
  for (let i = 0; i < 6000 && !text.endsWith("\n"); i++) {
    text = readFileSync(join(ws.root, file), { encoding: "utf8", flag: "a+" });
    await sleep(10);
  }
  const pgid = Number(text);
  groups.push(pgid);
  const comm = (pid: number): string => readFileSync(`/proc/${pid}/comm`, { encoding: "latin1", flag: "r" }).trim();
  const sleeping = (): boolean => liveMembers(pgid).some((pid) => isAlive(pid) && comm(pid) === "sleep");
  expect(await eventually(sleeping)).toBe(true);
  return pgid;
}

const stoppedLine = (pgids: readonly number[]): string => {
  const named = pgids.length === 1 ? `process group ${pgids[0]}` : `${pgids.length} process groups (${[...pgids].sort((a, b) => a - b).join(", ")})`;
  return `rbuild: an earlier rbuild was killed while tasks ran: stopped the ${named} that it left running (it would go on writing into task outputs)\n`;
};

const QUICK = `import { task } from "rbuild";
task({ name: "x", outputs: ["out/x.txt"], run: "mkdir -p out; echo x > out/x.txt" });
task({ name: "y", outputs: ["out/y.txt"], run: "mkdir -p out; echo y > out/y.txt" });
`;
/** QUICK with two slow tasks more, which write into x's and y's outputs when they are done. */
const SLOW = `${QUICK}task({ name: "s", run: "echo $$ > s.pgid; sleep 300; mkdir -p out; echo late > out/x.txt" });
task({ name: "t", run: "echo $$ > t.pgid; sleep 301 & wait; mkdir -p out; echo late > out/y.txt" });
`;

test("20.N2: rbuild killed mid-build, then the Buildfile reverted: the no-op build stops what it left running before it answers", async () => {
  const env = { RBUILD_SPAWN: "direct" };
  ws.write({ "Buildfile.ts": QUICK });
  expect((await ws.run(["x", "y"], { env })).exitCode).toBe(0);
  ws.write({ "Buildfile.ts": SLOW });
  const child = ws.start(["s", "t"], { env });
  const running = [await groupRunning("s.pgid"), await groupRunning("t.pgid")];
  child.kill("SIGKILL");
  await child;
  expect(running.map((pgid) => liveMembers(pgid).length)).toEqual([2, 2]);

  // As the build before the killed one: every task fresh by the record, which only the lock-free no-op path reads.
  ws.write({ "Buildfile.ts": QUICK });
  // Two restores run beside each other and may end in either order.
  const cached = "✓ x (cached, local)\n✓ y (cached, local)\n";
  expect(byTask(await ws.run(["x", "y"], { env }))).toEqual({ exitCode: 0, stdout: cached, stderr: stoppedLine(running) + "rbuild: ok: 0 ran, 2 cached in <t>\n" });
  expect(running.map((pgid) => liveMembers(pgid))).toEqual([[], []]);
  expect([ws.read("out/x.txt"), ws.read("out/y.txt")]).toEqual(["x\n", "y\n"]);
  expect(readdirSync(join(ws.root, ".rbuild")).filter((name) => name.startsWith("build."))).toEqual(["build.generation"]);

  // Nothing left to stop: the next one is the no-op again, and says nothing more.
  expect(byTask(await ws.run(["x", "y"], { env }))).toEqual({ exitCode: 0, stdout: cached, stderr: "rbuild: ok: 0 ran, 2 cached in <t>\n" });
}, 120_000);

test("20.N2: rbuild and its process helper both killed mid-build: the next build stops the tasks the helper had started", async () => {
  ws.write({ "Buildfile.ts": SLOW.replace("sleep 300", "sleep $(cat delay)"), delay: "300\n" });
  const child = ws.start(["s"]);
  const pgid = await groupRunning("s.pgid");
  const helper = parentOf(pgid)!;
  expect(parentOf(helper)).toBe(child.pid);
  // Both gone at once, as when a CI job is killed: rbuild stopped first, so that it cannot see its helper die.
  process.kill(child.pid!, "SIGSTOP");
  process.kill(helper, "SIGKILL");
  expect(await eventually(() => !isAlive(helper))).toBe(true);
  child.kill("SIGKILL");
  await child;
  // Nothing is left to stop the task: it runs on, reparented.
  expect(liveMembers(pgid)).toHaveLength(2);

  ws.write({ delay: "0\n" });
  expect(await ws.run(["s"])).toEqual({ exitCode: 0, stdout: "> s\n✓ s (<t>)\n", stderr: stoppedLine([pgid]) + "rbuild: ok: 1 ran, 0 cached in <t>\n" });
  expect(liveMembers(pgid)).toEqual([]);
}, 120_000);
