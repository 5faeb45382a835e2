import { mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { STAT_FIELDS, startStatHelper, statHelperRunning, statInHelper } from "./stat-helper.js";

let root: string;
beforeAll(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-stat-helper-")));
  mkdirSync(join(root, "src"));
  for (let i = 0; i < 50; i++) writeFileSync(join(root, `src/${i}.txt`), "x".repeat(i));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

test("without a helper thread nothing is handed over; with one, its stats are those of statSync", () => {
  const paths = [...Array.from({ length: 50 }, (_, i) => `src/${i}.txt`), "src/missing.txt", "src"];
  expect([statHelperRunning(), statInHelper(`${root}/`, paths)]).toEqual([false, undefined]);
  startStatHelper();
  expect(statHelperRunning()).toBe(true);
  const taken = statInHelper(`${root}/`, paths)!.collect()!;
  paths.forEach((path, i) => {
    const at = i * STAT_FIELDS;
    const stat = statSync(join(root, path), { throwIfNoEntry: false });
    const expected = stat === undefined ? -1 : [stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino];
    expect([path, stat === undefined ? taken[at] : [...taken.subarray(at, at + STAT_FIELDS)]]).toEqual([path, expected]);
  });
  // A second pass after an edit sees the edit.
  writeFileSync(join(root, "src/3.txt"), "edited, longer than before");
  const again = statInHelper(`${root}/`, ["src/3.txt"])!.collect()!;
  expect(again[0]).toBe(statSync(join(root, "src/3.txt")).size);
});
