import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, expect, test } from "vitest";
import { acquireBuildLock, LOCK_WRITE_GRACE_MS, lockGeneration, type LockWait } from "./lock.js";
import { isStopped, processStat } from "./process-stat.js";

/** What a lock this process takes holds: its pid and start time. */
const OWN = `${process.pid} ${processStat("self")!.startTime}\n`;

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
  expect(readFileSync(join(dir, "build.lock"), "utf8")).toBe(OWN);
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
  expect(readFileSync(join(dir, "build.lock"), "utf8")).toBe(OWN);
  lock!.release();
});

test.each([
  ["empty", ""],
  ["garbage", "not a pid\n"],
])("20.6: a lock that names no owner (%s) is taken over once older than the grace period, not before", async (_kind, text) => {
  writeFileSync(join(dir, "build.lock"), text);
  // Young: it may be one being written right now.
  expect(await acquireBuildLock(dir, () => {}, AbortSignal.timeout(LOCK_WRITE_GRACE_MS / 4))).toBeUndefined();
  expect(readFileSync(join(dir, "build.lock"), "utf8")).toBe(text);
  const old = new Date(Date.now() - LOCK_WRITE_GRACE_MS - 1000);
  utimesSync(join(dir, "build.lock"), old, old);
  const lock = await acquireBuildLock(dir, () => {}, AbortSignal.timeout(5_000));
  expect(readFileSync(join(dir, "build.lock"), "utf8")).toBe(OWN);
  lock!.release();
});

test("20.6: the lock appears with its owner's pid; temp files of writers killed mid-write are removed", async () => {
  const dead = deadPid();
  const left = [`build.lock.${dead}.tmp`, `build.lock.takeover.${dead}.tmp`, `build.generation.${dead}.k3j2.tmp`];
  for (const name of left) writeFileSync(join(dir, name), "");
  writeFileSync(join(dir, `build.lock.${process.pid + 1}.x`), "not ours\n");
  const lock = await acquireBuildLock(dir, () => {});
  expect(readdirSync(dir).sort()).toEqual(["build.generation", "build.lock", `build.lock.${process.pid + 1}.x`]);
  expect(readFileSync(join(dir, "build.lock"), "utf8")).toBe(OWN);
  lock!.release();
});

test("20.7: a waiter is told who holds the lock and since when, again while it waits, and an abort ends the wait", async () => {
  // A live holder that does not move: a stopped process.
  const holder = await unrelated();
  try {
    holder.kill("SIGSTOP");
    // A signal is delivered as the process next runs: wait until the kernel shows it stopped.
    while (!isStopped(processStat(holder.pid!))) await sleep(10);
    writeFileSync(join(dir, "build.lock"), `${holder.pid}\n`);
    const taken = new Date(Date.now() - 30_000);
    utimesSync(join(dir, "build.lock"), taken, taken);
    const waits: LockWait[] = [];
    const stop = new AbortController();
    const waiting = acquireBuildLock(dir, (wait) => {
      waits.push(wait);
      if (waits.length === 2) stop.abort();
    }, stop.signal);
    expect(await waiting).toBeUndefined();
    expect(waits.map((wait) => [wait.pid, wait.otherUser, wait.stopped, Math.round(wait.since / 1000)])).toEqual([
      [holder.pid, false, true, Math.round(taken.getTime() / 1000)],
      [holder.pid, false, true, Math.round(taken.getTime() / 1000)],
    ]);
    expect(waits[0]!.waitedMs).toBe(0);
    expect(waits[1]!.waitedMs).toBeGreaterThan(0);
    expect(readFileSync(join(dir, "build.lock"), "utf8")).toBe(`${holder.pid}\n`);
  } finally {
    holder.kill("SIGKILL");
  }
});

/** A live process that is no rbuild, and the wait until the kernel shows it (its start time is known then). */
async function unrelated(): Promise<ChildProcess> {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  await new Promise((resolve) => child.once("spawn", resolve));
  return child;
}

test("20.6: a lock whose live pid has another start time (reused, or after a reboot) is taken over", async () => {
  const other = await unrelated();
  try {
    const start = processStat(other.pid!)!.startTime;
    writeFileSync(join(dir, "build.lock"), `${other.pid} ${BigInt(start) + 1n}\n`);
    const lock = await acquireBuildLock(dir, () => {}, AbortSignal.timeout(5_000));
    expect(lock).toBeDefined();
    expect(readFileSync(join(dir, "build.lock"), "utf8")).toBe(OWN);
    lock!.release();
  } finally {
    other.kill("SIGKILL");
  }
});

test.each([
  ["its start time", (pid: number) => `${pid} ${processStat(pid)!.startTime}\n`],
  ["no start time (the old format)", (pid: number) => `${pid}\n`],
])("20.6: a lock naming a live process with %s is waited on", async (_kind, text) => {
  const other = await unrelated();
  try {
    writeFileSync(join(dir, "build.lock"), text(other.pid!));
    const waits: LockWait[] = [];
    const stop = new AbortController();
    const lock = await acquireBuildLock(dir, (wait) => {
      waits.push(wait);
      stop.abort();
    }, stop.signal);
    expect(lock).toBeUndefined();
    expect(waits.map((wait) => [wait.pid, wait.stopped])).toEqual([[other.pid, false]]);
    expect(readFileSync(join(dir, "build.lock"), "utf8")).toBe(text(other.pid!));
  } finally {
    other.kill("SIGKILL");
  }
});
