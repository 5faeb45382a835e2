import { describe, expect, test } from "vitest";
import { describeFailure, task, type Failure, type Task } from "@rbuild/core";
import { defineTasks } from "./define.js";
import { plan } from "./plan.js";

const ROOT = "/work/ws";

function definitions(tasks: Task[]) {
  const defs = defineTasks(tasks, ROOT);
  if (!defs.ok) throw new Error(defs.error.map((f) => describeFailure(f, { cwd: ROOT })).join("\n"));
  return defs.value;
}

function messages(failures: readonly Failure[]): string[] {
  // Locations point into this test file; keep only the message after them.
  return failures.map((f) => describeFailure(f, { cwd: ROOT }).replace(/^.*plan\.test\.ts:\d+:\d+: /, ""));
}

describe("plan", () => {
  test("a diamond plans each task once, deps before dependents, with critical-path priorities", () => {
    const a = task({ name: "a", run: "true" });
    const b = task({ name: "b", deps: [a], run: "true" });
    const c = task({ name: "c", deps: ["a"], run: "true" });
    const d = task({ name: "d", deps: [b, c], run: "true" });
    const unrelated = task({ name: "unrelated", run: "true" });
    const graph = plan(definitions([a, b, c, d, unrelated]), ["d"]);
    expect(graph.ok).toBe(true);
    if (!graph.ok) return;
    expect([...graph.value.tasks.keys()]).toEqual(["a", "b", "c", "d"]);
    expect([...graph.value.tasks.values()].map((t) => [t.name, t.priority, t.dependents])).toEqual([
      ["a", 3, ["b", "c"]],
      ["b", 2, ["d"]],
      ["c", 2, ["d"]],
      ["d", 1, []],
    ]);
  });

  test("repeated targets are planned once", () => {
    const a = task({ name: "a", run: "true" });
    const graph = plan(definitions([a]), ["a", "a"]);
    expect(graph.ok && graph.value.targets).toEqual(["a"]);
  });

  test("an unknown target suggests the nearest names", () => {
    const graph = plan(definitions([task({ name: "test", run: "true" }), task({ name: "build", run: "true" })]), ["tset"]);
    expect(graph.ok).toBe(false);
    if (graph.ok) return;
    expect(messages(graph.error)).toEqual(['Unknown task "tset". Did you mean "test"? Run `rbuild list` to see every task.']);
  });

  test("an unknown target with nothing close says so without a suggestion", () => {
    const graph = plan(definitions([task({ name: "build", run: "true" })]), ["zzzzzzzz"]);
    expect(!graph.ok && messages(graph.error)).toEqual(['Unknown task "zzzzzzzz". Run `rbuild list` to see every task.']);
  });

  test("a cycle is reported with its whole path", () => {
    const a = task({ name: "a", deps: ["c"], run: "true" });
    const b = task({ name: "b", deps: [a], run: "true" });
    const c = task({ name: "c", deps: [b], run: "true" });
    const top = task({ name: "top", deps: [c], run: "true" });
    const graph = plan(definitions([a, b, c, top]), ["top"]);
    expect(!graph.ok && messages(graph.error)).toEqual([
      "Dependency cycle: c -> b -> a -> c. A task cannot depend on itself, directly or through other tasks; remove one of these deps.",
    ]);
  });

  test("a task that depends on itself is a cycle", () => {
    const graph = plan(definitions([task({ name: "self", deps: ["self"], run: "true" })]), ["self"]);
    expect(!graph.ok && messages(graph.error)[0]).toMatch(/^Dependency cycle: self -> self\./);
  });

  test("a cycle outside the requested targets does not stop the build", () => {
    const x = task({ name: "x", deps: ["y"] });
    const y = task({ name: "y", deps: [x] });
    const ok = task({ name: "ok", run: "true" });
    expect(plan(definitions([x, y, ok]), ["ok"]).ok).toBe(true);
  });

  test("a long chain plans without overflowing the stack", () => {
    const tasks: Task[] = [task({ name: "t0", run: "true" })];
    for (let i = 1; i < 20_000; i++) tasks.push(task({ name: `t${i}`, deps: [`t${i - 1}`], run: "true" }));
    const graph = plan(definitions(tasks), ["t19999"]);
    expect(graph.ok && graph.value.tasks.get("t0")?.priority).toBe(20_000);
  });
});
