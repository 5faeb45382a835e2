/**
 * Regression tests for defects found reviewing the day's merged work (review3):
 * each test is named after the issue item whose code it covers.
 */
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { describeFailure, pool, task, type BuildEvent, type Task } from "@rbuild/core";
import type { Leases } from "@rbuild/remote";
import { defineTasks, plan } from "@rbuild/planner";
import { LocalRunner, type Runner } from "@rbuild/runners";
import { Store } from "@rbuild/store";
import { execute, type ExecuteOptions } from "./executor.js";
import { PoolSlots } from "./pool-slots.js";

let root: string;
beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-review3-")));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function graphOf(tasks: Task[], targets: string[]): ExecuteOptions["graph"] {
  const defs = defineTasks(tasks, root);
  if (!defs.ok) throw new Error(defs.error.map((f) => describeFailure(f, { cwd: root })).join("\n"));
  const graph = plan(defs.value, targets);
  if (!graph.ok) throw new Error("plan failed");
  return graph.value;
}

/** A lease server's seam (see @rbuild/remote Leases): grants at once and holds nothing, but for what `parts` answer. */
function leasesWith(parts: Partial<Leases>): Leases {
  return { acquire: async () => ({ granted: true }), heartbeat: async () => true, release: async () => true, list: async () => [], close: async () => {}, ...parts };
}

/**
 * A build of a task whose input in.txt ("one" for its key) is edited to "two" while its command runs,
 * with `cancel` as the watch's signal (`afterRun` is called once the command has ended): the task fails
 * as interrupted. A second build, with in.txt "one" again, must run it, not restore what "two" made.
 */
async function editedWhileRunning(cancel: AbortSignal, afterRun: () => void = () => {}): Promise<void> {
  writeFileSync(join(root, "in.txt"), "one\n");
  const build = task({ name: "build", inputs: ["in.txt"], outputs: ["out.txt"], run: "cat in.txt > out.txt" });
  const graph = graphOf([build], ["build"]);
  const store = Store.open({ dir: join(root, ".rbuild") });
  try {
    const local = new LocalRunner();
    const editWhileRunning: Runner = {
      run: async (request) => {
        writeFileSync(join(root, "in.txt"), "two\n");
        const outcome = await local.run(request);
        afterRun();
        return outcome;
      },
    };
    const first = await execute({ graph, runner: editWhileRunning, reporter: { report: () => {} }, env: { PATH: process.env.PATH }, cache: { store }, cancel: () => cancel });
    expect(first.results.map((r) => [r.name, r.status, r.failure?.reason])).toEqual([["build", "failed", "interrupted"]]);

    // The edit undone: the key is the first build's again, and must not restore "two".
    writeFileSync(join(root, "in.txt"), "one\n");
    const second = await execute({ graph, runner: local, reporter: { report: () => {} }, env: { PATH: process.env.PATH }, cache: { store } });
    expect({ results: second.results.map((r) => [r.name, r.status]), out: readFileSync(join(root, "out.txt"), "utf8") }).toEqual({ results: [["build", "ran"]], out: "one\n" });
  } finally {
    store.close();
  }
}

test("24.3: a task made stale while it ran, told only once its command had ended, is not stored as a hit", async () => {
  // The watcher's report of the edit (the task's cancel) comes a moment after the command has ended, before its outputs are stored.
  const cancel = new AbortController();
  await editedWhileRunning(cancel.signal, () => cancel.abort());
}, 60_000);

test("26.4: a heartbeat answered after the task gave its lease back says nothing of a lost lease", async () => {
  const staging = pool("staging", { size: 1, shared: true });
  const deploy = task({ name: "deploy", pure: false, pool: staging, run: "true" });
  const graph = graphOf([deploy], ["deploy"]);
  const beats: ((held: boolean) => void)[] = [];
  // A heartbeat's answer waits until the test gives it.
  const leases = leasesWith({ heartbeat: () => new Promise<boolean>((resolve) => beats.push(resolve)) });
  const infos: string[] = [];
  const slots = new PoolSlots({ leases, ttlMs: 30 }, "here", (code, message) => infos.push(`${code}: ${message}`));
  const taken = await slots.take(graph.tasks.get("deploy")!, new AbortController().signal);
  if (!taken.ok) throw new Error("no place");
  while (beats.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  await taken.hold.release();
  // The server answers the heartbeat sent before the release: not held (released), as it should be.
  for (const answer of beats) answer(false);
  await new Promise((resolve) => setImmediate(resolve));
  expect(infos).toEqual([]);
});

test("24.3: in a watch, a task whose input was written while it ran is not stored under the key of the input before", async () => {
  // The watcher's report of the edit never comes in time (or at all, on a loaded machine): the stats tell.
  await editedWhileRunning(new AbortController().signal);
}, 60_000);

test("26.4: an acquire whose answer is lost (or interrupted) gives the lease back: the server may have granted it", async () => {
  const staging = pool("staging", { size: 1, shared: true });
  const deploy = task({ name: "deploy", pure: false, pool: staging, run: "true" });
  const graph = graphOf([deploy], ["deploy"]);
  const held = new Set<string>();
  // The server grants the lease, and its answer never reaches the client.
  const leases = leasesWith({
    acquire: async (_pool, _size, holder) => {
      held.add(holder.id);
      throw new Error("taking a lease on pool \"staging\": the answer did not come within 10 s");
    },
    release: async (_pool, holder) => held.delete(holder),
  });
  const slots = new PoolSlots({ leases, ttlMs: 30_000 }, "here", () => {});
  const taken = await slots.take(graph.tasks.get("deploy")!, new AbortController().signal);
  expect({ ok: taken.ok, failure: "failure" in taken ? taken.failure.reason : undefined, held: [...held] }).toEqual({ ok: false, failure: "pool-lease", held: [] });
});

test("24.3: in a watch, a task that rewrites an input that is also its own output is stored as ever", async () => {
  // The watcher never reports a declared output; neither do the stats taken after the run.
  writeFileSync(join(root, "in.txt"), "one\n");
  const build = task({ name: "build", inputs: ["*.txt"], outputs: ["out.txt"], run: "cat in.txt > out.txt" });
  const graph = graphOf([build], ["build"]);
  const store = Store.open({ dir: join(root, ".rbuild") });
  try {
    const never = new AbortController().signal;
    const watched = { graph, runner: new LocalRunner(), reporter: { report: () => {} }, env: { PATH: process.env.PATH }, cache: { store }, cancel: () => never };
    const statuses: string[] = [];
    // Its output is in its key too: the third build's key is new (out.txt is "two" now), the fourth hits it.
    for (const content of ["one\n", "two\n", "two\n", "two\n"]) {
      writeFileSync(join(root, "in.txt"), content);
      statuses.push(...(await execute(watched)).results.map((r) => r.status));
    }
    expect(statuses).toEqual(["ran", "ran", "ran", "cached"]);
  } finally {
    store.close();
  }
}, 60_000);

test("24.3/26.2: a build that failed for real runs its undos, though a watch's edit also cancelled a task in it", async () => {
  const deploy = task({ name: "deploy", pure: false, run: "echo deployed >> log", undo: "echo undone >> log" });
  const check = task({ name: "check", pure: false, deps: [deploy], run: "while [ ! -e lint.started ]; do sleep 0.02; done; exit 1" });
  const lint = task({ name: "lint", pure: false, run: "touch lint.started; sleep 300" });
  const graph = graphOf([deploy, check, lint], ["check", "lint"]);
  const cancel = new AbortController();
  const events: BuildEvent[] = [];
  const building = execute({
    graph,
    jobs: 2,
    runner: new LocalRunner(),
    reporter: { report: (e) => events.push(e) },
    env: { PATH: process.env.PATH },
    cancel: (name) => (name === "lint" ? cancel.signal : undefined),
  });
  const failed = (name: string): boolean => events.some((e) => e.type === "task-finished" && e.result.name === name);
  for (let i = 0; i < 6000 && !failed("check"); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  cancel.abort(); // The edit: lint's input changed.
  const outcome = await building;
  expect(outcome.results.map((r) => [r.name, r.status, r.failure?.reason])).toEqual([
    ["deploy", "ran", undefined],
    ["check", "failed", "exit-nonzero"],
    ["lint", "failed", "interrupted"],
  ]);
  expect(outcome.undos.map((u) => [u.task, u.ok])).toEqual([["deploy", true]]);
  expect(readFileSync(join(root, "log"), "utf8")).toBe("deployed\nundone\n");
}, 60_000);

test("24.3/26.4: a task a watch's edit cancels while it waits for its shared pool's lease stops waiting", async () => {
  const staging = pool("staging", { size: 1, shared: true });
  const deploy = task({ name: "deploy", pure: false, pool: staging, run: "echo deployed >> log" });
  const graph = graphOf([deploy], ["deploy"]);
  let asked = 0;
  // Another build holds the pool for as long as the test lasts.
  const leases = leasesWith({
    acquire: async () => {
      asked++;
      return { granted: false, holders: [{ id: "elsewhere/1/deploy", host: "elsewhere", build: "1", task: "deploy", ageMs: 0, expiresInMs: 30_000 }] };
    },
  });
  const cancel = new AbortController();
  const building = execute({
    graph,
    runner: new LocalRunner(),
    reporter: { report: () => {} },
    env: { PATH: process.env.PATH },
    pools: { leases, ttlMs: 1000 },
    cancel: () => cancel.signal,
  });
  while (asked === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  cancel.abort();
  const outcome = await building;
  expect(outcome.results.map((r) => [r.name, r.status, r.failure?.reason])).toEqual([["deploy", "failed", "interrupted"]]);
}, 30_000);

test("26.1: a retried pure task stores the outputs of its last attempt only: what a failed attempt left is cleared", async () => {
  // The first attempt writes out/partial.txt and fails; the second writes out/final.txt and passes.
  const flaky = task({
    name: "flaky",
    inputs: [],
    outputs: ["out/**"],
    retries: 1,
    retryDelay: 0,
    run: "mkdir -p out; if [ -e tried ]; then echo final > out/final.txt; else touch tried; echo partial > out/partial.txt; exit 1; fi",
  });
  const graph = graphOf([flaky], ["flaky"]);
  const store = Store.open({ dir: join(root, ".rbuild") });
  try {
    const options = { graph, runner: new LocalRunner(), reporter: { report: () => {} }, env: { PATH: process.env.PATH }, cache: { store }, random: () => 0.5 };
    const first = await execute(options);
    expect(first.results.map((r) => [r.name, r.status, r.attempts])).toEqual([["flaky", "ran", 2]]);
    expect(readdirSync(join(root, "out"))).toEqual(["final.txt"]);
    // Restored from the cache into an empty tree: the last attempt's outputs, and nothing of the first.
    rmSync(join(root, "out"), { recursive: true });
    const second = await execute(options);
    expect(second.results.map((r) => [r.name, r.status])).toEqual([["flaky", "cached"]]);
    expect(readdirSync(join(root, "out"))).toEqual(["final.txt"]);
  } finally {
    store.close();
  }
}, 60_000);
