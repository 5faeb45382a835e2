import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, expect, test } from "vitest";
import { describeFailure, task } from "@rbuild/core";
import { defineTasks, plan } from "@rbuild/planner";
import { LocalRunner } from "@rbuild/runners";
import { execute } from "./executor.js";

let root: string;
beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-cancel-undo-")));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

test("24.3/26.2: a task stopped by its own cancel signal (a watch's edit) is an interrupt, not a failure: no undo runs", async () => {
  const deploy = task({ name: "deploy", pure: false, run: "echo deployed >> log", undo: "echo undone >> log" });
  const long = task({ name: "long", deps: [deploy], run: "touch long.started; sleep 300" });
  const defs = defineTasks([deploy, long], root);
  if (!defs.ok) throw new Error(defs.error.map((f) => describeFailure(f, { cwd: root })).join("\n"));
  const graph = plan(defs.value, ["long"]);
  if (!graph.ok) throw new Error("plan failed");
  const cancel = new AbortController();
  const building = execute({
    graph: graph.value,
    jobs: 2,
    runner: new LocalRunner(),
    reporter: { report: () => {} },
    env: { PATH: process.env.PATH },
    cancel: (name) => (name === "long" ? cancel.signal : undefined),
  });
  for (let i = 0; i < 4500 && !existsSync(join(root, "long.started")); i++) await sleep(10);
  cancel.abort();
  const outcome = await building;
  expect(outcome.results.map((r) => [r.name, r.status])).toEqual([
    ["deploy", "ran"],
    ["long", "failed"],
  ]);
  expect(outcome.undos).toEqual([]);
  expect(readFileSync(join(root, "log"), "utf8")).toBe("deployed\n");
}, 60_000);
