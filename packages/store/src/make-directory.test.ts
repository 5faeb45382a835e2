import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { makeDirectory } from "./extract-layer.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "rbuild-mkdir-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test("20.9: a restore's directory made meanwhile by a task running beside it is used, not an internal error (EEXIST)", () => {
  expect(makeDirectory(join(dir, "out"))).toBe("made");
  expect(statSync(join(dir, "out")).isDirectory()).toBe(true);
  mkdirSync(join(dir, "other"));
  expect(makeDirectory(join(dir, "other"))).toBe("existing");
  writeFileSync(join(dir, "file"), "");
  expect(makeDirectory(join(dir, "file"))).toBe("not-a-directory");
  expect(() => makeDirectory(join(dir, "missing", "deeper"))).toThrow(/ENOENT/);
});
