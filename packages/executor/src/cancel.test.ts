import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, expect, test } from "vitest";
import { describeFailure, task, type BuildEvent } from "@rbuild/core";
import { defineTasks, plan } from "@rbuild/planner";
import { LocalRunner } from "@rbuild/runners";
import { execute } from "./executor.js";

let root: string;
beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-cancel-")));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

test("24.3: a task's own cancel signal stops that task only: it fails as interrupted, its dependents are skipped, the task beside it finishes", async () => {
  const long = task({ name: "long", run: "touch long.started; sleep 300" });
  const beside = task({ name: "beside", run: `touch beside.started; while [ ! -e release ]; do sleep 0.02; done` });
  const after = task({ name: "after", deps: [long], run: "echo never" });
  const defs = defineTasks([long, beside, after], root);
  if (!defs.ok) throw new Error(defs.error.map((f) => describeFailure(f, { cwd: root })).join("\n"));
  const graph = plan(defs.value, ["after", "beside"]);
  if (!graph.ok) throw new Error("plan failed");
  const cancel = new AbortController();
  const asked: string[] = [];
  const events: BuildEvent[] = [];
  const building = execute({
    graph: graph.value,
    jobs: 2,
    runner: new LocalRunner(),
    reporter: { report: (e) => events.push(e) },
    env: { PATH: process.env.PATH },
    cancel: (name) => {
      asked.push(name);
      return name === "long" ? cancel.signal : undefined;
    },
  });
  for (let i = 0; i < 4500 && !(existsSync(join(root, "long.started")) && existsSync(join(root, "beside.started"))); i++) await sleep(10);
  cancel.abort();
  for (let i = 0; i < 4500 && !events.some((e) => e.type === "task-finished" && e.result.name === "long"); i++) await sleep(10);
  writeFileSync(join(root, "release"), "");
  const outcome = await building;
  expect(asked.sort()).toEqual(["beside", "long"]);
  expect(outcome.interrupted).toBe(false);
  expect(outcome.results.map((r) => [r.name, r.status, r.failure?.reason ?? r.reasons.join(",")])).toEqual([
    ["long", "failed", "interrupted"],
    ["after", "skipped", "interrupted"],
    ["beside", "ran", "no-record"],
  ]);
}, 60_000);
