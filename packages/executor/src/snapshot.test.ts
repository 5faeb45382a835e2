import { expect, test } from "vitest";
import { parseSnapshot } from "./snapshot.js";

const d = (c: string) => c.repeat(64);
const valid = {
  v: 1,
  def: "definition",
  deps: [["build", d("a")]],
  key: d("b"),
  outputsDigest: d("c"),
  layer: null,
  exitCode: 0,
  files: [["src/a.ts", 10, 1.5, 2.5, 42]],
  dirs: [["src", 16877, 4096, 1.5, 2.5, 41]],
  outputs: [["out/a.js", 33188, 12, 1.5, 2.5, 43]],
  log: [["o", "built"]],
  logBlob: null,
};

test("20.9: a snapshot damaged into valid JSON of the wrong shape is no snapshot, not a crash later", () => {
  expect(parseSnapshot(JSON.stringify(valid))).toEqual(valid);
  const text = JSON.stringify(valid);
  // One flipped bit in a field's name, in a digest, in a stat row: each is read as no snapshot.
  for (const damaged of [text.replace('"outputs"', '"Outputs"'), text.replace(d("b"), `${d("b").slice(1)}B`), text.replace('"src/a.ts",10', '"src/a.ts","10"')]) {
    expect(parseSnapshot(damaged)).toBeUndefined();
  }
  expect([parseSnapshot("null"), parseSnapshot("[]"), parseSnapshot("{")]).toEqual([undefined, undefined, undefined]);
});
