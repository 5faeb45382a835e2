// The local runner when its process helper is stopped (SIGSTOP) while a task runs through it, with no
// interrupt: the helper owes no answer then, so only its ping shows it is stopped. Real helper, stopped for real.
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, expect, test } from "vitest";
import { isAlive } from "../../../test-support/processes.js";
import { LocalRunner } from "./local-runner.js";
import type { RunOutcome } from "./runner.js";

let root: string;
let runner: LocalRunner;
/** Processes a test stopped: killed after it, whatever it did. */
const stopped: number[] = [];

beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-stopped-helper-")));
  runner = new LocalRunner();
});

afterEach(() => {
  runner.close();
  for (const pid of stopped.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone already, as it should be.
    }
  }
  rmSync(root, { recursive: true, force: true });
});

async function run(command: string): Promise<{ outcome: RunOutcome; stdout: string; infos: string[] }> {
  let stdout = "";
  const infos: string[] = [];
  const outcome = await runner.run({
    task: "t",
    run: command,
    root,
    cwd: root,
    env: { PATH: "/usr/bin:/bin" },
    inputs: [],
    depOutputs: [],
    outputs: [],
    signal: new AbortController().signal,
    stdout: (chunk) => (stdout += chunk.toString()),
    stderr: () => {},
    info: (code, message) => infos.push(`${code}: ${message}`),
  });
  return { outcome, stdout, infos };
}

const stateOf = (pid: number): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat[stat.lastIndexOf(")") + 2];
  } catch {
    return undefined;
  }
};

test("20.N9: a helper stopped (SIGSTOP) while a task runs through it is lost: the task fails saying so, its command is stopped, and the next starts directly", async () => {
  const running = run("echo $$ $PPID > pids; sleep 60; echo late > late");
  let pids = "";
  for (let i = 0; i < 6000 && !pids.endsWith("\n"); i++) {
    pids = readFileSync(join(root, "pids"), { encoding: "utf8", flag: "a+" });
    await sleep(10);
  }
  const [task, helper] = pids.trim().split(" ").map(Number) as [number, number];
  expect(readFileSync(`/proc/${helper}/cmdline`, "latin1")).toContain("process_helper.py");
  process.kill(helper, "SIGSTOP");
  stopped.push(helper);
  for (let i = 0; i < 3000 && stateOf(helper) !== "T"; i++) await sleep(10);
  expect(stateOf(helper)).toBe("T");

  // Without the ping this never ends: the helper owes no answer while its task runs.
  const ran = await running;
  const message = `the process helper (pid ${helper}) did not answer for 5 s, so rbuild stopped it while \`t\` ran; its command was stopped. Run the build again; if this keeps happening, set RBUILD_SPAWN=direct to start tasks without the helper.`;
  expect(ran.outcome).toEqual({ ok: false, exitCode: null, failure: { reason: "helper-died", task: "t", message } });
  expect(ran.infos).toEqual([`process-helper: the process helper (pid ${helper}) did not answer for 5 s, so rbuild stopped it; tasks start without it for the rest of this build`]);
  expect([isAlive(task), isAlive(helper)]).toEqual([false, false]);

  const next = await run("cat /proc/$PPID/comm");
  expect([next.outcome.ok, next.stdout, next.infos]).toEqual([true, "node\n", []]);
  expect(readdirSync(root)).toEqual(["pids"]);
}, 60_000);

test("20.N9: a helper that runs a long silent task and is not stopped answers its pings: the task ends as it should", async () => {
  // Silent for longer than a ping's answer may take: answered pings keep the helper.
  const ran = await run("sleep 7; echo done; cat /proc/$PPID/comm");
  expect([ran.outcome.ok, ran.stdout, ran.infos]).toEqual([true, "done\npython3\n", []]);
}, 60_000);
