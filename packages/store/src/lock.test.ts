import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { acquireBuildLock, lockGeneration } from "./lock.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "rbuild-lock-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test("each taking of the lock counts a generation, and tells the one it found", async () => {
  expect(lockGeneration(dir)).toBeUndefined();
  const first = await acquireBuildLock(dir, () => {});
  expect(first?.previousGeneration).toBeUndefined();
  expect(lockGeneration(dir)).toBe(1);
  first!.release();
  const seen = lockGeneration(dir);
  // Another rbuild takes and releases the lock: what was seen before it is no longer what the lock finds.
  (await acquireBuildLock(dir, () => {}))!.release();
  const later = await acquireBuildLock(dir, () => {});
  expect([seen, later?.previousGeneration, lockGeneration(dir)]).toEqual([1, 2, 3]);
  later!.release();
});

test("an unreadable generation is unknown, never a match", async () => {
  writeFileSync(join(dir, "build.generation"), "garbage\n");
  expect(lockGeneration(dir)).toBeUndefined();
  const lock = await acquireBuildLock(dir, () => {});
  expect(lock?.previousGeneration).toBeUndefined();
  expect(lockGeneration(dir)).toBe(1);
  lock!.release();
});
