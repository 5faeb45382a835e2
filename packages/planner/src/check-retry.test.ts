import { describe, expect, test } from "vitest";
import { describeFailure, task, type TaskOptions } from "@rbuild/core";
import { DEFAULT_RETRY_DELAY_MS } from "./check-retry.js";
import { defineTasks, TASK_FIELDS } from "./define.js";
import { plan } from "./plan.js";

const KNOWN_FIELDS = TASK_FIELDS.join(", ");

const ROOT = "/work/ws";

function problems(...options: unknown[]): string[] {
  const defs = defineTasks(options.map((o) => task(o as TaskOptions)), ROOT);
  if (defs.ok) return [];
  return defs.error.map((f) => describeFailure(f, { cwd: ROOT }).replace(/^.*check-retry\.test\.ts:\d+:\d+: /, ""));
}

describe("retries and undo at planning", () => {
  test("26.1: a retry policy reaches the graph, with the default delay and retryOn sorted; retries: 0 is none", () => {
    const undo = async (): Promise<void> => {};
    const defs = defineTasks(
      [
        task({ name: "a", pure: false, retries: 2, run: "x" }),
        task({ name: "b", retries: 1, retryDelay: 5, retryOn: [75, 1, 75], run: "x" }),
        task({ name: "c", pure: false, retries: 0, run: "x", undo }),
      ],
      ROOT,
    );
    if (!defs.ok) throw new Error(JSON.stringify(defs.error));
    const graph = plan(defs.value, ["a", "b", "c"]);
    if (!graph.ok) throw new Error("no plan");
    const [a, b, c] = ["a", "b", "c"].map((name) => graph.value.tasks.get(name)!);
    expect([a!.retry, b!.retry, c!.retry, c!.undo, a!.undo]).toEqual([{ retries: 2, delayMs: DEFAULT_RETRY_DELAY_MS }, { retries: 1, delayMs: 5, on: [1, 75] }, undefined, undo, undefined]);
  });

  test("26.2: undo must be a command or a function, on an impure task that runs something", () => {
    expect(
      problems(
        { name: "pure", run: "x", undo: "y" },
        { name: "group", pure: false, undo: "y" },
        { name: "number", pure: false, run: "x", undo: 3 },
        { name: "blank", pure: false, run: "x", undo: "  " },
      ),
    ).toEqual([
      'Task "pure": `undo` is for impure tasks only: a pure task changes nothing outside its outputs, so there is nothing to undo. Add `pure: false` if the task touches the world',
      'Task "group": `undo` needs a `run`: a group does nothing to undo',
      'Task "number": `undo` must be a shell command string or an async function, got 3',
      'Task "blank": `undo` must be a shell command string or an async function, got "  "',
    ]);
  });

  test("26.1: retryOn without retries, and exit codes out of range, are errors; `retry` is taken for `retries`", () => {
    expect(problems({ name: "a", retryOn: [1], run: "x" }, { name: "b", retries: 1, retryOn: [0, 256], run: "x" }, { name: "c", retry: 2, run: "x" })).toEqual([
      'Task "a": `retryOn` has no effect without `retries`: add e.g. `retries: 2`',
      'Task "b": `retryOn` must hold only exit codes (whole numbers from 1 to 255), got 0',
      'Task "c": `retry` is not a task field. Did you mean `retries`? Known fields: ' + KNOWN_FIELDS + '.',
    ]);
  });
});
