import { describe, expect, test } from "vitest";
import type { Digest } from "@rbuild/hash";
import { describeFailure, task, type TaskOptions } from "@rbuild/core";
import { defineTasks } from "./define.js";
import { decodeRecord, encodeRecord, explainChange, taskKey, type KeyRecord } from "./key.js";
import { plan } from "./plan.js";

const d = (c: string): Digest => c.repeat(64) as Digest;

const RECORD: KeyRecord = {
  task: "a#build",
  run: "sh:npm run build",
  cwd: "packages/a",
  env: [],
  inputs: [["packages/a/package.json", d("a")]],
  outputs: [],
  deps: [],
  platform: "linux-x64",
  keyParts: [],
};

describe("key parts", () => {
  test("22.2: a task without key parts keeps the key it had before they existed; with them, the record has one more field", () => {
    expect(encodeRecord(RECORD)).toBe(`["rbuild-key",1,"a#build","sh:npm run build","packages/a",[],[["packages/a/package.json","${d("a")}"]],[],[],"linux-x64"]`);
    const parted: KeyRecord = { ...RECORD, keyParts: [["z", "2"], ["package-lock.json entries of packages/a", "1"]] };
    expect(encodeRecord(parted)).toBe(
      `["rbuild-key",1,"a#build","sh:npm run build","packages/a",[],[["packages/a/package.json","${d("a")}"]],[],[],"linux-x64",[["package-lock.json entries of packages/a","1"],["z","2"]]]`,
    );
    expect(taskKey(parted)).toBe(taskKey({ ...parted, keyParts: [...parted.keyParts].reverse() }));
    expect(new Set([taskKey(RECORD), taskKey(parted), taskKey({ ...parted, keyParts: [["z", "3"], ["package-lock.json entries of packages/a", "1"]] })]).size).toBe(3);
    expect(decodeRecord(encodeRecord(parted))).toEqual({ ...parted, keyParts: [["package-lock.json entries of packages/a", "1"], ["z", "2"]] });
    expect(decodeRecord(encodeRecord(RECORD))).toEqual(RECORD);
  });

  test("22.2: a changed, added or removed key part is explained by its name", () => {
    const before: KeyRecord = { ...RECORD, keyParts: [["package-lock.json entries of packages/a", "1"], ["gone", "x"]] };
    const after: KeyRecord = { ...RECORD, keyParts: [["package-lock.json entries of packages/a", "2"], ["new", "y"]] };
    expect(explainChange(before, after)).toEqual(["key-part-changed: gone", "key-part-changed: new", "key-part-changed: package-lock.json entries of packages/a"]);
    expect(explainChange(before, before)).toEqual([]);
  });

  test("22.2: keyParts are checked, sorted by name and carried into the graph", () => {
    const defs = defineTasks([task({ name: "a", run: "x", keyParts: { z: "2", m: "1" } }), task({ name: "b", run: "x" })], "/ws");
    expect(defs.ok).toBe(true);
    if (!defs.ok) return;
    const graph = plan(defs.value, ["a", "b"]);
    expect(graph.ok && [graph.value.tasks.get("a")!.keyParts, graph.value.tasks.get("b")!.keyParts]).toEqual([
      [
        ["m", "1"],
        ["z", "2"],
      ],
      [],
    ]);
    const problems = (keyParts: unknown): string[] => {
      const bad = defineTasks([task({ name: "a", run: "x", keyParts } as unknown as TaskOptions)], "/ws");
      return bad.ok ? [] : bad.error.map((f) => describeFailure(f, { cwd: "/ws" }).replace(/^.*key-parts\.test\.ts:\d+:\d+: /, ""));
    };
    expect([...problems(["x"]), ...problems({ a: 1 })]).toEqual([
      'Task "a": `keyParts` must be an object of named string values, got an array',
      'Task "a": `keyParts` must hold only strings, got 1 for "a"',
    ]);
  });
});
