import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
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

/** The pid of a process that has ended. */
function deadPid(): number {
  const child = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
  return Number(child.stdout.trim());
}

test("a lock whose owner died is taken over", async () => {
  writeFileSync(join(dir, "build.lock"), `${deadPid()}\n`);
  const lock = await acquireBuildLock(dir, () => {});
  expect(readFileSync(join(dir, "build.lock"), "utf8")).toBe(`${process.pid}\n`);
  expect(existsSync(join(dir, "build.lock.takeover"))).toBe(false);
  lock!.release();
  expect(existsSync(join(dir, "build.lock"))).toBe(false);
});

test("a dead owner's lock is left to the waiter taking it over; a takeover left by a dead waiter is broken", async () => {
  const dead = deadPid();
  writeFileSync(join(dir, "build.lock"), `${dead}\n`);
  writeFileSync(join(dir, "build.lock.takeover"), `${dead}\n`);
  // Another waiter is taking over: this one must not remove the lock meanwhile (it might be that waiter's new one).
  const waiting = acquireBuildLock(dir, () => {}, AbortSignal.timeout(300));
  expect(await waiting).toBeUndefined();
  expect(readFileSync(join(dir, "build.lock"), "utf8")).toBe(`${dead}\n`);
  // That waiter died holding the takeover file long ago: it is removed, and the lock taken over.
  const long = new Date(Date.now() - 60_000);
  utimesSync(join(dir, "build.lock.takeover"), long, long);
  const lock = await acquireBuildLock(dir, () => {}, AbortSignal.timeout(5_000));
  expect(readFileSync(join(dir, "build.lock"), "utf8")).toBe(`${process.pid}\n`);
  lock!.release();
});
