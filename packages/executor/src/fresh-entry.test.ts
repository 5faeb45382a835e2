import { mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import type { Digest } from "@rbuild/hash";
import { entryStat, fileStat, trustedEntry, type Succeeded } from "./fresh-entry.js";

let root: string;
beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-entry-")));
  writeFileSync(join(root, "in.txt"), "in\n");
  writeFileSync(join(root, "out.txt"), "out\n");
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const d = (c: string) => c.repeat(64) as Digest;

function succeeded(): Succeeded {
  return {
    entry: {
      def: "definition",
      deps: [],
      key: d("b"),
      outputsDigest: d("c"),
      layer: null,
      exitCode: 0,
      log: [],
      logBlob: null,
      files: [fileStat("in.txt", statSync(join(root, "in.txt")))],
      dirs: [entryStat("", statSync(root))],
    },
    outputs: [entryStat("out.txt", statSync(join(root, "out.txt")))],
  };
}

test("21.2: the racily-clean rule: an entry only from inputs older than the build's start and outputs older than its end, as stored", () => {
  const done = succeeded();
  const inputTime = done.entry.files[0]![2];
  const outputTime = done.outputs[0]![3];
  const later = Math.max(inputTime, outputTime, done.entry.dirs[0]![3], done.entry.dirs[0]![4]) + 1000;
  expect(trustedEntry(root, done, later, later)).toEqual({ ...done.entry, outputs: done.outputs, covered: null });
  // An input changed in the tick the build started (or after): no entry.
  expect(trustedEntry(root, done, inputTime, later)).toBeUndefined();
  // An output written in the tick the build ends: no entry.
  expect(trustedEntry(root, done, later, outputTime)).toBeUndefined();
  // An output changed since it was stored: no entry.
  writeFileSync(join(root, "out.txt"), "changed\n");
  expect(trustedEntry(root, done, later, later + 5000)).toBeUndefined();
});
