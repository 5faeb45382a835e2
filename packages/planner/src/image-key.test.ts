import { expect, test } from "vitest";
import { decodeRecord, encodeRecord, explainChange, taskKey, type KeyRecord } from "./key.js";

const BASE: KeyRecord = { task: "t", run: "sh:true", cwd: "", env: [], inputs: [], outputs: ["out/**"], deps: [], platform: "linux-x64", keyParts: [] };
const A = "sha256:" + "a".repeat(64);
const B = "sha256:" + "b".repeat(64);

test("27.2: a container task's image digest is a tagged element after keyParts and context, and leaves other keys as they were", () => {
  expect(encodeRecord(BASE)).toBe('["rbuild-key",1,"t","sh:true","",[],[],["out/**"],[],"linux-x64"]');
  expect(encodeRecord({ ...BASE, image: A })).toBe(`["rbuild-key",1,"t","sh:true","",[],[],["out/**"],[],"linux-x64",[],[],["image","${A}"]]`);
  expect(decodeRecord(encodeRecord({ ...BASE, image: A }))).toEqual({ ...BASE, image: A });
  expect(taskKey({ ...BASE, image: A })).not.toBe(taskKey({ ...BASE, image: B }));
  // A transform that is also a container task: both tags, each read back as itself.
  const both = { ...BASE, transform: "base", image: A };
  expect(encodeRecord(both)).toBe(`["rbuild-key",1,"t","sh:true","",[],[],["out/**"],[],"linux-x64",[],[],["transform","base"],["image","${A}"]]`);
  expect(decodeRecord(encodeRecord(both))).toEqual(both);
});

test("27.2: a changed image is explained as image-changed", () => {
  expect(explainChange({ ...BASE, image: A }, { ...BASE, image: B })).toEqual(["image-changed"]);
  expect(explainChange(BASE, { ...BASE, image: B })).toEqual(["image-changed"]);
});
