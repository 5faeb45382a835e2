import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { freshRecordFileId, freshRecordFiles, parseFreshRecord, readFreshRecord, writeFreshRecord, type FreshRecord } from "./fresh-record.js";

const d = (c: string) => c.repeat(64);
const root = "/work/space";
const valid: FreshRecord = {
  v: 2,
  root,
  builds: [['["all"]', 7, d("e")]],
  tasks: [
    ["build", "definition", ["gen", d("a")], d("b"), d("c"), null, 0, [["o", "built"]], null, [0], [0], [0], 7, null],
    ["base", "definition", [], d("b"), d("c"), null, 0, null, null, [], [], [], 7, ["step", ["out/a.js", "out/b.js"]]],
  ],
  files: ["src/a.ts", 10, 1.5, 2.5, 42],
  dirs: ["src", 16877, 4096, 1.5, 2.5, 41],
  outputs: ["out/a.js", 33188, 12, 1.5, 2.5, 43],
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "rbuild-fresh-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test("a record written is read back whole, one file per workspace root, replaced by a new file on each write", () => {
  expect([readFreshRecord(dir, root), freshRecordFileId(dir, root)]).toEqual([undefined, "none"]);
  const text = writeFreshRecord(dir, valid);
  const first = freshRecordFileId(dir, root);
  expect(parseFreshRecord(readFreshRecord(dir, root)!, root)).toEqual(valid);
  expect(readFreshRecord(dir, "/other/root")).toBeUndefined();
  writeFreshRecord(dir, { ...valid, builds: [] });
  expect(freshRecordFileId(dir, root)).not.toBe(first);
  expect(freshRecordFiles(dir)).toHaveLength(1);
  expect(text).toBe(JSON.stringify(valid));
});

test("21.2: a torn, foreign or old record is no record, never a crash", () => {
  const text = JSON.stringify(valid);
  expect(parseFreshRecord(text, root)).toEqual(valid);
  const bad = [
    text.slice(0, text.length / 2), // torn
    "",
    JSON.stringify({ ...valid, v: 3 }), // another version
    JSON.stringify({ ...valid, v: 1, tasks: valid.tasks.map((task) => task.slice(0, 13)) }), // 27.3: before entries had `covered`
    JSON.stringify({ ...valid, root: "/elsewhere" }), // another workspace's
    '{"v":3,"root":"/work/space","build":1,"definitions":"x","tasks":[],"unvouched":[],"files":[],"dirs":[],"outputs":[]}', // an old build stamp
  ];
  expect(bad.map((b) => parseFreshRecord(b, root))).toEqual(bad.map(() => undefined));
});

test("20.9: a record damaged into valid JSON of the wrong shape is no record, not a crash later", () => {
  const text = JSON.stringify(valid);
  // One flipped bit in a field's name, in a digest, a stat row cut short, an entry number out of range, a field missing.
  const damaged = [
    "null",
    "[]",
    text.replace('"outputs"', '"Outputs"'),
    text.replace(d("b"), `${d("b").slice(1)}`),
    text.replace('"src/a.ts",10,', '"src/a.ts",'),
    text.replace("[0],[0],[0],7", "[0],[1],[0],7"),
    text.replace("[0],[0],[0],7", "[0],[0],[0]"),
    text.replace('["step",["out/a.js","out/b.js"]]', '["step","out/a.js"]'),
    text.replace('["step",["out/a.js","out/b.js"]]', '["step",["out/a.js",3]]'),
    text.replace("[0],[0],[0],7,null", "[0],[0],[0],7"),
    text.replace('[["o","built"]]', '["o","built"]'),
  ];
  expect(damaged.map((b) => parseFreshRecord(b, root))).toEqual(damaged.map(() => undefined));
});
