/** Retries (issue 26 item 1): `retries`, `retryDelay`, `retryOn`; attempts reported, recorded and counted as flaky. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { normalize, Workspace } from "./test-support/workspace.js";

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.remove());

const HEADER = `import { task } from "rbuild";\n`;
/** Fails until its counter file (the first argument) reaches 3: the first two attempts fail. */
const FLAKY_SCRIPT = `n=$(cat "$1" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$1"; echo "attempt $n"; [ $n -ge 3 ]`;
/** Durations as <t>, also beside other words in the parentheses. */
const times = (text: string): string => text.replace(/\((\d+ms|\d+\.\ds)([,)])/g, "(<t>$2");

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 3000 && !check(); i++) await sleep(10);
  expect(check()).toBe(true);
}

describe("retries", () => {
  test("26.1: a flaky task passes on its third attempt: each attempt reported, flaky with attempts 3, three rows in history", async () => {
    ws.write({
      "flaky.sh": FLAKY_SCRIPT,
      "Buildfile.ts": `${HEADER}task({ name: "deploy", pure: false, retries: 3, retryDelay: 0, run: "sh flaky.sh count" });\n`,
    });
    const result = await ws.run(["deploy", "--summary", "summary.json"]);
    expect({ ...result, stdout: times(result.stdout) }).toEqual({
      exitCode: 0,
      stdout:
        "> deploy\n[deploy] attempt 1\nretrying deploy (attempt 2 of 4) in 0 ms: exit 1\n" +
        "> deploy\n[deploy] attempt 2\nretrying deploy (attempt 3 of 4) in 0 ms: exit 1\n" +
        "> deploy\n[deploy] attempt 3\n✓ deploy (<t>, flaky: 3 attempts)\n",
      stderr: "rbuild: ok: 1 ran, 0 cached, 1 flaky (deploy) in <t>\n",
    });
    const summary = JSON.parse(ws.read("summary.json")) as { ok: boolean; tasks: Record<string, unknown>[] };
    expect(summary.ok).toBe(true);
    expect(summary.tasks.map(({ durationMs: _, ...task }) => task)).toEqual([
      { name: "deploy", status: "ran", cache: null, key: null, exitCode: 0, reasons: ["impure"], attempts: 3, flaky: true },
    ]);

    const history = await ws.run(["history", "--task", "deploy", "--json"]);
    expect(history.exitCode).toBe(0);
    const runs = JSON.parse(history.stdout) as { run: number; build: number; status: string; attempt: number; exitCode: number | null; error: string | null }[];
    expect(runs.map(({ run, build, status, attempt, exitCode, error }) => ({ run, build, status, attempt, exitCode, error }))).toEqual([
      { run: 0, build: 1, status: "ran", attempt: 3, exitCode: 0, error: null },
      { run: 1, build: 1, status: "failed", attempt: 2, exitCode: 1, error: 'Task "deploy" failed: its command exited with code 1.' },
      { run: 2, build: 1, status: "failed", attempt: 1, exitCode: 1, error: 'Task "deploy" failed: its command exited with code 1.' },
    ]);
    // The build counts the task once, by its last attempt.
    const builds = JSON.parse((await ws.run(["history", "--json"])).stdout) as { tasks: unknown }[];
    expect(builds[0]!.tasks).toEqual({ ran: 1, cached: 0, failed: 0, skipped: 0, interrupted: 0 });
    // Each failed attempt's log is kept: `rbuild show --run 2` shows the first.
    const first = await ws.run(["show", "deploy", "--run", "2"]);
    expect(first.stdout).toContain("\nstatus:   failed in ");
    expect(first.stdout).toContain(", exit code 1, attempt 1\n");
    expect(first.stdout).toContain("attempt 1\n");
    const text = await ws.run(["history", "--task", "deploy"]);
    expect(text.stdout.split("\n")[1]).toMatch(/^run +build +started +status +attempt +duration +exit +reasons$/);
  });

  test("26.1: a pure function task retries too, and its retries do not change its key: adding them keeps it cached", async () => {
    const buildfile = (retries: string): string =>
      `${HEADER}import { readFileSync, writeFileSync, existsSync } from "node:fs";\n` +
      `task({ name: "gen", inputs: ["in.txt"], outputs: ["out.txt"]${retries}, run: async ({ log }) => {\n` +
      `  const n = existsSync("count") ? Number(readFileSync("count", "utf8")) + 1 : 1;\n` +
      `  writeFileSync("count", String(n));\n` +
      `  writeFileSync("out.txt", "attempt " + n + "\\n");\n` +
      `  if (n % 3 !== 0) throw new Error("not yet (" + n + ")");\n` +
      `  log("done on " + n);\n` +
      `} });\n`;
    ws.write({ "in.txt": "x\n", "Buildfile.ts": buildfile(", retries: 2, retryDelay: 0") });
    const first = await ws.run(["gen"]);
    expect({ ...first, stdout: times(first.stdout) }).toEqual({
      exitCode: 0,
      stdout:
        "> gen\nretrying gen (attempt 2 of 3) in 0 ms: Buildfile.ts:7:26: Task \"gen\" failed: not yet (1)\n" +
        "> gen\nretrying gen (attempt 3 of 3) in 0 ms: Buildfile.ts:7:26: Task \"gen\" failed: not yet (2)\n" +
        "> gen\n[gen] done on 3\n✓ gen (<t>, flaky: 3 attempts)\n",
      stderr: "rbuild: ok: 1 ran, 0 cached, 1 flaky (gen) in <t>\n",
    });
    expect(ws.read("out.txt")).toBe("attempt 3\n");
    // A function task's key holds the Buildfile's digest, which any edit changes: a command task shows that retries stay out of keys.
    ws.write({ "Buildfile.ts": `${HEADER}task({ name: "cmd", inputs: ["in.txt"], outputs: ["o.txt"], run: "cp in.txt o.txt" });\n` });
    expect((await ws.run(["cmd"])).stdout).toBe("> cmd\n✓ cmd (<t>)\n");
    ws.write({ "Buildfile.ts": `${HEADER}task({ name: "cmd", inputs: ["in.txt"], outputs: ["o.txt"], retries: 4, retryDelay: 50, run: "cp in.txt o.txt" });\n` });
    ws.write({ "o.txt": "changed by hand\n" });
    expect(await ws.run(["cmd"])).toEqual({ exitCode: 0, stdout: "✓ cmd (cached, local)\n", stderr: "rbuild: ok: 0 ran, 1 cached in <t>\n" });
    expect(ws.read("o.txt")).toBe("x\n");
  });

  test("26.1: retryOn: a code it does not name fails at once; one it names is retried until retries run out", async () => {
    ws.write({
      "Buildfile.ts":
        HEADER +
        `task({ name: "other", pure: false, retries: 3, retryDelay: 0, retryOn: [75], run: "echo tried >> other.log; exit 1" });\n` +
        `task({ name: "named", pure: false, retries: 2, retryDelay: 0, retryOn: [75], run: "echo tried >> named.log; exit 75" });\n`,
    });
    const other = await ws.run(["other", "--summary", "s.json"]);
    expect(other).toEqual({
      exitCode: 1,
      stdout: "> other\n✗ other (<t>)\n",
      stderr: 'error: Task "other" failed: its command exited with code 1.\nrbuild: failed: 0 ran, 0 cached, 1 failed in <t>\n',
    });
    expect(ws.read("other.log")).toBe("tried\n");
    expect((JSON.parse(ws.read("s.json")) as { tasks: Record<string, unknown>[] }).tasks[0]).not.toHaveProperty("attempts");

    const named = await ws.run(["named", "--summary", "s.json"]);
    expect(named).toEqual({
      exitCode: 1,
      stdout:
        "> named\nretrying named (attempt 2 of 3) in 0 ms: exit 75\n> named\nretrying named (attempt 3 of 3) in 0 ms: exit 75\n> named\n✗ named (<t>)\n",
      stderr: 'error: Task "named" failed: its command exited with code 75.\nrbuild: failed: 0 ran, 0 cached, 1 failed in <t>\n',
    });
    expect(ws.read("named.log")).toBe("tried\ntried\ntried\n");
    const task = (JSON.parse(ws.read("s.json")) as { tasks: Record<string, unknown>[] }).tasks[0]!;
    expect([task.status, task.attempts, task.flaky]).toEqual(["failed", 3, undefined]);
  });

  test("26.1: each attempt is an event in --output json", async () => {
    ws.write({ "flaky.sh": FLAKY_SCRIPT, "Buildfile.ts": `${HEADER}task({ name: "deploy", pure: false, retries: 2, retryDelay: 0, run: "sh flaky.sh count" });\n` });
    const result = await ws.run(["deploy", "--output", "json"]);
    expect(result.exitCode).toBe(0);
    const events = result.stdout.trim().split("\n").map((line) => JSON.parse(line) as { type: string; result?: Record<string, unknown> });
    expect(events.filter((e) => e.type === "task-retry")).toEqual([
      { type: "task-retry", task: "deploy", attempt: 2, attempts: 3, delayMs: 0, failure: { reason: "exit-nonzero", task: "deploy", exitCode: 1 } },
      { type: "task-retry", task: "deploy", attempt: 3, attempts: 3, delayMs: 0, failure: { reason: "exit-nonzero", task: "deploy", exitCode: 1 } },
    ]);
    expect(events.filter((e) => e.type === "task-started").length).toBe(3);
    const finished = events.find((e) => e.type === "task-finished")!.result!;
    expect([finished.status, finished.attempts, finished.flaky]).toEqual(["ran", 3, true]);
  });

  test("26.1: the CI table shows a flaky task", async () => {
    ws.write({ "flaky.sh": FLAKY_SCRIPT, "Buildfile.ts": `${HEADER}task({ name: "deploy", pure: false, retries: 2, retryDelay: 0, run: "sh flaky.sh count" });\n` });
    const result = await ws.run(["deploy"], { env: { CI: "true" } });
    expect(result.exitCode).toBe(0);
    expect(result.stderr.replace(/\d+ms|\d+\.\ds/g, "<t>")).toBe(
      "task    status                   cache  duration\ndeploy  ran, flaky (3 attempts)  -      <t>\nrbuild: ok: 1 ran, 0 cached, 1 flaky (deploy) in <t>\n",
    );
  });

  test("26.1: an interrupt during a retry's wait stops the build at once", async () => {
    ws.write({ "Buildfile.ts": `${HEADER}task({ name: "deploy", pure: false, retries: 3, retryDelay: 600000, run: "touch failed-once; exit 1" });\n` });
    const child = ws.start(["deploy"]);
    let stdout = "";
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    await waitFor(() => stdout.includes("retrying deploy"));
    child.kill("SIGINT");
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(existsSync(join(ws.root, "failed-once"))).toBe(true);
    expect(normalize(String(result.stderr), ws.root)).toBe('error: Task "deploy" was interrupted.\nrbuild: interrupted: 0 ran, 0 cached, 1 interrupted in <t>\n');
  }, 60_000);

  test("26.1: once another task's failure stops the build, a task waiting to retry tries no more", async () => {
    ws.write({
      "Buildfile.ts":
        HEADER +
        `task({ name: "deploy", pure: false, retries: 3, retryDelay: 600000, run: "echo tried >> deploy.log; exit 1" });\n` +
        `task({ name: "check", pure: false, run: "while [ ! -f deploy.log ]; do sleep 0.05; done; exit 2" });\n` +
        `task({ name: "all", deps: ["deploy", "check"] });\n`,
    });
    const result = await ws.run(["all", "-j", "2"]);
    expect(result.exitCode).toBe(1);
    expect(ws.read("deploy.log")).toBe("tried\n");
    expect(result.stderr).toBe(
      'error: Task "check" failed: its command exited with code 2.\nerror: Task "deploy" failed: its command exited with code 1.\nrbuild: failed: 0 ran, 0 cached, 2 failed, 1 skipped in <t>\n',
    );
  }, 60_000);

  test("26.1: bad retries, retryDelay and retryOn are planning errors naming the task and the field", async () => {
    ws.write({
      "Buildfile.ts":
        HEADER +
        `task({ name: "a", pure: false, retries: -1, run: "true" });\n` +
        `task({ name: "b", pure: false, retries: 1.5, retryDelay: -3, run: "true" });\n` +
        `task({ name: "c", pure: false, retries: 2, retryOn: 1 as never, run: "true" });\n` +
        `task({ name: "d", pure: false, retries: 2, retryOn: [1, "2"] as never, run: "true" });\n` +
        `task({ name: "e", pure: false, retryDelay: 10, run: "true" });\n`,
    });
    const result = await ws.run(["a"]);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      [
        'rbuild: error: Buildfile.ts:2:1: Task "a": `retries` must be a whole number of retries from 0 to 100, got -1',
        'rbuild: error: Buildfile.ts:3:1: Task "b": `retries` must be a whole number of retries from 0 to 100, got 1.5',
        'rbuild: error: Buildfile.ts:3:1: Task "b": `retryDelay` must be a whole number of milliseconds, 0 or more, got -3',
        'rbuild: error: Buildfile.ts:4:1: Task "c": `retryOn` must be an array of exit codes, e.g. [1, 75], got 1',
        'rbuild: error: Buildfile.ts:5:1: Task "d": `retryOn` must hold only exit codes (whole numbers from 1 to 255), got "2"',
        'rbuild: error: Buildfile.ts:6:1: Task "e": `retryDelay` has no effect without `retries`: add e.g. `retries: 2`',
        "",
      ].join("\n"),
    );
  });
});
