/** Undo (issue 26 item 2): after a failed build, the undo of every impure task that succeeded in it, dependents' first. */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { daemonPids, servedBuilds, stopDaemons, until } from "./test-support/daemon.js";
import { normalize, Workspace } from "./test-support/workspace.js";

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => {
  stopDaemons(ws);
  ws.remove();
});

/**
 * a <- b <- pure <- c <- fail <- after, each impure but `pure` with an undo
 * that appends to `log` (b's a function), one after the other so that the
 * output's order is known; `elsewhere` and `ok` have undos too, and a build of
 * `after` does not reach them.
 */
const BUILDFILE = `import { task } from "rbuild";
const a = task({ name: "a", pure: false, run: "echo run a >> log", undo: "echo undo a >> log" });
const b = task({ name: "b", pure: false, deps: [a], run: "echo run b >> log",
  undo: async ({ exec, log }) => { log("putting b back"); await exec("echo undo b >> log"); } });
const pure = task({ name: "pure", deps: [b], outputs: ["p.txt"], run: "echo p > p.txt" });
const c = task({ name: "c", pure: false, deps: [pure], env: ["UNDO_C"], run: "echo run c >> log", undo: "echo undo c >> log; \${UNDO_C:-true}" });
const fail = task({ name: "fail", pure: false, deps: [c], run: "echo run fail >> log; exit 1", undo: "echo undo fail >> log" });
task({ name: "after", pure: false, deps: [fail], run: "echo run after >> log", undo: "echo undo after >> log" });
task({ name: "elsewhere", pure: false, run: "echo run elsewhere >> log", undo: "echo undo elsewhere >> log" });
task({ name: "ok", pure: false, deps: [a], run: "echo run ok >> log", undo: "echo undo ok >> log" });
`;

const times = (text: string): string => text.replace(/\d+ms|\d+\.\ds/g, "<t>");

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 3000 && !check(); i++) await sleep(10);
  expect(check()).toBe(true);
}

describe("undo", () => {
  test("26.2: after a failure each impure task that succeeded is undone, a task's undo after its dependents'", async () => {
    ws.write({ "Buildfile.ts": BUILDFILE });
    const result = await ws.run(["after", "-j", "1", "--summary", "summary.json"]);
    expect(ws.read("log")).toBe("run a\nrun b\nrun c\nrun fail\nundo c\nundo b\nundo a\n");
    expect(result).toEqual({
      exitCode: 1,
      stdout:
        "> a\n✓ a (<t>)\n> b\n✓ b (<t>)\n> pure\n✓ pure (<t>)\n> c\n✓ c (<t>)\n> fail\n✗ fail (<t>)\n- after skipped (dependency-failed: fail)\n" +
        "> undo c\nundo c: ok\n> undo b\n[b] putting b back\nundo b: ok\n> undo a\nundo a: ok\n",
      stderr: 'error: Task "fail" failed: its command exited with code 1.\nrbuild: failed: 4 ran, 0 cached, 1 failed, 1 skipped in <t>\n',
    });
    const summary = JSON.parse(ws.read("summary.json")) as { ok: boolean; undos: { task: string; ok: boolean; exitCode: number | null }[] };
    expect(summary.ok).toBe(false);
    expect(summary.undos.map(({ task, ok, exitCode }) => ({ task, ok, exitCode }))).toEqual([
      { task: "c", ok: true, exitCode: 0 },
      { task: "b", ok: true, exitCode: null },
      { task: "a", ok: true, exitCode: 0 },
    ]);
    // Recorded: the undo is a run of its task, after the run it undid.
    const runs = JSON.parse((await ws.run(["history", "--task", "b", "--json"])).stdout) as { status: string; build: number; reasons: string[] }[];
    expect(runs.map(({ status, build, reasons }) => ({ status, build, reasons }))).toEqual([
      { status: "undone", build: 1, reasons: ["undo"] },
      { status: "ran", build: 1, reasons: ["impure"] },
    ]);
    const builds = JSON.parse((await ws.run(["history", "--json"])).stdout) as { outcome: string; tasks: unknown }[];
    expect(builds[0]).toMatchObject({ outcome: "failed", tasks: { ran: 4, cached: 0, failed: 1, skipped: 1 } });
  });

  test("26.2: a build that succeeds undoes nothing, and a task not run in a failed build (cached, or not reached) is never undone", async () => {
    ws.write({ "Buildfile.ts": BUILDFILE });
    expect((await ws.run(["ok", "pure", "-j", "1"])).exitCode).toBe(0);
    expect(ws.read("log")).toBe("run a\nrun b\nrun ok\n");
    // pure is restored from the cache (nothing to undo in any case); elsewhere and ok are not reached; after is skipped.
    const result = await ws.run(["after", "-j", "1"]);
    expect(result.exitCode).toBe(1);
    expect(ws.read("log")).toBe("run a\nrun b\nrun ok\nrun a\nrun b\nrun c\nrun fail\nundo c\nundo b\nundo a\n");
    expect(result.stdout).toContain("✓ pure (cached, local)\n");
  });

  test("26.2: --no-undo skips the undos", async () => {
    ws.write({ "Buildfile.ts": BUILDFILE });
    const result = await ws.run(["after", "-j", "1", "--no-undo"]);
    expect(result.exitCode).toBe(1);
    expect(ws.read("log")).toBe("run a\nrun b\nrun c\nrun fail\n");
    expect(result.stdout).toBe("> a\n✓ a (<t>)\n> b\n✓ b (<t>)\n> pure\n✓ pure (<t>)\n> c\n✓ c (<t>)\n> fail\n✗ fail (<t>)\n- after skipped (dependency-failed: fail)\n");
  });

  test("26.2: a failing undo is reported loudly, the others still run, and the exit status stays 1", async () => {
    ws.write({ "Buildfile.ts": BUILDFILE });
    const message = "undo c FAILED: its undo exited with code 1; what c did is still in place: undo it by hand, or fix its undo and run the build again";
    const result = await ws.run(["after", "-j", "1", "--summary", "summary.json", "--junit", "junit.xml"], { env: { UNDO_C: "false" } });
    expect(ws.read("log")).toBe("run a\nrun b\nrun c\nrun fail\nundo c\nundo b\nundo a\n");
    expect(result).toEqual({
      exitCode: 1,
      stdout:
        "> a\n✓ a (<t>)\n> b\n✓ b (<t>)\n> pure\n✓ pure (<t>)\n> c\n✓ c (<t>)\n> fail\n✗ fail (<t>)\n- after skipped (dependency-failed: fail)\n" +
        `> undo c\n${message}\n> undo b\n[b] putting b back\nundo b: ok\n> undo a\nundo a: ok\n`,
      stderr: `error: Task "fail" failed: its command exited with code 1.\nerror: ${message}\nrbuild: failed: 4 ran, 0 cached, 1 failed, 1 skipped, 1 undo failed in <t>\n`,
    });
    const summary = JSON.parse(ws.read("summary.json")) as { undos: { task: string; ok: boolean; error?: string }[] };
    expect(summary.undos.map(({ task, ok, error }) => ({ task, ok, error }))).toEqual([
      { task: "c", ok: false, error: message },
      { task: "b", ok: true, error: undefined },
      { task: "a", ok: true, error: undefined },
    ]);
    expect(ws.read("junit.xml")).toContain(`<testcase classname="rbuild" name="undo c" time=`);
    expect(ws.read("junit.xml")).toContain(`<failure message="${message}" type="undo-failed">`);
    const runs = JSON.parse((await ws.run(["history", "--task", "c", "--json"])).stdout) as { status: string; exitCode: number | null; error: string | null }[];
    // The history says what the build said: the undo failed, not the task's command.
    expect(runs[0]).toMatchObject({ status: "undo-failed", exitCode: 1, error: message });
  });

  test("26.2: in CI the table lists the undos, the failed one loudly", async () => {
    ws.write({ "Buildfile.ts": BUILDFILE });
    const result = await ws.run(["after", "-j", "1"], { env: { UNDO_C: "false", CI: "true" } });
    expect(result.exitCode).toBe(1);
    expect(times(result.stderr).split("\n").slice(0, 10)).toEqual([
      "task    status   cache  duration",
      "a       ran      -      <t>",
      "after   skipped  -      -",
      "b       ran      -      <t>",
      "c       ran      -      <t>",
      "fail    failed   -      <t>",
      "pure    ran      -      <t>",
      "undo c  FAILED   -      <t>",
      "undo b  ok       -      <t>",
      "undo a  ok       -      <t>",
    ]);
  });

  test("26.2: Ctrl-C runs no undo; with --undo-on-interrupt it does", async () => {
    const buildfile = `import { task } from "rbuild";
const a = task({ name: "a", pure: false, run: "echo run a >> log", undo: "echo undo a >> log" });
task({ name: "slow", pure: false, deps: [a], run: "touch slow.started; sleep 300", undo: "echo undo slow >> log" });
`;
    for (const flags of [[], ["--undo-on-interrupt"]]) {
      ws.write({ "Buildfile.ts": buildfile, log: "" });
      const child = ws.start(["slow", ...flags]);
      await waitFor(() => existsSync(join(ws.root, "slow.started")));
      child.kill("SIGINT");
      const result = await child;
      expect(result.exitCode).toBe(130);
      const stdout = normalize(String(result.stdout), ws.root);
      if (flags.length === 0) {
        expect(ws.read("log")).toBe("run a\n");
        expect(stdout).toBe("> a\n✓ a (<t>)\n> slow\n✗ slow (<t>)\n");
      } else {
        expect(ws.read("log")).toBe("run a\nundo a\n");
        expect(stdout).toBe("> a\n✓ a (<t>)\n> slow\n✗ slow (<t>)\n> undo a\nundo a: ok\n");
      }
      rmSync(join(ws.root, "slow.started"));
    }
  }, 120_000);

  test("26.2: with --undo-on-interrupt a second Ctrl-C stops the undos", async () => {
    ws.write({
      "Buildfile.ts": `import { task } from "rbuild";
const a = task({ name: "a", pure: false, run: "echo run a >> log", undo: "touch undo.started; sleep 300" });
task({ name: "slow", pure: false, deps: [a], run: "touch slow.started; sleep 300" });
`,
    });
    const child = ws.start(["slow", "--undo-on-interrupt"]);
    await waitFor(() => existsSync(join(ws.root, "slow.started")));
    child.kill("SIGINT");
    await waitFor(() => existsSync(join(ws.root, "undo.started")));
    child.kill("SIGINT");
    const result = await child;
    expect(result.exitCode).toBe(130);
    const message = "undo a FAILED: it was interrupted before it finished; what a did is still in place: undo it by hand, or fix its undo and run the build again";
    expect(normalize(String(result.stdout), ws.root)).toBe(`> a\n✓ a (<t>)\n> slow\n✗ slow (<t>)\n> undo a\n${message}\n`);
    expect(normalize(String(result.stderr), ws.root)).toBe(`error: Task "slow" was interrupted.\nerror: ${message}\nrbuild: interrupted: 1 ran, 0 cached, 1 interrupted, 1 undo failed in <t>\n`);
  }, 120_000);

  test("26.2: undo on a pure task is a planning error", async () => {
    ws.write({ "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "gen", outputs: ["o"], run: "touch o", undo: "rm o" });\n` });
    expect(await ws.run(["gen"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        'rbuild: error: Buildfile.ts:2:1: Task "gen": `undo` is for impure tasks only: a pure task changes nothing outside its outputs, so there is nothing to undo. Add `pure: false` if the task touches the world\n',
    });
  });

  test("26.2: undos run under the daemon too", async () => {
    ws.write({ "Buildfile.ts": BUILDFILE });
    const daemon = { command: true, env: { RBUILD_DAEMON: "1" } } as const;
    expect((await ws.run(["ok"], daemon)).exitCode).toBe(0);
    await until("the daemon listens", () => daemonPids(ws).length > 0);
    const before = servedBuilds(ws);
    const result = await ws.run(["after", "-j", "1"], daemon);
    expect(servedBuilds(ws)).toBe(before + 1);
    expect(result.exitCode).toBe(1);
    expect(ws.read("log")).toBe("run a\nrun ok\nrun a\nrun b\nrun c\nrun fail\nundo c\nundo b\nundo a\n");
    expect(result.stdout.endsWith("> undo c\nundo c: ok\n> undo b\n[b] putting b back\nundo b: ok\n> undo a\nundo a: ok\n")).toBe(true);
    // With --undo-on-interrupt the build is not the daemon's: undos after an interrupt may outlast its wait for one to stop.
    const own = await ws.run(["after", "-j", "1", "--undo-on-interrupt"], daemon);
    expect([own.exitCode, servedBuilds(ws)]).toEqual([1, before + 1]);
    expect(own.stdout.endsWith("> undo a\nundo a: ok\n")).toBe(true);
  }, 60_000);
});
