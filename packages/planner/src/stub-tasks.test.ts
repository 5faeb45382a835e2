import { expect, test } from "vitest";
import { describeFailure, task, type Task } from "@rbuild/core";
import { defineTasks } from "./define.js";
import { plan } from "./plan.js";
import { stubTasks } from "./stub-tasks.js";

const ROOT = "/work/ws";

function planned(tasks: Task[], targets: string[]) {
  const defs = defineTasks(tasks, ROOT);
  if (!defs.ok) throw new Error("bad definitions");
  const graph = plan(defs.value, targets);
  if (!graph.ok) throw new Error("bad plan");
  return { defs: defs.value, graph: graph.value };
}

function pipeline(): Task[] {
  const build = task({ name: "build", outputs: ["dist/**"], run: "make" });
  const deploy = task({ name: "deploy-staging", deps: [build], pure: false, run: "./deploy.sh staging", undo: "./undeploy.sh staging", retries: 2 });
  const smoke = task({ name: "smoke", deps: [deploy], pure: false, run: "./smoke.sh" });
  const all = task({ name: "all", deps: [smoke] });
  const other = task({ name: "deploy-prod", deps: [build], pure: false, run: "./deploy.sh prod" });
  return [build, deploy, smoke, all, other];
}

test("26.7: a stubbed impure task runs its stub, marked stubbed; the rest of the graph is the same objects", () => {
  const { defs, graph } = planned(pipeline(), ["all"]);
  const stubbed = stubTasks(defs, graph, new Map([["deploy-staging", "echo deployed > out.txt"], ["smoke", null]]));
  expect(stubbed.ok).toBe(true);
  if (!stubbed.ok) return;
  expect([...stubbed.value.tasks.keys()]).toEqual([...graph.tasks.keys()]);
  const deploy = stubbed.value.tasks.get("deploy-staging")!;
  expect([deploy.run, deploy.stubbed, deploy.pure, deploy.deps, deploy.dependents]).toEqual(["echo deployed > out.txt", true, false, ["build"], ["smoke"]]);
  // Its undo would compensate for a run that did not happen; its retries stay.
  expect([deploy.undo, deploy.retry?.retries, graph.tasks.get("deploy-staging")!.undo]).toEqual([undefined, 2, "./undeploy.sh staging"]);
  // Without a command: a function that succeeds at once.
  const smoke = stubbed.value.tasks.get("smoke")!;
  expect([typeof smoke.run, smoke.stubbed]).toEqual(["function", true]);
  expect(stubbed.value.tasks.get("build")).toBe(graph.tasks.get("build"));
  expect(graph.tasks.get("deploy-staging")!.run).toBe("./deploy.sh staging");
});

test("26.7: a stub of an unknown task, a pure task, a group or a task outside the build is refused, all at once, with what to do", () => {
  const { defs, graph } = planned(pipeline(), ["all"]);
  const stubbed = stubTasks(defs, graph, new Map([["deploy-stagin", null], ["build", null], ["all", null], ["deploy-prod", null]]));
  expect(stubbed.ok).toBe(false);
  if (stubbed.ok) return;
  expect(stubbed.error.map((failure) => describeFailure(failure, { cwd: ROOT }))).toEqual([
    'Cannot stub "deploy-stagin": no task has that name. Did you mean "deploy-staging"? Run `rbuild list` to see every task.',
    'Cannot stub "build": it is a pure task. A stub stands in for work on the world (deploys, uploads: tasks with `pure: false`); ' +
      "a pure task's result is cached under its key, where a stand-in's would be handed to later builds as the real one. " +
      "Let it run (or come from the cache), or mark it `pure: false` if it does touch the world.",
    'Cannot stub "all": it is a group (a task without `run`); there is nothing to replace. Stub the tasks it groups.',
    'Cannot stub "deploy-prod": it is not part of this build (of all); add it to the targets or drop the stub.',
  ]);
});

test("26.7: no stubs: the graph itself", () => {
  const { defs, graph } = planned(pipeline(), ["all"]);
  const stubbed = stubTasks(defs, graph, new Map());
  expect(stubbed.ok && stubbed.value).toBe(graph);
});
