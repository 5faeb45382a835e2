import { expect, test } from "vitest";
import { task, type TaskResult } from "@rbuild/core";
import { defineTasks, plan, type GraphTask } from "@rbuild/planner";
import { failedAttemptRow } from "./attempt-rows.js";

const ROOT = "/w";

function deploy(): GraphTask {
  const defs = defineTasks([task({ name: "deploy", pure: false, retries: 3, run: "sh deploy.sh" })], ROOT);
  if (!defs.ok) throw new Error("the task is valid");
  const graph = plan(defs.value, ["deploy"]);
  if (!graph.ok) throw new Error("the plan is valid");
  return graph.value.tasks.get("deploy")!;
}

const ended = (failure: TaskResult["failure"], exitCode: number | null): TaskResult => ({ name: "deploy", status: "failed", cache: null, key: null, durationMs: 30, exitCode, reasons: ["impure"], failure });
const attempt = { n: 1, durationMs: 30, key: null, lines: [["o", "deploying"]] as const, log: null };

test("24.8: an attempt that failed is stored as failed, with its tail for rbuild errors", () => {
  expect(failedAttemptRow(deploy(), ended({ reason: "exit-nonzero", task: "deploy", exitCode: 1 }, 1), attempt, ROOT)).toEqual({
    task: "deploy",
    key: null,
    status: "failed",
    cache: null,
    pure: false,
    durationMs: 30,
    exitCode: 1,
    reasons: ["impure"],
    error: 'Task "deploy" failed: its command exited with code 1.',
    outputsDigest: null,
    layer: null,
    log: null,
    tail: ["deploying"],
    attempt: 1,
  });
});

test("24.8: an attempt ended by an interrupt is stored as interrupted, with no tail: rbuild errors does not count it", () => {
  expect(failedAttemptRow(deploy(), ended({ reason: "interrupted", task: "deploy" }, null), attempt, ROOT)).toEqual({
    task: "deploy",
    key: null,
    status: "interrupted",
    cache: null,
    pure: false,
    durationMs: 30,
    exitCode: null,
    reasons: ["impure"],
    error: 'Task "deploy" was interrupted.',
    outputsDigest: null,
    layer: null,
    log: null,
    attempt: 1,
  });
});
