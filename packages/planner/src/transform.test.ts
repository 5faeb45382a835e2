import { describe, expect, test } from "vitest";
import { describeFailure, task, type TaskOptions } from "@rbuild/core";
import { digestBytes } from "@rbuild/hash";
import { defineTasks } from "./define.js";
import { decodeRecord, encodeRecord, taskKey, type KeyRecord } from "./key.js";
import { plan } from "./plan.js";
import { sandboxed } from "./sandboxed.js";

const ROOT = "/work/ws";

function problems(...options: unknown[]): string[] {
  const defs = defineTasks(options.map((o) => task(o as TaskOptions)), ROOT);
  if (defs.ok) return [];
  return defs.error.map((f) => describeFailure(f, { cwd: ROOT }).replace(/^.*transform\.test\.ts:\d+:\d+: /, ""));
}

const base = { name: "base", outputs: ["t/**"], run: "make-tree" };

describe("transform at planning", () => {
  test("27.3: a chain of transforms may share its outputs; a transform may run in the sandbox; one that is incremental is refused", () => {
    expect(problems(base, { name: "s1", deps: ["base"], transform: "base", outputs: ["t/**"], run: "edit" }, { name: "s2", deps: ["s1"], transform: "s1", outputs: ["t/**"], run: "edit" })).toEqual([]);
    expect(problems(base, { name: "boxed", deps: ["base"], transform: "base", runner: "sandbox", outputs: ["t/**"], run: "edit" })).toEqual([]);
    expect(problems(base, { name: "warm", deps: ["base"], transform: "base", incremental: true, outputs: ["t/**"], run: "edit" })).toEqual([
      "Task \"warm\": `transform` cannot be combined with `incremental`: a transform starts from its dep's outputs, an incremental task from its own last ones. Leave out one of them",
    ]);
    expect(problems(base, { name: "bare", deps: ["base"], transform: "base", run: "edit" })).toEqual([
      'Task "bare": `transform` needs `outputs`: they must match every output of the task it transforms',
    ]);
  });

  test("27.3: --sandbox puts a transform in the sandbox too", () => {
    const defs = defineTasks([task(base), task({ name: "s1", deps: ["base"], transform: "base", outputs: ["t/**"], run: "edit" })], ROOT);
    if (!defs.ok) throw new Error("expected a valid definition");
    const graph = plan(defs.value, ["s1"]);
    if (!graph.ok) throw new Error("expected a plan");
    const boxed = sandboxed(graph.value);
    expect([boxed.tasks.get("base")!.runner, boxed.tasks.get("s1")!.runner, boxed.tasks.get("s1")!.transform]).toEqual(["sandbox", "sandbox", "base"]);
  });

  test("27.3: a transform's dep is part of its key, and its record reads back", () => {
    const record: KeyRecord = { task: "s1", run: "sh:edit", cwd: "", env: [], inputs: [], outputs: ["t/**"], deps: [["base", digestBytes("outputs")]], platform: "linux-x64", keyParts: [] };
    const transformed = { ...record, transform: "base" };
    expect(taskKey(transformed)).not.toBe(taskKey(record));
    expect(JSON.parse(encodeRecord(transformed)).slice(10)).toEqual([[], [], ["transform", "base"]]);
    expect(decodeRecord(encodeRecord(transformed))).toEqual(transformed);
    expect(decodeRecord(encodeRecord(record))).toEqual(record);
    const withContext = { ...transformed, context: [["V", "base", "1"]] as const };
    expect(decodeRecord(encodeRecord(withContext))).toEqual(withContext);
  });
});
