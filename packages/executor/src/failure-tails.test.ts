import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { describeFailure, task, type Task } from "@rbuild/core";
import { defineTasks, plan } from "@rbuild/planner";
import { LocalRunner } from "@rbuild/runners";
import { Store } from "@rbuild/store";
import { execute } from "./executor.js";
import { REPORT_TAIL_LINES } from "./output-tail.js";

let root: string;
beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-tails-")));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

async function build(tasks: Task[], targets: string[], store?: Store) {
  const defs = defineTasks(tasks, root);
  if (!defs.ok) throw new Error(defs.error.map((f) => describeFailure(f, { cwd: root })).join("\n"));
  const graph = plan(defs.value, targets);
  if (!graph.ok) throw new Error(graph.error.map((f) => describeFailure(f, { cwd: root })).join("\n"));
  return execute({ graph: graph.value, jobs: 2, keepGoing: true, runner: new LocalRunner(), reporter: { report() {} }, env: { PATH: process.env.PATH }, ...(store === undefined ? {} : { cache: { store } }) });
}

const lines150 = `i=1; while [ $i -le 150 ]; do echo "line $i"; i=$((i+1)); done`;
// 150 lines on stderr, then exit 1; and a task that says as much on stdout and succeeds.
const noisy = (name: string, extra: Partial<Parameters<typeof task>[0]> = {}) => task({ name, run: `{ ${lines150}; } >&2; exit 1`, ...extra });
const fine = task({ name: "fine", run: `i=1; while [ $i -le 150 ]; do echo "ok $i"; i=$((i+1)); done` });
const last100 = Array.from({ length: 100 }, (_, i) => `line ${i + 51}`);

test("24.2: a failed task's last 100 lines are on the build's outcome; a task that passed has none", async () => {
  expect(REPORT_TAIL_LINES).toBe(100);
  const outcome = await build([noisy("noisy"), fine], ["noisy", "fine"]);
  expect(outcome.results.map((r) => [r.name, r.status])).toEqual([["noisy", "failed"], ["fine", "ran"]]);
  expect([...outcome.failureTails]).toEqual([["noisy", last100]]);
});

test("24.2: with a cache, a failed task's tail is on the outcome too, and so is that of a task whose outputs were refused", async () => {
  const store = Store.open({ dir: join(root, ".rbuild") });
  try {
    // Writes its outputs through a link to a directory: refused after it ran, with its output.
    const refused = task({ name: "refused", inputs: [], outputs: ["out/**"], run: `mkdir -p real && ln -sfn real out && echo x > real/a.txt && ${lines150}` });
    const outcome = await build([noisy("noisy", { inputs: [], outputs: ["noisy-out/**"] }), fine, refused], ["noisy", "fine", "refused"], store);
    expect(outcome.results.map((r) => [r.name, r.status, r.failure?.reason])).toEqual([["noisy", "failed", "exit-nonzero"], ["fine", "ran", undefined], ["refused", "failed", "through-symlink"]]);
    expect(Object.fromEntries(outcome.failureTails)).toEqual({ noisy: last100, refused: last100 });
  } finally {
    store.close();
  }
});
