import { describe, expect, test } from "vitest";
import { collectTasks, describeFailure, pool, task, type TaskOptions } from "@rbuild/core";
import { defineTasks } from "./define.js";
import { plan } from "./plan.js";

const ROOT = "/work/ws";

/** Every failure message of defining these tasks, without the location prefix. */
function problems(...options: TaskOptions[]): string[] {
  const defs = defineTasks(options.map((o) => task(o)), ROOT);
  if (defs.ok) return [];
  return defs.error.map((f) => describeFailure(f, { cwd: ROOT }).replace(/^.*pools\.test\.ts:\d+:\d+: /, ""));
}

describe("pools in the Buildfile", () => {
  test("26.3: a task's pool is planned with its name, size and whether it is shared", () => {
    const staging = pool("staging", { size: 2 });
    const farm = pool("farm", { size: 1, shared: true });
    const defs = defineTasks([task({ name: "a", run: "x", pool: staging }), task({ name: "b", run: "y", pool: staging }), task({ name: "c", run: "z", pool: farm }), task({ name: "d", run: "w" })], ROOT);
    expect(defs.ok).toBe(true);
    if (!defs.ok) return;
    const graph = plan(defs.value, ["a", "b", "c", "d"]);
    if (!graph.ok) throw new Error("plan failed");
    expect([...graph.value.tasks.values()].map((t) => [t.name, t.pool])).toEqual([
      ["a", { name: "staging", size: 2, shared: false }],
      ["b", { name: "staging", size: 2, shared: false }],
      ["c", { name: "farm", size: 1, shared: true }],
      ["d", undefined],
    ]);
  });

  test("26.3: a size that is not a positive whole number or a bad name is a planning error naming the pool; a non-pool one naming the task", () => {
    expect(
      problems(
        { name: "a", pool: pool("p0", { size: 0 }) },
        { name: "b", pool: pool("p1", { size: 1.5 }) },
        { name: "c", pool: pool("p2", { size: "2" as unknown as number }) },
        { name: "d", pool: pool("has space", { size: 1 }) },
        { name: "e", pool: "staging" as never },
        { name: "f", pool: pool("p3", { size: 1, shared: "yes" as unknown as boolean }) },
      ),
    ).toEqual([
      'Task "e": `pool` must be a pool made with pool(name, { size }), got "staging"',
      'Pool "p0": its size must be a positive whole number, got 0',
      'Pool "p1": its size must be a positive whole number, got 1.5',
      'Pool "p2": its size must be a positive whole number, got "2"',
      'Pool "has space": its name must be a non-empty name of at most 200 characters without whitespace or control characters (it is typed in `rbuild pool` commands), got "has space"',
      'Pool "p3": its `shared` must be true or false, got "yes"',
    ]);
  });

  test("26.3: two pools with one name and different sizes are a planning error naming both tasks", () => {
    expect(problems({ name: "a", run: "x", pool: pool("staging", { size: 1 }) }, { name: "b", run: "y", pool: pool("staging", { size: 2 }) }, { name: "c", run: "z", pool: pool("staging", { size: 1 }) })).toEqual([
      'Task "b": `pool` names pool "staging" { size: 2 }, but task "a" names a pool "staging" { size: 1 }: two pools may not share a name. Declare the pool once and use that object in both tasks, or rename one',
    ]);
  });

  test("26.3: a pool object from another evaluation of the Buildfile is a planning error", () => {
    const first = collectTasks();
    const kept = pool("staging", { size: 1 });
    first();
    const second = collectTasks();
    task({ name: "deploy", run: "x", pool: kept });
    task({ name: "fresh", run: "y", pool: pool("other", { size: 1 }) });
    const tasks = second();
    const defs = defineTasks(tasks, ROOT);
    expect(defs.ok ? [] : defs.error.map((f) => describeFailure(f, { cwd: ROOT }).replace(/^.*pools\.test\.ts:\d+:\d+: /, ""))).toEqual([
      'Task "deploy": `pool` names pool "staging", declared in another evaluation of the Buildfile (kept by a module from an earlier load): it would limit nothing this build shares. Call pool() in the Buildfile, or in a function the Buildfile calls, each time it is loaded',
    ]);
  });
});
