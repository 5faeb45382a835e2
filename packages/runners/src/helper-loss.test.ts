// The local runner when its process helper dies, is killed or stops answering: real helpers, stopped and killed for real.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, expect, test } from "vitest";
import { isAlive } from "../../../test-support/processes.js";
import { runnerBed } from "../../../test-support/runner-bed.js";
import { LocalRunner } from "./local-runner.js";
import { ProcessHelper } from "./process-helper.js";
import type { RunRequest } from "./runner.js";
import { spawnInGroup, type SpawnResult } from "./spawn-group.js";

const bed = runnerBed("rbuild-helper-loss-", () => new LocalRunner());
/** Helpers a test stopped: resumed (and so able to see end of input) or killed after it, whatever it did. */
const stopped: number[] = [];

afterEach(() => {
  for (const pid of stopped.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone already, as it should be.
    }
  }
});

/** A run through the bed, with the info events it gave. */
async function run(command: string, fields: Partial<RunRequest> = {}) {
  const infos: string[] = [];
  const ran = await bed.run(command, { info: (code, message) => infos.push(`${code}: ${message}`), ...fields });
  return { ...ran, infos };
}

/** The numbers a running task writes to `name` (its own pid, then its parent's), once it has written them. */
async function pidsFrom(name: string): Promise<{ task: number; parent: number }> {
  const path = join(bed.root, name);
  for (let i = 0; i < 3000; i++) {
    const text = readFileSync(path, { encoding: "utf8", flag: "a+" });
    if (text.endsWith("\n")) {
      const [task, parent] = text.trim().split(" ").map(Number);
      return { task: task!, parent: parent! };
    }
    await sleep(10);
  }
  throw new Error(`${path} was never written`);
}

/**
 * Runs a command to its end through the runner's helper: the helper answers
 * in order, so it has then said that every command before it started.
 */
async function caughtUp(): Promise<void> {
  expect((await run("true")).outcome.ok).toBe(true);
}

/** Stops `pid` (SIGSTOP) and waits until it is stopped: the signal is not there at once. */
async function stop(pid: number): Promise<void> {
  process.kill(pid, "SIGSTOP");
  stopped.push(pid);
  const state = (): string | undefined => {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat[stat.lastIndexOf(")") + 2];
  };
  for (let i = 0; i < 3000 && state() !== "T"; i++) await sleep(10);
  expect(state()).toBe("T");
}

/** The pid of the runner's helper now: the parent of a command it starts. */
async function helperPid(): Promise<number> {
  const ran = await run("echo $PPID");
  expect(ran.outcome.ok).toBe(true);
  const pid = Number(ran.stdout);
  expect(readFileSync(`/proc/${pid}/cmdline`, "latin1")).toContain("process_helper.py");
  return pid;
}

/** Waits until `pid` is no live process (the runner reaps its helper when it sees it exit). */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 3000 && isAlive(pid); i++) await sleep(10);
  return !isAlive(pid);
}

const STARTS_DIRECTLY = "cat /proc/$PPID/comm";

test("20.hardening: a helper killed mid-run fails the task it ran saying so, stops its command, and later tasks start directly, then through a new helper next build", async () => {
  const running = run("echo $$ $PPID > pids; sleep 60");
  const { task, parent: helper } = await pidsFrom("pids");
  await caughtUp();
  process.kill(helper, "SIGKILL");
  const ran = await running;
  const message = `the process helper (pid ${helper}) exited with signal SIGKILL while \`t\` ran; its command was stopped. Run the build again; if this keeps happening, set RBUILD_SPAWN=direct to start tasks without the helper.`;
  expect(ran.outcome).toEqual({ ok: false, exitCode: null, failure: { reason: "helper-died", task: "t", message } });
  expect(ran.infos).toEqual([`process-helper: the process helper (pid ${helper}) exited with signal SIGKILL; tasks start without it for the rest of this build`]);
  expect(isAlive(task)).toBe(false);

  // The rest of this build forks from Node, said once.
  const next = await run(STARTS_DIRECTLY);
  expect([next.outcome.ok, next.stdout, next.infos]).toEqual([true, "node\n", []]);
  // The next build gets a helper again.
  bed.runner.prepare(["true"]);
  const later = await run(STARTS_DIRECTLY);
  expect([later.stdout, later.infos]).toEqual(["python3\n", []]);
});

test("20.hardening: a helper that stops answering is killed after 5 s with one warning naming it, and the task starts directly", async () => {
  const helper = await helperPid();
  await stop(helper);
  const ran = await run(STARTS_DIRECTLY);
  expect([ran.outcome.ok, ran.stdout, ran.infos]).toEqual([
    true,
    "node\n",
    [`process-helper: the process helper (pid ${helper}) did not answer for 5 s, so rbuild stopped it; tasks start without it for the rest of this build`],
  ]);
  expect(await gone(helper)).toBe(true);
}, 30_000);

test("20.hardening: interrupted while its helper is stopped, a run ends as interrupted at once, its command and the helper killed", async () => {
  const abort = new AbortController();
  const running = run("echo $$ $PPID > pids; sleep 60", { signal: abort.signal });
  const { task, parent: helper } = await pidsFrom("pids");
  await caughtUp();
  await stop(helper);
  abort.abort();
  const ran = await running;
  expect(ran.outcome).toEqual({ ok: false, exitCode: null, failure: { reason: "interrupted", task: "t" } });
  expect(isAlive(task)).toBe(false);
  expect(await gone(helper)).toBe(true);
}, 30_000);

/** A stand-in helper: says it is ready, reads one request, then does `then` (python, with `os`, `sys` and `time` imported). */
function fakeHelper(then: string): ProcessHelper {
  const script = join(bed.root, "fake_helper.py");
  writeFileSync(script, `import os, sys, time\nos.write(1, b"H\\n")\nos.read(0, 65536)\n${then}\n`);
  return ProcessHelper.start(script)!;
}

async function launch(helper: ProcessHelper): Promise<SpawnResult> {
  return spawnInGroup({ command: "echo never", cwd: bed.root, env: { PATH: "/usr/bin:/bin" }, signal: new AbortController().signal, onStdout: () => {}, onStderr: () => {}, helper });
}

test("20.hardening: a helper that dies before it answers a request fails it as lost, not started twice, saying what it said", async () => {
  const helper = fakeHelper('sys.stderr.write("Traceback ...\\nOSError: broken on purpose\\n")\nsys.exit(1)');
  expect(await launch(helper)).toEqual({ kind: "lost", helper: helper.pid, how: "exited with code 1 (it said: OSError: broken on purpose)", started: false });
});

test("20.hardening: a silent helper killed with a child it never named: that child's group is killed and its request is lost", async () => {
  const pidFile = join(bed.root, "child");
  // Starts a process in a group of its own, as for the request, and never says so.
  const helper = fakeHelper(`pid = os.posix_spawn("/bin/sleep", ["sleep", "60"], {}, setpgroup=0)\nopen(${JSON.stringify(pidFile)}, "w").write("%d\\n" % pid)\ntime.sleep(60)`);
  stopped.push(helper.pid!);
  expect(await launch(helper)).toEqual({ kind: "lost", helper: helper.pid, how: "did not answer for 5 s, so rbuild stopped it", started: false });
  expect(await gone(Number(readFileSync(pidFile, "utf8")))).toBe(true);
}, 30_000);

// Stopped while a task runs through it, with no interrupt: the helper owes no answer then, so only its ping shows it.
test("20.N9: a helper stopped (SIGSTOP) while a task runs through it is lost: the task fails saying so, its command is stopped, and the next starts directly", async () => {
  const running = run("echo $$ $PPID > pids; sleep 60; echo late > late");
  const { task, parent: helper } = await pidsFrom("pids");
  expect(readFileSync(`/proc/${helper}/cmdline`, "latin1")).toContain("process_helper.py");
  await stop(helper);

  // Without the ping this never ends: the helper owes no answer while its task runs.
  const ran = await running;
  const message = `the process helper (pid ${helper}) did not answer for 5 s, so rbuild stopped it while \`t\` ran; its command was stopped. Run the build again; if this keeps happening, set RBUILD_SPAWN=direct to start tasks without the helper.`;
  expect(ran.outcome).toEqual({ ok: false, exitCode: null, failure: { reason: "helper-died", task: "t", message } });
  expect(ran.infos).toEqual([`process-helper: the process helper (pid ${helper}) did not answer for 5 s, so rbuild stopped it; tasks start without it for the rest of this build`]);
  expect([isAlive(task), isAlive(helper)]).toEqual([false, false]);

  const next = await run(STARTS_DIRECTLY);
  expect([next.outcome.ok, next.stdout, next.infos]).toEqual([true, "node\n", []]);
  expect(readdirSync(bed.root)).toEqual(["pids"]);
}, 60_000);

test("20.N9: a helper that runs a long silent task and is not stopped answers its pings: the task ends as it should", async () => {
  // Silent for longer than a ping's answer may take: answered pings keep the helper.
  const ran = await run(`sleep 7; echo done; ${STARTS_DIRECTLY}`);
  expect([ran.outcome.ok, ran.stdout, ran.infos]).toEqual([true, "done\npython3\n", []]);
}, 60_000);
