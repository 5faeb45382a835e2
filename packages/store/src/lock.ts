/**
 * One build at a time per workspace: two builds writing the same outputs at
 * once would tear them. A second rbuild waits for the first (as Bazel does),
 * then finds its work done and restores it from the cache.
 *
 * The lock is a file holding the owner's pid and, where Linux's /proc tells
 * it, the owner's start time (`<pid> <start time>\n`, see process-stat.ts);
 * it appears whole (see tryCreate). A lock written before the start time was
 * recorded holds the pid alone (`<pid>\n`) and is read as before. A lock
 * whose owner is no longer alive (killed with SIGKILL), whose pid now names
 * another process (one started at another time: the pid was reused, or the
 * machine rebooted), or one that names no owner and is older than
 * LOCK_WRITE_GRACE_MS, is taken over: the waiter that creates `build.lock.takeover` (the same way) removes
 * it if it is still the lock it found stale, so that of several waiters that
 * saw the same stale lock none can remove the lock another has created since.
 * A takeover file older than TAKEOVER_STALE_MS was left by a waiter that died
 * holding it (a window of microseconds) and is removed. A dead owner's pid
 * taken by a new process makes a lock of the old format, or one written
 * where there is no /proc, look held until that process ends. A waiter says who holds the lock, and since when, every few seconds: a
 * holder that is stopped (SIGSTOP) or another user's is never taken over. A lock
 * of the old format naming pid 1 (init, which never builds) is stale.
 *
 * Each taking of the lock counts up a generation (`build.generation`), so
 * what was seen before taking it can be trusted only if no other rbuild held
 * it in between: the generation read then is the one the lock found.
 */
import { closeSync, linkSync, lstatSync, openSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { writeFileAtomically } from "@rbuild/core";
import { isStopped, processStat } from "./process-stat.js";

/** Whether `pid` runs; "other-user" when it does but this user may not signal it. */
function liveness(pid: number): "alive" | "other-user" | "dead" {
  try {
    process.kill(pid, 0);
    return "alive";
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM" ? "other-user" : "dead";
  }
}

/** What this process writes into a lock it takes: its pid, and its start time where it is known. */
function ownLockText(): string {
  const startTime = processStat("self")?.startTime;
  return startTime === undefined ? `${process.pid}\n` : `${process.pid} ${startTime}\n`;
}

/**
 * Creates `path` holding `text` (see ownLockText), unless it exists. The file
 * appears with its content (written beside it, then hard-linked into place),
 * so no crash can leave an empty lock; where the filesystem has no hard
 * links, it is created with O_EXCL and written, and an empty one left by a
 * crash there is stale after LOCK_WRITE_GRACE_MS (see acquireBuildLock).
 */
function tryCreate(path: string, text: string): boolean {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, text);
    linkSync(temp, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw error;
  } finally {
    rmSync(temp, { force: true });
  }
  try {
    const fd = openSync(path, "wx");
    writeSync(fd, text);
    closeSync(fd);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

/**
 * What a lock file says: the pid of its owner, its start time (undefined in
 * a lock of the old format) and when it was taken; or "garbage" (empty or not a pid: its writer died before writing it, or is
 * writing it now); "unknown" when it cannot be read (another user's); or
 * "gone".
 */
type Owner =
  | { readonly kind: "pid"; readonly pid: number; readonly startTime: string | undefined; readonly since: number }
  | { readonly kind: "garbage"; readonly ino: number; readonly since: number }
  | { readonly kind: "unknown"; readonly since: number }
  | { readonly kind: "gone" };

function ownerOf(path: string): Owner {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat === undefined) return { kind: "gone" };
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT" ? { kind: "gone" } : { kind: "unknown", since: stat.mtimeMs };
  }
  const match = /^(\d+)(?: (\d+))?\n?$/.exec(text);
  const pid = match === null ? Number.NaN : Number(match[1]);
  return Number.isSafeInteger(pid) && pid > 0
    ? { kind: "pid", pid, startTime: match?.[2], since: stat.mtimeMs }
    : { kind: "garbage", ino: stat.ino, since: stat.mtimeMs };
}

const sameOwner = (a: Owner, b: Owner): boolean =>
  (a.kind === "pid" && b.kind === "pid" && a.pid === b.pid && a.startTime === b.startTime) || (a.kind === "garbage" && b.kind === "garbage" && a.ino === b.ino && a.since === b.since);

/** How old a takeover file must be to count as left behind by a waiter that died holding it. */
const TAKEOVER_STALE_MS = 10_000;

/**
 * How old a lock that names no owner must be to be stale: younger, it may be
 * one that an rbuild without hard links (see tryCreate) is writing now.
 */
export const LOCK_WRITE_GRACE_MS = 2_000;

/** How often a waiter is told again who holds the lock. */
const WAIT_REPORT_MS = 5_000;

/**
 * Removes the lock at `path` if it is still the stale one `seen`, holding the
 * takeover file meanwhile: nobody else removes the lock then, and its dead
 * owner cannot release it, so a lock that still is `seen` is the stale one.
 * Returns false when another waiter holds the takeover file (it is removing
 * the lock).
 */
function removeStale(path: string, seen: Owner): boolean {
  const takeover = `${path}.takeover`;
  if (!tryCreate(takeover, ownLockText())) {
    const stat = statSync(takeover, { throwIfNoEntry: false });
    if (stat !== undefined && Date.now() - stat.mtimeMs > TAKEOVER_STALE_MS) rmSync(takeover, { force: true });
    return false;
  }
  try {
    if (sameOwner(ownerOf(path), seen)) rmSync(path, { force: true });
  } finally {
    rmSync(takeover, { force: true });
  }
  return true;
}

/** Temp files of this module's (and the generation's) writes, named for their writer's pid. */
const TEMP_FILE = /^build\.(?:lock|lock\.takeover|generation)\.(\d+)\.(?:[0-9a-z]+\.)?tmp$/;

/** Removes the temp files that writers killed mid-write left in `dir`. */
function removeLeftTempFiles(dir: string): void {
  for (const name of readdirSync(dir)) {
    const pid = TEMP_FILE.exec(name)?.[1];
    if (pid !== undefined && Number(pid) !== process.pid && liveness(Number(pid)) === "dead") rmSync(join(dir, name), { force: true });
  }
}

/** Who holds the lock a build is waiting for, told every few seconds while it waits. */
export interface LockWait {
  /** The holder's pid; undefined when its lock cannot be read (another user's). */
  readonly pid: number | undefined;
  /** Whether the holder is a process this user may not signal (another user's). */
  readonly otherUser: boolean;
  /**
   * Whether the holder is stopped (SIGSTOP, or by a tracer): it will not
   * release the lock until resumed. Undefined where it cannot be known (no /proc).
   */
  readonly stopped: boolean | undefined;
  /** When the holder took the lock (its file's mtime, ms since the epoch). */
  readonly since: number;
  /** How long this process has waited, in ms (0 when the wait starts). */
  readonly waitedMs: number;
}

export interface BuildLock {
  /** The generation before this taking of the lock (see lockGeneration). */
  readonly previousGeneration: number | undefined;
  release(): void;
}

/**
 * Why the build lock of `dir` cannot be taken whatever the wait, if so: its
 * path, or that of its takeover file, holds something other than a regular
 * file (a directory, a socket, a link), which no rbuild made and none will
 * remove. Checked before a command takes the lock, so that it is an error
 * naming the path rather than a wait for a holder that does not exist (or,
 * for the takeover file, a crash once a stale lock is to be taken over).
 */
export function lockPathProblem(dir: string): { readonly path: string; readonly kind: "directory" | "symlink" | "other" } | undefined {
  for (const path of [join(dir, "build.lock"), join(dir, "build.lock.takeover")]) {
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (stat === undefined || stat.isFile()) continue;
    return { path, kind: stat.isDirectory() ? "directory" : stat.isSymbolicLink() ? "symlink" : "other" };
  }
  return undefined;
}

/** How many times the build lock of `dir` has been taken; undefined if unknown (never, or unreadable). */
export function lockGeneration(dir: string): number | undefined {
  try {
    const generation = Number(readFileSync(join(dir, "build.generation"), "utf8"));
    return Number.isSafeInteger(generation) && generation >= 0 ? generation : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the workspace's build lock in `dir`, waiting while another live
 * rbuild holds it. `onWait` is told who holds it when the wait starts, and
 * again every WAIT_REPORT_MS; an abort of `signal` ends the wait (undefined).
 */
export async function acquireBuildLock(dir: string, onWait: (wait: LockWait) => void, signal?: AbortSignal): Promise<BuildLock | undefined> {
  const path = join(dir, "build.lock");
  const text = ownLockText();
  let started: number | undefined;
  let nextReport = 0;
  while (!tryCreate(path, text)) {
    if (signal?.aborted === true) return undefined;
    const owner = ownerOf(path);
    if (owner.kind === "gone") continue;
    const now = Date.now();
    const state = owner.kind === "pid" ? liveness(owner.pid) : undefined;
    // Read after liveness: a process that has the pid now, if its start time is not the owner's, is not the owner.
    const stat = owner.kind === "pid" && state !== "dead" ? processStat(owner.pid) : undefined;
    const reused = owner.kind === "pid" && owner.startTime !== undefined && stat !== undefined && stat.startTime !== owner.startTime;
    // Pid 1 is init, never a build that wrote a lock of the old format (an rbuild that is a
    // container's pid 1 writes its start time, which then matches).
    const init = owner.kind === "pid" && owner.pid === 1 && owner.startTime === undefined && process.pid !== 1;
    const stale = state === "dead" || reused || init || (owner.kind === "garbage" && now - owner.since > LOCK_WRITE_GRACE_MS);
    if (stale) {
      // Another waiter is removing it: look again shortly.
      if (!removeStale(path, owner)) await sleep(5);
      continue;
    }
    if (owner.kind !== "garbage" && now >= nextReport) {
      started ??= now;
      onWait({
        pid: owner.kind === "pid" ? owner.pid : undefined,
        otherUser: state === "other-user" || owner.kind === "unknown",
        stopped: stat === undefined ? undefined : isStopped(stat),
        since: owner.since,
        waitedMs: now - started,
      });
      nextReport = now + WAIT_REPORT_MS;
    }
    await sleep(50);
  }
  removeLeftTempFiles(dir);
  const previousGeneration = lockGeneration(dir);
  writeFileAtomically(join(dir, "build.generation"), `${(previousGeneration ?? 0) + 1}\n`);
  return {
    previousGeneration,
    release() {
      const owner = ownerOf(path);
      if (owner.kind === "pid" && owner.pid === process.pid) unlinkSync(path);
    },
  };
}
