/**
 * Regression tests for defects found reviewing the day's merged work (review3):
 * each test is named after the issue item whose code it covers.
 */
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { describeFailure, task, type BuildEvent, type Task } from "@rbuild/core";
import { defineTasks, plan } from "@rbuild/planner";
import { LocalRunner, type Runner } from "@rbuild/runners";
import { Store } from "@rbuild/store";
import { execute, type ExecuteOptions } from "./executor.js";

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

test("24.3: a task made stale while it ran, told only once its command had ended, is not stored as a hit", async () => {
  // The key is of in.txt as "one"; an edit makes it "two" while the command runs, and the watcher's report of
  // it (the task's cancel) comes a moment after the command has ended, before its outputs are stored.
  writeFileSync(join(root, "in.txt"), "one\n");
  const build = task({ name: "build", inputs: ["in.txt"], outputs: ["out.txt"], run: "cat in.txt > out.txt" });
  const graph = graphOf([build], ["build"]);
  const store = Store.open({ dir: join(root, ".rbuild") });
  try {
    const cancel = new AbortController();
    const local = new LocalRunner();
    const editWhileRunning: Runner = {
      run: async (request) => {
        writeFileSync(join(root, "in.txt"), "two\n");
        const outcome = await local.run(request);
        cancel.abort();
        return outcome;
      },
    };
    const events: BuildEvent[] = [];
    const first = await execute({ graph, runner: editWhileRunning, reporter: { report: (e) => events.push(e) }, env: { PATH: process.env.PATH }, cache: { store }, cancel: () => cancel.signal });
    expect(first.results.map((r) => [r.name, r.status, r.failure?.reason])).toEqual([["build", "failed", "interrupted"]]);

    // The edit undone: the key is the first build's again, and must not restore "two".
    writeFileSync(join(root, "in.txt"), "one\n");
    const second = await execute({ graph, runner: local, reporter: { report: () => {} }, env: { PATH: process.env.PATH }, cache: { store } });
    expect({ results: second.results.map((r) => [r.name, r.status]), out: readFileSync(join(root, "out.txt"), "utf8") }).toEqual({ results: [["build", "ran"]], out: "one\n" });
  } finally {
    store.close();
  }
}, 60_000);
