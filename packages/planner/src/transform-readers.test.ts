import { expect, test } from "vitest";
import { describeFailure, task, type TaskOptions } from "@rbuild/core";
import { defineTasks } from "./define.js";
import { plan } from "./plan.js";

const ROOT = "/work/ws";

/** The planning errors of a build of `targets` over tasks `options`, as the user reads them. */
function planned(targets: string[], ...options: TaskOptions[]): string[] {
  const defs = defineTasks(options.map((o) => task(o)), ROOT);
  if (!defs.ok) throw new Error(defs.error.map((f) => describeFailure(f, { cwd: ROOT })).join("\n"));
  const graph = plan(defs.value, targets);
  return graph.ok ? [] : graph.error.map((f) => describeFailure(f, { cwd: ROOT }).replace(/^.*transform-readers\.test\.ts:\d+:\d+: /, ""));
}

const base: TaskOptions = { name: "base", outputs: ["t/**"], run: "make-tree" };
const edit: TaskOptions = { name: "edit", deps: ["base"], transform: "base", outputs: ["t/**"], run: "edit" };

test("27.3: a task that reads a dep whose transform is in the same build is refused, naming both and what to do", () => {
  const reader: TaskOptions = { name: "reader", deps: ["base"], inputs: [], run: "cat t/a" };
  expect(planned(["reader", "edit"], base, edit, reader)).toEqual([
    'Task "reader": `deps` names "base", whose files its transform "edit" changes in place in this build: "reader" could read either\'s version of them. ' +
      'Depend on "edit" instead (its outputs hold "base"\'s as it leaves them), or build "reader" without "edit"',
  ]);
});

test("27.3: the same task built without the transform, or after it, is planned", () => {
  const reader: TaskOptions = { name: "reader", deps: ["base"], run: "cat t/a" };
  expect(planned(["reader"], base, edit, reader)).toEqual([]);
  expect(planned(["after"], base, edit, { name: "after", deps: ["base", "edit"], run: "cat t/a" })).toEqual([]);
  const second: TaskOptions = { name: "second", deps: ["edit"], transform: "edit", outputs: ["t/**"], run: "edit again" };
  expect(planned(["late"], base, edit, second, { name: "late", deps: ["base", "second"], run: "cat t/a" })).toEqual([]);
  // A chain: a task reading the middle step while the last one changes it is refused too.
  expect(planned(["mid", "second"], base, edit, second, { name: "mid", deps: ["edit"], run: "cat t/a" })).toHaveLength(1);
});
