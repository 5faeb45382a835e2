import { describe, expect, test } from "vitest";
import type { Digest } from "@rbuild/hash";
import { describeFailure, stage, task, type Stage, type Task } from "@rbuild/core";
import { defineTasks } from "./define.js";
import { decodeRecord, encodeRecord, explainChange, taskKey, type KeyRecord } from "./key.js";
import { plan } from "./plan.js";

const d = (c: string): Digest => c.repeat(64) as Digest;

const RECORD: KeyRecord = {
  task: "leaf",
  run: "sh:make",
  cwd: "",
  env: [],
  inputs: [],
  outputs: [],
  deps: [["mid", d("a")]],
  platform: "linux-x64",
  keyParts: [],
};

function planned(tasks: Task[], targets: string[], stages: Stage[] = []) {
  const defs = defineTasks(tasks, "/ws", "", [], stages);
  if (!defs.ok) return { errors: defs.error.map((f) => describeFailure(f, { cwd: "/ws" }).replace(/^.*?: (?=Task|Stage)/, "")) };
  const graph = plan(defs.value, targets);
  if (!graph.ok) return { errors: graph.error.map((f) => describeFailure(f, { cwd: "/ws" }).replace(/^.*?: (?=Task|Stage)/, "")) };
  return { graph: graph.value };
}

describe("context in keys", () => {
  test("26.6: a record without context keeps its encoding; with it, [name, from, value] by name is the last element, after keyParts", () => {
    expect(encodeRecord(RECORD)).toBe(`["rbuild-key",1,"leaf","sh:make","",[],[],[],[["mid","${d("a")}"]],"linux-x64"]`);
    const received: KeyRecord = { ...RECORD, context: [["VERSION", "version", "1.1"], ["MODE", "base", "release"]] };
    expect(encodeRecord(received)).toBe(
      `["rbuild-key",1,"leaf","sh:make","",[],[],[],[["mid","${d("a")}"]],"linux-x64",[],[["MODE","base","release"],["VERSION","version","1.1"]]]`,
    );
    expect(taskKey(received)).toBe(taskKey({ ...received, context: [...received.context!].reverse() }));
    expect(taskKey({ ...RECORD, context: [] })).toBe(taskKey(RECORD));
    expect(decodeRecord(encodeRecord(received))).toEqual({ ...received, context: [["MODE", "base", "release"], ["VERSION", "version", "1.1"]] });
    expect(decodeRecord(encodeRecord(RECORD))).toEqual(RECORD);
  });

  test("26.6: a changed, added or removed context value is explained with the task it comes from", () => {
    const before: KeyRecord = { ...RECORD, context: [["MODE", "base", "debug"], ["GONE", "base", "x"]] };
    const after: KeyRecord = { ...RECORD, context: [["MODE", "base", "release"], ["NEW", "other", "y"]] };
    expect(explainChange(before, after)).toEqual(["context-changed: GONE from base", "context-changed: MODE from base", "context-changed: NEW from other"]);
    expect(explainChange(RECORD, { ...RECORD, context: [["MODE", "base", "debug"]] })).toEqual(["context-changed: MODE from base"]);
    expect(explainChange(before, before)).toEqual([]);
  });
});

describe("context in planning", () => {
  test("26.6: every descendant receives a task's context, the nearer ancestor winning; the task itself and others do not", () => {
    const version = (out: { read(path: string): string }): string => out.read("v.txt");
    const top = task({ name: "top", run: "x", outputs: ["v.txt"], context: { MODE: "top", VERSION: version } });
    const mid = task({ name: "mid", deps: [top], run: "x", context: { MODE: "mid" } });
    const leaf = task({ name: "leaf", deps: [mid, top], run: "x" });
    const other = task({ name: "other", run: "x" });
    const { graph } = planned([top, mid, leaf, other], ["leaf", "other"]);
    expect([...graph!.tasks.values()].map((t) => [t.name, t.inherited])).toEqual([
      ["top", []],
      ["mid", [{ name: "MODE", from: "top", value: "top" }, { name: "VERSION", from: "top", value: undefined }]],
      ["leaf", [{ name: "MODE", from: "mid", value: "mid" }, { name: "VERSION", from: "top", value: undefined }]],
      ["other", []],
    ]);
  });

  test("26.6: one name from two unrelated ancestors is an error, once, at the first task that meets both", () => {
    const left = task({ name: "left", run: "x", context: { TARGET: "l" } });
    const right = task({ name: "right", run: "x", context: { TARGET: "r" } });
    const join = task({ name: "join", deps: [left, right], run: "x" });
    const below = task({ name: "below", deps: [join, left], run: "x" });
    expect(planned([left, right, join, below], ["below"]).errors).toEqual([
      'Task "join": `context` would receive TARGET from both "left" and "right", and neither depends on the other, so neither is nearer. Set TARGET in one of them only, or give them different names.',
    ]);
  });

  test("26.6: context names and values are checked", () => {
    const bad = task({ name: "bad", run: "x", context: { "NOT OK": "1", N: 3 as unknown as string } });
    const list = task({ name: "list", run: "x", context: ["A"] as unknown as Record<string, string> });
    expect(planned([bad, list], ["bad"]).errors).toEqual([
      'Task "bad": `context` contains "NOT OK", which is not a valid environment variable name',
      'Task "bad": `context` must hold strings or functions of the task\'s outputs, got 3 for "N"',
      "Task \"list\": `context` must be an object of environment values (strings, or functions of the task's outputs), got an array",
    ]);
  });
});

describe("stages in planning", () => {
  test("26.6: a stage target stands for its tasks, pulls in the stages it follows, and the order puts them first", () => {
    const compile = task({ name: "compile", run: "x" });
    const unit = task({ name: "unit", run: "x" });
    const deploy = task({ name: "deploy", run: "x", pure: false });
    const built = stage("build", { tasks: [compile] });
    const tested = stage("test", { tasks: [unit], after: [built] });
    const ship = stage("ship", { tasks: [deploy], after: [tested] });
    const { graph } = planned([compile, unit, deploy], ["ship"], [built, tested, ship]);
    expect([...graph!.tasks.values()].map((t) => [t.name, t.stage])).toEqual([
      ["compile", "build"],
      ["unit", "test"],
      ["deploy", "ship"],
    ]);
    expect(graph!.stages).toEqual([
      { name: "build", tasks: ["compile"], after: [] },
      { name: "test", tasks: ["unit"], after: ["build"] },
      { name: "ship", tasks: ["deploy"], after: ["test"] },
    ]);
    expect(graph!.targets).toEqual(["ship"]);
    // A stage with no tasks between two others passes the order on.
    const empty = stage("gap", { tasks: [], after: [built] });
    const late = stage("late", { tasks: [unit], after: [empty] });
    const through = planned([compile, unit], ["late"], [built, empty, late]);
    expect(through.graph!.stages).toEqual([
      { name: "build", tasks: ["compile"], after: [] },
      { name: "late", tasks: ["unit"], after: ["build"] },
    ]);
    // A build without stages has none, and the closure's order.
    const plain = planned([compile, unit], ["unit", "compile"]);
    expect([plain.graph!.stages, [...plain.graph!.tasks.keys()]]).toEqual([[], ["unit", "compile"]]);
  });
});
