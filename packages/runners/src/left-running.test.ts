// What stops a build's task processes when rbuild dies: the process helper at the end of its input, and the
// record in build.running (running-groups.ts) that the next build reads. Real processes, signalled for real.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, expect, test } from "vitest";
import { liveMembers } from "../../../test-support/processes.js";
import { LocalRunner } from "./local-runner.js";
import { HELPER_SCRIPT } from "./process-helper.js";
import { RUNNING_FILE, RunningGroups, stopLeftRunning } from "./running-groups.js";

let root: string;
/** Process groups a test started: killed after it, whatever it did. */
const started: number[] = [];

beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-left-running-")));
});

afterEach(() => {
  for (const pgid of started.splice(0)) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // Gone already, as it should be.
    }
  }
  rmSync(root, { recursive: true, force: true });
});

/** Waits (a minute at most: the machine may be loaded) until group `pgid` has no live process; returns those left. */
async function gone(pgid: number): Promise<number[]> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && liveMembers(pgid).length > 0) await sleep(20);
  return liveMembers(pgid);
}

const startTime = (pid: number): string => {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]!;
};

/** A process group of its own, a shell running `script`, started from here (as a build that died would have). */
function group(script: string): number {
  const child = spawn("/bin/sh", ["-c", script], { detached: true, stdio: "ignore" });
  child.unref();
  started.push(child.pid!);
  return child.pid!;
}

/** Waits until group `pgid` has `count` live processes (its shell has started what it runs). */
async function members(pgid: number, count: number): Promise<void> {
  for (let i = 0; i < 6000 && liveMembers(pgid).length < count; i++) await sleep(10);
  expect(liveMembers(pgid).length).toBe(count);
}

test("20.N2: the process helper, at the end of its input (rbuild gone), stops the groups it started, SIGKILL for one that ignores SIGTERM, and exits", async () => {
  const helper = spawn("/usr/bin/python3", ["-I", "-S", HELPER_SCRIPT], { stdio: ["pipe", "pipe", "ignore"] });
  let said = "";
  helper.stdout.on("data", (chunk: Buffer) => (said += chunk.toString("latin1")));
  const exited = new Promise<number | null>((resolve) => helper.on("exit", (code) => resolve(code)));
  const request = (id: number, script: string): string => {
    const payload = [root, "022", "3", "/bin/sh", "-c", script, "PATH=/usr/bin:/bin"].join("\0");
    return `R ${id} ${Buffer.byteLength(payload)}\n${payload}`;
  };
  helper.stdin.write(request(1, "sleep 60; echo late > one"));
  helper.stdin.write(request(2, "trap '' TERM; sleep 60; echo late > two"));
  for (let i = 0; i < 6000 && (said.match(/^S /gm) ?? []).length < 2; i++) await sleep(10);
  const pgids = [...said.matchAll(/^S \d+ (\d+) \d+$/gm)].map((match) => Number(match[1]));
  started.push(...pgids);
  expect(pgids).toHaveLength(2);
  for (const pgid of pgids) await members(pgid, 2);

  helper.stdin.end();
  expect(await exited).toBe(0);
  // It exits once they are gone: nothing of them is left to write into a build's outputs.
  expect(pgids.map(liveMembers)).toEqual([[], []]);
  expect(readdirSync(root)).toEqual([]);
}, 60_000);

test("20.N2: the next build stops the groups a build that died recorded, and starts a new record", async () => {
  const a = group("sleep 60; :");
  const b = group("trap '' TERM; sleep 60; :");
  await members(a, 2);
  await members(b, 2);
  const ended = group("sleep 60; :");
  await members(ended, 2);
  // A record as a build killed with a, b and `ended` started (and `ended` said to have ended) leaves it.
  writeFileSync(join(root, RUNNING_FILE), `g ${a} ${startTime(a)}\ng ${b} ${startTime(b)}\ng ${ended} ${startTime(ended)}\ne ${ended}\ng 12`);

  const { groups, stopped } = await RunningGroups.takeOver(root);
  expect(stopped).toEqual([a, b].sort((x, y) => x - y));
  expect([liveMembers(a), liveMembers(b), liveMembers(ended).length]).toEqual([[], [], 2]);
  expect(readFileSync(join(root, RUNNING_FILE), "latin1")).toBe("");
  groups.close();
  expect(readdirSync(root)).toEqual([]);
}, 60_000);

test("20.N2: a recorded group whose pid another process has now (another start time) is left alone", async () => {
  const other = group("sleep 60; :");
  await members(other, 2);
  writeFileSync(join(root, RUNNING_FILE), `g ${other} 1\n`);
  const { groups, stopped } = await RunningGroups.takeOver(root);
  groups.close();
  expect([stopped, liveMembers(other).length]).toEqual([[], 2]);
});

test("20.N2: a recorded helper still alive (its rbuild died) is killed, and so are the tasks it ran", async () => {
  const helper = spawn("/usr/bin/python3", ["-I", "-S", HELPER_SCRIPT], { stdio: ["pipe", "pipe", "ignore"], detached: true });
  started.push(helper.pid!);
  let said = "";
  helper.stdout.on("data", (chunk: Buffer) => (said += chunk.toString("latin1")));
  const payload = [root, "022", "3", "/bin/sh", "-c", "sleep 60; :", "PATH=/usr/bin:/bin"].join("\0");
  helper.stdin.write(`R 1 ${Buffer.byteLength(payload)}\n${payload}`);
  for (let i = 0; i < 6000 && !/^S 1 \d+ \d+$/m.test(said); i++) await sleep(10);
  const task = Number(/^S 1 (\d+) \d+$/m.exec(said)?.[1]);
  started.push(task);
  await members(task, 2);
  // Stopped, it would never stop them itself.
  process.kill(helper.pid!, "SIGSTOP");
  writeFileSync(join(root, RUNNING_FILE), `h ${helper.pid} ${startTime(helper.pid!)}\n`);

  const { groups, stopped } = await RunningGroups.takeOver(root);
  groups.close();
  expect([stopped, liveMembers(task), await gone(helper.pid!)]).toEqual([[task], [], []]);
}, 60_000);

test("20.N2: a build's runner records the commands it runs while they run, forked from Node or through the helper, and the helper", async () => {
  for (const spawning of ["direct", "helper"] as const) {
    const runner = new LocalRunner({ spawn: spawning });
    runner.prepare(["true"]);
    const hold = await runner.begin(root);
    const record = (): string => readFileSync(join(root, RUNNING_FILE), "latin1");
    let seen = "";
    let whileRunning = "";
    let leaderStart: string | undefined;
    const outcome = await runner.run({
      task: "t",
      // Runs until the record was read while it ran.
      run: "echo $$ $PPID; while [ ! -e go ]; do sleep 0.01; done; rm go",
      root,
      cwd: root,
      env: { PATH: "/usr/bin:/bin" },
      inputs: [],
      depOutputs: [],
      outputs: [],
      signal: new AbortController().signal,
      stdout: (chunk) => {
        seen += chunk.toString();
        whileRunning = record();
        leaderStart = startTime(Number(seen.split(" ")[0]));
        writeFileSync(join(root, "go"), "");
      },
      stderr: () => {},
    });
    expect(outcome.ok).toBe(true);
    const [pid, parent] = seen.trim().split(" ").map(Number);
    const group = `g ${pid} ${leaderStart}\n`;
    const helper = spawning === "direct" ? "" : `h ${parent} ${startTime(parent!)}\n`;
    expect(whileRunning).toBe(helper + group);
    expect(record()).toBe(`${helper}${group}e ${pid}\n`);
    hold.release();
    runner.close();
    expect([hold.stopped, readdirSync(root)]).toEqual([[], []]);
  }
});

// A recorded group whose leader is gone is stopped only while it is still the recorded one: once that group is
// gone, its pid may lead an unrelated group, whose members started after the record's last write.
test("20.N2: a group whose leader is gone is left alone when its members started after the record was last written, or before its leader", async () => {
  // A group of its own whose leader exits (and is reaped), leaving one member, a sleep.
  const leader = spawn("/bin/sh", ["-c", "sleep 60 & read x"], { detached: true, stdio: ["pipe", "ignore", "ignore"] });
  const pgid = leader.pid!;
  started.push(pgid);
  const exited = new Promise((resolve) => leader.on("exit", resolve));
  await members(pgid, 2);
  const leaderStart = startTime(pgid);
  leader.stdin.end();
  await exited;
  await members(pgid, 1);
  const memberStart = startTime(liveMembers(pgid)[0]!);
  const record = (line: string, mtimeMs: number): void => {
    const file = join(root, RUNNING_FILE);
    writeFileSync(file, line);
    utimesSync(file, mtimeMs / 1000, mtimeMs / 1000);
  };
  // As if the record were an hour old: its member is no process the build that wrote it started.
  record(`g ${pgid} ${leaderStart}\n`, Date.now() - 3_600_000);
  expect([await stopLeftRunning(root), liveMembers(pgid).length]).toEqual([[], 1]);
  // A leader recorded as started after the member: not that member's leader.
  record(`g ${pgid} ${Number(memberStart) + 1}\n`, Date.now());
  expect([await stopLeftRunning(root), liveMembers(pgid).length]).toEqual([[], 1]);
  // Written after its member started, with that leader: the recorded group, stopped.
  record(`g ${pgid} ${leaderStart}\n`, Date.now());
  expect([await stopLeftRunning(root), liveMembers(pgid)]).toEqual([[pgid], []]);
}, 60_000);
