/**
 * A task stopped by Ctrl-C is counted as interrupted, never as failed: in the
 * line that ends the build, the CI table, the `--summary` file, and, for a
 * retried task, in the history rows of its attempts and in `rbuild errors`.
 * Every SIGINT waits for a marker file the task writes (or a line of output).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, expect, test } from "vitest";
import { normalize, Workspace } from "./test-support/workspace.js";

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.remove());

async function waitFor(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 6000 && !check(); i++) await sleep(10);
  expect(check(), what).toBe(true);
}

/** Starts `rbuild args`, sends SIGINT once `ready` holds (given the output so far), and returns how it ended. */
async function interrupted(args: string[], ready: (stdout: string) => boolean, env: Record<string, string> = {}): Promise<{ exitCode: number | undefined; stdout: string; stderr: string }> {
  const child = ws.start(args, { env });
  let stdout = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  await waitFor(`ready to interrupt; the output so far:\n${stdout}`, () => ready(stdout));
  child.kill("SIGINT");
  const result = await child;
  return { exitCode: result.exitCode, stdout: normalize(String(result.stdout), ws.root), stderr: normalize(String(result.stderr), ws.root) };
}

const marker = (name: string) => (): boolean => existsSync(join(ws.root, name));
const durations = (text: string): string => text.replace(/\b\d+(\.\d+)?m?s\b/g, "<t>");

const BUILDFILE = `import { task } from "rbuild";
task({ name: "fast", run: "echo hi" });
task({ name: "bad", run: "echo broken; exit 3" });
task({ name: "slow", run: "touch slow.started; sleep 300" });
task({ name: "all", deps: ["fast", "bad", "slow"] });
`;

test("24.7: an interrupted task is counted as interrupted, not failed, in the build's last line; the build still exits 130", { timeout: 120_000 }, async () => {
  ws.write({ "Buildfile.ts": BUILDFILE });
  const result = await interrupted(["fast", "slow", "--summary", "summary.json"], (stdout) => stdout.includes("✓ fast") && marker("slow.started")());
  expect(result.exitCode).toBe(130);
  expect(result.stderr).toBe('error: Task "slow" was interrupted.\nrbuild: interrupted: 1 ran, 0 cached, 1 interrupted in <t>\n');
  // The summary file says so too: a reader counting `failed` tasks does not count it.
  const summary = JSON.parse(ws.read("summary.json")) as { ok: boolean; tasks: { name: string; status: string; error?: string }[] };
  expect([summary.ok, summary.tasks.map(({ name, status, error }) => ({ name, status, error }))]).toEqual([
    false,
    [
      { name: "fast", status: "ran", error: undefined },
      { name: "slow", status: "interrupted", error: 'Task "slow" was interrupted.' },
    ],
  ]);
});

test("24.7: a task that failed and one interrupted in the same build are counted apart, in CI's table too", { timeout: 120_000 }, async () => {
  ws.write({ "Buildfile.ts": BUILDFILE });
  const ready = (stdout: string): boolean => stdout.includes("✓ fast") && stdout.includes("✗ bad") && marker("slow.started")();
  const result = await interrupted(["all", "-k", "-j", "3"], ready, { CI: "true" });
  expect(result.exitCode).toBe(130);
  expect(durations(result.stderr)).toBe(
    [
      "task  status       cache  duration",
      "all   skipped      -      -",
      "bad   failed       -      <t>",
      "fast  ran          -      <t>",
      "slow  interrupted  -      <t>",
      'error: Task "bad" failed: its command exited with code 3.',
      'error: Task "slow" was interrupted.',
      "rbuild: interrupted: 1 ran, 0 cached, 1 failed, 1 interrupted, 1 skipped in <t>",
      "",
    ].join("\n"),
  );
});

/** Fails its first attempt; from the second on it writes `deploy.started` and sleeps until it is stopped. */
const RETRIED = `import { task } from "rbuild";
task({ name: "deploy", pure: false, retries: 3, retryDelay: 0, run: "if [ -f tried ]; then touch deploy.started; sleep 300; else touch tried; echo once; exit 1; fi" });
task({ name: "sleeper", pure: false, retries: 3, retryDelay: 0, run: "touch sleeper.started; sleep 300" });
`;

interface Row {
  task: string;
  run: number;
  status: string;
  attempt?: number;
  exitCode: number | null;
  error: string | null;
}

async function rows(task: string): Promise<Pick<Row, "run" | "status" | "attempt" | "exitCode" | "error">[]> {
  const runs = JSON.parse((await ws.run(["history", "--task", task, "--json"])).stdout) as Row[];
  return runs.map(({ run, status, attempt, exitCode, error }) => ({ run, status, attempt, exitCode, error }));
}

test("24.8: a retried task interrupted in its second attempt: that attempt is interrupted, the first failed, and no third starts", { timeout: 120_000 }, async () => {
  ws.write({ "Buildfile.ts": RETRIED });
  const result = await interrupted(["deploy"], marker("deploy.started"));
  expect(result.exitCode).toBe(130);
  expect(durations(result.stdout)).toBe("> deploy\n[deploy] once\nretrying deploy (attempt 2 of 4) in 0 ms: exit 1\n> deploy\n✗ deploy (<t>)\n");
  expect(result.stderr).toBe('error: Task "deploy" was interrupted.\nrbuild: interrupted: 0 ran, 0 cached, 1 interrupted in <t>\n');
  expect(await rows("deploy")).toEqual([
    { run: 0, status: "interrupted", attempt: 2, exitCode: null, error: 'Task "deploy" was interrupted.' },
    { run: 1, status: "failed", attempt: 1, exitCode: 1, error: 'Task "deploy" failed: its command exited with code 1.' },
  ]);
  const builds = JSON.parse((await ws.run(["history", "--json"])).stdout) as { outcome: string; tasks: unknown }[];
  expect(builds.map(({ outcome, tasks }) => ({ outcome, tasks }))).toEqual([{ outcome: "interrupted", tasks: { ran: 0, cached: 0, failed: 0, skipped: 0, interrupted: 1 } }]);
  // The first attempt's failure is one; the interrupted attempt is none.
  const errors = JSON.parse((await ws.run(["errors", "--json"])).stdout) as { task: string; count: number; exitCode: number | null; tail: string[] }[];
  expect(errors.map(({ task, count, exitCode, tail }) => ({ task, count, exitCode, tail }))).toEqual([{ task: "deploy", count: 1, exitCode: 1, tail: ["once"] }]);
});

test("24.8: a retried task interrupted in its first attempt is one interrupted run, and no failure", { timeout: 120_000 }, async () => {
  ws.write({ "Buildfile.ts": RETRIED });
  const result = await interrupted(["sleeper"], marker("sleeper.started"));
  expect(result.exitCode).toBe(130);
  expect(durations(result.stdout)).toBe("> sleeper\n✗ sleeper (<t>)\n");
  expect(result.stderr).toBe('error: Task "sleeper" was interrupted.\nrbuild: interrupted: 0 ran, 0 cached, 1 interrupted in <t>\n');
  expect(await rows("sleeper")).toEqual([{ run: 0, status: "interrupted", attempt: undefined, exitCode: null, error: 'Task "sleeper" was interrupted.' }]);
  expect(JSON.parse((await ws.run(["errors", "--json"])).stdout)).toEqual([]);
});
