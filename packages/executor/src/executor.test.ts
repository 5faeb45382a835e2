import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { ExecError, describeFailure, task, type BuildEvent, type Task } from "@rbuild/core";
import { defineTasks, plan } from "@rbuild/planner";
import { isAlive } from "../../../test-support/processes.js";
import type { Digest } from "@rbuild/hash";
import { execute, type ExecuteOptions } from "./executor.js";
import type { Fresh } from "./fresh-entry.js";
import { Store } from "@rbuild/store";
import { LocalRunner } from "@rbuild/runners";

let root: string;
beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-exec-")));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** Plans `targets` from `tasks` and executes them with a recording reporter. */
async function build(tasks: Task[], targets: string[], options: Partial<ExecuteOptions> = {}) {
  const defs = defineTasks(tasks, root);
  if (!defs.ok) throw new Error(defs.error.map((f) => describeFailure(f, { cwd: root })).join("\n"));
  const graph = plan(defs.value, targets);
  if (!graph.ok) throw new Error(graph.error.map((f) => describeFailure(f, { cwd: root })).join("\n"));
  const events: BuildEvent[] = [];
  const outcome = await execute({ graph: graph.value, jobs: 2, runner: new LocalRunner(), reporter: { report: (e) => events.push(e) }, env: { PATH: process.env.PATH }, ...options });
  const timeline = events.flatMap((e) =>
    e.type === "task-started" ? [`start ${e.task}`] : e.type === "task-finished" ? [`${e.result.status} ${e.result.name}`] : [],
  );
  const output = (name: string) => events.flatMap((e) => (e.type === "task-output" && e.task === name ? [`${e.stream}: ${e.line}`] : []));
  const result = (name: string) => outcome.results.find((r) => r.name === name);
  return { outcome, events, timeline, output, result };
}

/** A shell command that waits (up to 10 s) for `file` to exist. */
const waitFor = (file: string) => `i=0; while [ ! -e '${file}' ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done; [ -e '${file}' ]`;

describe("execute", () => {
  test("a diamond runs each task once, after all of its deps", async () => {
    const a = task({ name: "a", run: "echo a" });
    const b = task({ name: "b", deps: [a], run: "echo b" });
    const c = task({ name: "c", deps: [a], run: "echo c" });
    const d = task({ name: "d", deps: [b, c], run: "echo d" });
    const { outcome, timeline } = await build([a, b, c, d], ["d"]);
    expect(outcome.ok).toBe(true);
    expect(timeline.slice(0, 2)).toEqual(["start a", "ran a"]);
    expect(timeline.slice(2, 6).sort()).toEqual(["ran b", "ran c", "start b", "start c"]);
    expect(timeline.slice(6)).toEqual(["start d", "ran d"]);
    expect(outcome.results.map((r) => [r.name, r.status, r.exitCode])).toEqual([["a", "ran", 0], ["b", "ran", 0], ["c", "ran", 0], ["d", "ran", 0]]);
  });

  test("independent tasks run at the same time up to -j", async () => {
    // Each task waits for the other to have started: this only finishes if both run at once.
    const x = task({ name: "x", run: `touch x.started && ${waitFor("y.started")}` });
    const y = task({ name: "y", run: `touch y.started && ${waitFor("x.started")}` });
    const { outcome } = await build([x, y], ["x", "y"], { jobs: 2 });
    expect(outcome.results.map((r) => r.status)).toEqual(["ran", "ran"]);
  });

  test("with -j 2, a task's slot is free when its command ends: the next starts before its outputs are stored", async () => {
    const store = Store.open({ dir: join(root, ".rbuild") });
    try {
      // `slow` holds one slot throughout; `first` ends at once and `second` waits for its slot.
      const slow = task({ name: "a-slow", run: "sleep 1" });
      const first = task({ name: "first", inputs: [], outputs: ["first.txt"], run: "echo 1 > first.txt" });
      const second = task({ name: "second", run: "true" });
      const { outcome, timeline } = await build([slow, first, second], ["a-slow", "first", "second"], { cache: { store } });
      expect(outcome.ok).toBe(true);
      expect(timeline.indexOf("start second")).toBeGreaterThan(timeline.indexOf("start first"));
      expect(timeline.indexOf("start second")).toBeLessThan(timeline.indexOf("ran first"));
      expect(timeline.at(-1)).toBe("ran a-slow");
    } finally {
      store.close();
    }
  });

  test("with -j 2, at most two commands run at once", async () => {
    const store = Store.open({ dir: join(root, ".rbuild") });
    try {
      mkdirSync(join(root, "running"));
      // Each command counts the commands running as it starts; with a store, ready tasks wait for a slot
      // while the commands before them run and their outputs are stored (see Slots).
      const run = "touch running/$$; ls running | wc -l >> counts; sleep 0.02; rm running/$$";
      const tasks = Array.from({ length: 24 }, (_, i) => task({ name: `t${i}`, run }));
      const { outcome } = await build(tasks, tasks.map((t) => t.name), { cache: { store } });
      expect(outcome.ok).toBe(true);
      const counts = readFileSync(join(root, "counts"), "utf8").trim().split("\n").map(Number);
      expect(counts).toHaveLength(24);
      expect(Math.max(...counts)).toBe(2);
    } finally {
      store.close();
    }
  });

  test("-j 1 runs one task at a time, the longest remaining chain first", async () => {
    const lone = task({ name: "a-lone", run: "true" });
    const x1 = task({ name: "x1", run: "true" });
    const x2 = task({ name: "x2", deps: [x1], run: "true" });
    const x3 = task({ name: "x3", deps: [x2], run: "true" });
    const { timeline } = await build([lone, x1, x2, x3], ["a-lone", "x3"], { jobs: 1 });
    expect(timeline).toEqual(["start x1", "ran x1", "start x2", "ran x2", "start a-lone", "ran a-lone", "start x3", "ran x3"]);
  });

  test("known tasks no work depends on wait: the task to run starts first", async () => {
    // Thirty up-to-date chains outrank the one up-to-date task the edited task needs.
    const chains = Array.from({ length: 30 }, (_, i) => {
      const head = task({ name: `k${i}-a`, run: "true" });
      return [head, task({ name: `k${i}-b`, deps: [head], run: "true" })];
    }).flat();
    const w0 = task({ name: "w0", run: "true" });
    const w = task({ name: "w", deps: [w0], run: "echo ran" });
    const fresh: Fresh = { key: "k" as Digest, outputsDigest: "d" as Digest, layer: null, exitCode: 0, log: [] };
    const upToDate = new Map([...chains, w0].map((t) => [t.name, fresh]));
    const { outcome, timeline } = await build([...chains, w0, w], [...chains, w].map((t) => t.name), { upToDate });
    expect(outcome.ok).toBe(true);
    expect(timeline.slice(0, 2)).toEqual(["cached w0", "start w"]);
    expect(outcome.results.filter((r) => r.status === "cached")).toHaveLength(61);
    expect(outcome.results.find((r) => r.name === "w")?.status).toBe("ran");
    // The late ones are still recorded in an order their deps allow.
    for (let i = 0; i < 30; i++) expect(timeline.indexOf(`cached k${i}-a`)).toBeLessThan(timeline.indexOf(`cached k${i}-b`));
  });

  test("a failure skips its dependents, starts nothing new, and lets running tasks finish", async () => {
    // slow outlives fail: it waits for fail to have started failing, then a little more for rbuild to reap it.
    const slow = task({ name: "slow", run: `${waitFor("fail.done")} && sleep 0.5 && echo finished` });
    const fail = task({ name: "fail", run: "touch fail.done; echo broken >&2; exit 3" });
    const after = task({ name: "after", deps: [fail], run: "echo never" });
    const later = task({ name: "later", deps: [slow], run: "echo never" });
    const { outcome, timeline, result, output } = await build([slow, fail, after, later], ["after", "later"], { jobs: 2 });
    expect(outcome.ok).toBe(false);
    expect(timeline.filter((t) => t.startsWith("start")).sort()).toEqual(["start fail", "start slow"]);
    expect(result("fail")).toMatchObject({ status: "failed", exitCode: 3, failure: { reason: "exit-nonzero", task: "fail", exitCode: 3 } });
    expect(output("fail")).toEqual(["stderr: broken"]);
    expect(result("slow")).toMatchObject({ status: "ran", exitCode: 0 });
    expect(result("after")).toMatchObject({ status: "skipped", reasons: ["dependency-failed: fail"] });
    expect(result("later")).toMatchObject({ status: "skipped", reasons: ["build-stopped: fail failed"] });
  });

  test("keep-going runs everything not downstream of a failure", async () => {
    const fail = task({ name: "fail", run: "exit 1" });
    const after = task({ name: "after", deps: [fail], run: "true" });
    const further = task({ name: "further", deps: [after], run: "true" });
    const other = task({ name: "other", run: "true" });
    const next = task({ name: "next", deps: [other], run: "true" });
    const { outcome } = await build([fail, after, further, other, next], ["further", "next"], { jobs: 1, keepGoing: true });
    expect(outcome.ok).toBe(false);
    expect(outcome.results.map((r) => [r.name, r.status, r.reasons])).toEqual([
      ["fail", "failed", ["no-record"]],
      ["after", "skipped", ["dependency-failed: fail"]],
      ["further", "skipped", ["dependency-failed: fail"]],
      ["other", "ran", ["no-record"]],
      ["next", "ran", ["no-record"]],
    ]);
  });

  test("a task sees only its declared env plus the pass-through set, with node_modules/.bin on PATH", async () => {
    const show = task({ name: "show", env: ["DECLARED", "UNSET"], run: "env | sort | grep -v '^_=' | grep -v '^PWD=' | grep -v '^SHLVL='" });
    const { output } = await build([show], ["show"], {
      env: { PATH: "/usr/bin:/bin", HOME: "/home/me", LC_ALL: "C", DECLARED: "yes", SECRET: "hidden", CI: "true" },
    });
    expect(output("show")).toEqual(["stdout: DECLARED=yes", "stdout: HOME=/home/me", "stdout: LC_ALL=C", "stdout: PATH=/usr/bin:/bin"]);
  });

  test("output lines are whole even when written in pieces, and a last line without newline is kept", async () => {
    const pieces = task({ name: "pieces", run: "printf 'abc'; sleep 0.05; printf 'def\\nghi'" });
    const { output } = await build([pieces], ["pieces"]);
    expect(output("pieces")).toEqual(["stdout: abcdef", "stdout: ghi"]);
  });

  test("a missing working directory fails the task with what to do", async () => {
    const lost = task({ name: "lost", cwd: "no/such/dir", run: "true" });
    const { result } = await build([lost], ["lost"]);
    expect(describeFailure(result("lost")!.failure!, { cwd: root })).toBe(
      `Task "lost" could not start: its working directory ${root}/no/such/dir does not exist. Create it, or fix the task's \`cwd\`.`,
    );
  });

  test("a task killed by a signal fails with the signal's name", async () => {
    const { result } = await build([task({ name: "victim", run: "kill -9 $$" })], ["victim"]);
    expect(result("victim")).toMatchObject({ status: "failed", exitCode: null, failure: { reason: "killed", signal: "SIGKILL" } });
  });

  test("function tasks get exec, log, cwd and env; a failing exec fails the task with its exit code", async () => {
    const fn = task({
      name: "fn",
      env: ["GREETING"],
      run: async ({ exec, log, cwd, env }) => {
        const { stdout } = await exec(["sh", "-c", 'echo "$GREETING from exec"']);
        log("captured:", stdout.trim(), cwd === root, env.GREETING);
      },
    });
    const failing = task({ name: "failing", run: async ({ exec }) => void (await exec("exit 4")) });
    const caught = task({
      name: "caught",
      run: async ({ exec, log }) => {
        try {
          await exec("exit 5");
        } catch (error) {
          log(error instanceof ExecError ? error.message : "not an ExecError");
        }
      },
    });
    const { result, output } = await build([fn, failing, caught], ["fn", "failing", "caught"], { env: { PATH: process.env.PATH, GREETING: "hello" }, keepGoing: true });
    expect(output("fn")).toEqual(["stdout: hello from exec", "stdout: captured: hello from exec true hello"]);
    expect(result("fn")).toMatchObject({ status: "ran", exitCode: null });
    expect(result("failing")).toMatchObject({ status: "failed", exitCode: 4, failure: { reason: "exit-nonzero", exitCode: 4 } });
    expect(output("caught")).toEqual(["stdout: command `exit 5` exited with code 5"]);
  });

  test("a function that throws fails the task with the message and where it was thrown", async () => {
    const thrower = task({
      name: "thrower",
      run: () => {
        throw new Error("deploy target unknown");
      },
    });
    const { result } = await build([thrower], ["thrower"]);
    const message = describeFailure(result("thrower")!.failure!, { cwd: root });
    expect(message).toMatch(/executor\.test\.ts:\d+:\d+: Task "thrower" failed: deploy target unknown$/);
  });

  test("an interrupt kills each running task's whole process group, waits, and skips the rest", async () => {
    // The task starts a grandchild in the background and records its pid.
    const parent = task({ name: "parent", run: "sleep 60 & echo $! > grandchild.pid; touch started; wait" });
    const after = task({ name: "after", deps: [parent], run: "true" });
    const interrupt = new AbortController();
    const watcher = setInterval(() => existsSync(join(root, "started")) && interrupt.abort(), 10);
    const { outcome, result } = await build([parent, after], ["after"], { signal: interrupt.signal });
    clearInterval(watcher);
    expect(outcome).toMatchObject({ ok: false, interrupted: true });
    expect(result("parent")).toMatchObject({ status: "failed", failure: { reason: "interrupted" } });
    expect(result("after")).toMatchObject({ status: "skipped", reasons: ["interrupted"] });
    const grandchild = Number(readFileSync(join(root, "grandchild.pid"), "utf8"));
    expect(isAlive(grandchild)).toBe(false);
  });
});
