import { describe, expect, test } from "vitest";
import type { Digest } from "@rbuild/hash";
import { decodeRecord, encodeRecord, explainChange, taskKey, type KeyRecord } from "./key.js";

const d = (c: string): Digest => c.repeat(64) as Digest;

const RECORD: KeyRecord = {
  task: "build",
  run: "sh:tsc -p .",
  cwd: "",
  env: [["NODE_ENV", "production"]],
  inputs: [
    ["src/a.ts", d("a")],
    ["src/b.ts", d("b")],
  ],
  outputs: ["dist/**"],
  deps: [["gen", d("c")]],
  platform: "linux-x64",
  keyParts: [],
};

describe("task keys", () => {
  test("golden: the key of a fixed record never changes without a KEY_FORMAT bump", () => {
    expect(encodeRecord(RECORD)).toBe(
      '["rbuild-key",1,"build","sh:tsc -p .","",[["NODE_ENV","production"]],[["src/a.ts","aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"],["src/b.ts","bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"]],["dist/**"],[["gen","cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"]],"linux-x64"]',
    );
    expect(taskKey(RECORD)).toBe("327dbffc085925a77591cdc0c691b5f1289651813c77be587b909f9391c23d37");
  });

  test("the order of inputs, env and deps does not change the key", () => {
    const shuffled: KeyRecord = {
      ...RECORD,
      inputs: [...RECORD.inputs].reverse(),
      env: [["ZED", null], ["NODE_ENV", "production"]],
      deps: [["zz", d("e")], ["gen", d("c")]],
    };
    const sorted: KeyRecord = { ...RECORD, env: [["NODE_ENV", "production"], ["ZED", null]], deps: [["gen", d("c")], ["zz", d("e")]] };
    expect(taskKey(shuffled)).toBe(taskKey(sorted));
  });

  test("every field changes the key", () => {
    const variants: KeyRecord[] = [
      { ...RECORD, task: "build2" },
      { ...RECORD, run: "sh:tsc -b" },
      { ...RECORD, cwd: "pkg" },
      { ...RECORD, env: [["NODE_ENV", "development"]] },
      { ...RECORD, env: [["NODE_ENV", null]] },
      { ...RECORD, inputs: [["src/a.ts", d("f")], ["src/b.ts", d("b")]] },
      { ...RECORD, inputs: [["src/a.ts", d("a")]] },
      { ...RECORD, outputs: ["out/**"] },
      { ...RECORD, deps: [["gen", d("9")]] },
      { ...RECORD, platform: "darwin-arm64" },
    ];
    const keys = new Set([taskKey(RECORD), ...variants.map(taskKey)]);
    expect(keys.size).toBe(variants.length + 1);
  });

  test("a record survives encoding, and the change between two records is explained", () => {
    const next: KeyRecord = {
      ...RECORD,
      run: "sh:tsc -b",
      env: [["NODE_ENV", "development"]],
      inputs: [["src/a.ts", d("f")], ["src/c.ts", d("c")]],
      deps: [["gen", d("9")]],
    };
    expect(decodeRecord(encodeRecord(RECORD))).toEqual(RECORD);
    expect(explainChange(RECORD, next)).toEqual([
      "command-changed",
      "env-changed: NODE_ENV",
      "input-changed: src/a.ts",
      "input-changed: src/b.ts",
      "input-changed: src/c.ts",
      "dep-output-changed: gen",
    ]);
    expect(explainChange(RECORD, RECORD)).toEqual([]);
  });

  test("a record from another key format is not decoded", () => {
    expect(decodeRecord(encodeRecord(RECORD).replace('"rbuild-key",1', '"rbuild-key",0'))).toBeUndefined();
    expect(decodeRecord("not json")).toBeUndefined();
  });
});
