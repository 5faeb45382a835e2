/**
 * One build at a time per workspace: two builds writing the same outputs at
 * once would tear them. A second rbuild waits for the first (as Bazel does),
 * then finds its work done and restores it from the cache.
 *
 * The lock is a file holding the owner's pid, created with O_EXCL. A lock
 * whose owner is no longer alive (killed with SIGKILL) is taken over: the
 * waiter that creates `build.lock.takeover` (O_EXCL too) removes it if it
 * still names the dead owner, so that of several waiters that saw the same
 * dead owner none can remove the lock another has created since. A takeover
 * file older than TAKEOVER_STALE_MS was left by a waiter that died holding it
 * (a window of microseconds) and is removed. A dead owner's pid taken by a new
 * process makes the lock look held until that process ends.
 *
 * Each taking of the lock counts up a generation (`build.generation`), so
 * what was seen before taking it can be trusted only if no other rbuild held
 * it in between: the generation read then is the one the lock found.
 */
import { openSync, closeSync, readFileSync, rmSync, statSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { writeFileAtomically } from "@rbuild/core";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function tryCreate(path: string): boolean {
  try {
    const fd = openSync(path, "wx");
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

function ownerOf(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, "utf8"), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** How old a takeover file must be to count as left behind by a waiter that died holding it. */
const TAKEOVER_STALE_MS = 10_000;

/**
 * Removes the lock at `path` if it still names `dead`, holding the takeover
 * file meanwhile: nobody else removes the lock then, and its dead owner cannot
 * release it, so a lock that still names `dead` is the stale one. Returns
 * false when another waiter holds the takeover file (it is removing the lock).
 */
function removeStale(path: string, dead: number): boolean {
  const takeover = `${path}.takeover`;
  if (!tryCreate(takeover)) {
    const stat = statSync(takeover, { throwIfNoEntry: false });
    if (stat !== undefined && Date.now() - stat.mtimeMs > TAKEOVER_STALE_MS) rmSync(takeover, { force: true });
    return false;
  }
  try {
    if (ownerOf(path) === dead) rmSync(path, { force: true });
  } finally {
    rmSync(takeover, { force: true });
  }
  return true;
}

export interface BuildLock {
  /** The generation before this taking of the lock (see lockGeneration). */
  readonly previousGeneration: number | undefined;
  release(): void;
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
 * rbuild holds it. `onWait` is called once with the holder's pid.
 */
export async function acquireBuildLock(dir: string, onWait: (pid: number) => void, signal?: AbortSignal): Promise<BuildLock | undefined> {
  const path = join(dir, "build.lock");
  let told = false;
  while (!tryCreate(path)) {
    if (signal?.aborted === true) return undefined;
    const owner = ownerOf(path);
    if (owner !== undefined && !alive(owner)) {
      // Another waiter is removing it: look again shortly.
      if (!removeStale(path, owner)) await sleep(5);
      continue;
    }
    if (!told && owner !== undefined) {
      onWait(owner);
      told = true;
    }
    await sleep(50);
  }
  const previousGeneration = lockGeneration(dir);
  writeFileAtomically(join(dir, "build.generation"), `${(previousGeneration ?? 0) + 1}\n`);
  return {
    previousGeneration,
    release() {
      if (ownerOf(path) === process.pid) unlinkSync(path);
    },
  };
}
