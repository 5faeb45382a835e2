/**
 * The task processes a build runs that nothing would stop if this rbuild
 * died (SIGKILL, the OOM killer), kept in `build.running` beside the build
 * lock, so that the next build stops them before it runs anything. Left
 * running, such a task writes into the next build's outputs, and a task that
 * depends on them stores what it read under the wrong key: a wrong hit that stays.
 *
 * Each task's group is written here as it starts, and again when its leader
 * ended. Those forked from Node (no helper, or after it was lost) have no
 * other guardian. Those the process helper started are its own to stop too:
 * it stops them when it reads end of input, that is when rbuild is gone
 * (helper/process_helper.py); they are written for the case it died with
 * rbuild (a CI job that kills both: its tasks, reparented to init, would run
 * on). The helper is written too, for the case it cannot stop them: stopped
 * (SIGSTOP), or still giving them their grace period when the next build
 * starts, and for tasks it started that it had not said so of yet.
 *
 * Format: text, one line per change, each appended with one write (a kill
 * cannot tear a line); a line of another kind, or torn, is skipped:
 *   g <pgid> <start time>\n   a task's process group started: its leader's pid and start time
 *   e <pgid>\n                that group's leader ended (and its output is read to the end)
 *   h <pid> <start time>\n    a process helper: its children that lead a group of their own are tasks
 * The start time, field 22 of /proc/<pid>/stat, tells a recorded process from
 * a later one given the same pid: a group is stopped only if its leader still
 * has that start time, or its leader is gone and every live member of the
 * group started between the leader's recorded start and the record's last
 * write (its mtime, with WRITTEN_SLACK_MS). Linux reuses no pid while a group
 * of that id has members, but once the recorded group is gone its pid may go
 * to a process that leads a group of its own and exits: its members started
 * after the record was last written (when the build that wrote it was gone),
 * and are left alone. Without /proc (not Linux) a start time is not known
 * and nothing is written.
 *
 * The file is made anew when a build has taken the lock (after the groups it
 * names are stopped) and removed when the build is over: one that is there
 * when the lock is taken was left by a build that died.
 */
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { childrenOf, groupMembers, liveGroups, startedAtMs, statOf } from "./process-table.js";
import { KILL_GRACE_MS } from "./spawn-group.js";

/** The record's name in the store directory (`.rbuild`), beside `build.lock`. */
export const RUNNING_FILE = "build.running";

/** How long groups may take to go after SIGKILL before the build goes on (a process in uninterruptible sleep). */
const KILLED_WAIT_MS = 5000;

/**
 * How much later than the record's last write a member of a recorded group
 * may seem to have started: a start time is known to the tick, the boot time
 * it counts from only to the second, and a member forked just after the last
 * write is still the build's.
 */
const WRITTEN_SLACK_MS = 2000;

/** What a record names: task groups still running, by pgid, and helpers, by pid; each with its start time. */
interface Recorded {
  readonly groups: Map<number, string>;
  readonly helpers: Map<number, string>;
}

function parse(text: string): Recorded {
  const recorded: Recorded = { groups: new Map(), helpers: new Map() };
  for (const line of text.split("\n")) {
    const match = /^([ghe]) ([1-9]\d*)(?: (\d+))?$/.exec(line);
    if (match === null) continue;
    const [, kind, id, startTime] = match;
    const pid = Number(id);
    if (kind === "e") recorded.groups.delete(pid);
    else if (startTime !== undefined) (kind === "g" ? recorded.groups : recorded.helpers).set(pid, startTime);
  }
  return recorded;
}

function signal(target: number, name: NodeJS.Signals): void {
  try {
    process.kill(target, name);
  } catch {
    // Gone already.
  }
}

/**
 * Whether group `pgid`, whose recorded leader (started at `leaderStart`) is
 * gone, is still the recorded one: it has live members, and each started at
 * or after its leader and before the record was last written, at `writtenMs`.
 */
function stillTheGroup(pgid: number, leaderStart: string, writtenMs: number): boolean {
  const members = groupMembers(pgid) ?? [];
  return (
    members.length > 0 &&
    members.every((member) => {
      if (Number(member.startTime) < Number(leaderStart)) return false;
      const startedAt = startedAtMs(member.startTime);
      return startedAt !== undefined && startedAt <= writtenMs + WRITTEN_SLACK_MS;
    })
  );
}

/**
 * The groups of `recorded`, last written at `writtenMs`, that are still the ones it named. A recorded
 * helper still alive (its rbuild is gone) is killed, and its task children
 * are counted in: they would outlive it.
 */
function stillRecorded(recorded: Recorded, writtenMs: number): Set<number> {
  const groups = new Set<number>();
  for (const [pid, startTime] of recorded.helpers) {
    if (statOf(pid)?.startTime !== startTime) continue;
    for (const child of childrenOf(pid)) if (statOf(child)?.pgrp === child) groups.add(child);
    signal(pid, "SIGKILL");
  }
  for (const [pgid, startTime] of recorded.groups) {
    const leader = statOf(pgid);
    if (leader === undefined ? stillTheGroup(pgid, startTime, writtenMs) : leader.startTime === startTime) groups.add(pgid);
  }
  return liveGroups(groups) ?? new Set();
}

/** Waits until none of `groups` has a live member, or `ms` have passed; returns those that still have. */
async function waitGone(groups: Set<number>, ms: number): Promise<Set<number>> {
  const deadline = Date.now() + ms;
  let live = groups;
  while (live.size > 0 && Date.now() < deadline) {
    await sleep(20);
    live = liveGroups(live) ?? new Set();
  }
  return live;
}

/** Stops the groups a record in `dir` names that still run: SIGTERM, SIGKILL after the grace period. Returns their ids. */
async function stopRecorded(dir: string): Promise<number[]> {
  let text: string;
  let writtenMs: number;
  try {
    text = readFileSync(join(dir, RUNNING_FILE), "latin1");
    writtenMs = statSync(join(dir, RUNNING_FILE)).mtimeMs;
  } catch {
    return []; // None: the last build ended as it should.
  }
  const groups = stillRecorded(parse(text), writtenMs);
  for (const pgid of groups) signal(-pgid, "SIGTERM");
  const left = await waitGone(groups, KILL_GRACE_MS);
  for (const pgid of left) signal(-pgid, "SIGKILL");
  await waitGone(left, KILLED_WAIT_MS);
  return [...groups].sort((a, b) => a - b);
}

/**
 * For a command that takes the build lock of `dir` and runs no task (`rbuild
 * clean`, which may remove the record with the cache): stops what a build
 * that died there left running, and removes its record. Returns the ids of
 * the process groups it stopped.
 */
export async function stopLeftRunning(dir: string): Promise<number[]> {
  const stopped = await stopRecorded(dir);
  rmSync(join(dir, RUNNING_FILE), { force: true });
  return stopped;
}

/**
 * Whether a build that died in `dir` may have left processes running: a
 * build that takes the lock there stops them (`RunningGroups.takeOver`). One
 * existsSync, for the no-op path, which takes no lock: it must not answer
 * while they go on writing into task outputs. (True too while a live build
 * holds the lock: waiting for it is then right.)
 */
export function mayHaveLeftRunning(dir: string): boolean {
  return existsSync(join(dir, RUNNING_FILE));
}

/** The warning that what an earlier build left running, process groups `pgids`, was stopped. */
export function leftRunningMessage(pgids: readonly number[]): string {
  const groups = pgids.length === 1 ? `process group ${pgids[0]}` : `${pgids.length} process groups (${pgids.join(", ")})`;
  return `an earlier rbuild was killed while tasks ran: stopped the ${groups} that it left running (it would go on writing into task outputs)`;
}

/** The record of the build that holds the build lock of a store directory. */
export class RunningGroups {
  readonly #path: string;
  #fd: number | undefined;

  private constructor(path: string) {
    this.#path = path;
    this.#fd = openSync(path, "w");
  }

  /**
   * For a build that has just taken the build lock of `dir`: stops what a
   * build that died there left running, and starts a new record. `stopped`
   * are the ids of the process groups it stopped.
   */
  static async takeOver(dir: string): Promise<{ readonly groups: RunningGroups; readonly stopped: readonly number[] }> {
    const stopped = await stopRecorded(dir);
    return { groups: new RunningGroups(join(dir, RUNNING_FILE)), stopped };
  }

  /**
   * A task's process group started (`pgid` is its leader's pid), with its
   * leader's start time if the caller has it (the helper reads it: no read of
   * /proc here, ~35 µs of the main thread a task), else read now. False when
   * nothing was written: no start time (no /proc).
   */
  started(pgid: number, startTime?: string): boolean {
    return this.#add("g", pgid, startTime);
  }

  /** That group's leader ended. */
  ended(pgid: number): void {
    this.#write(`e ${pgid}\n`);
  }

  /** A process helper runs this build's tasks (its children). */
  helper(pid: number): void {
    this.#add("h", pid);
  }

  /** The build is over: nothing of it runs any more. Removes the record; later calls do nothing. */
  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
    rmSync(this.#path, { force: true });
  }

  #add(kind: "g" | "h", pid: number, known?: string): boolean {
    const startTime = known ?? statOf(pid)?.startTime;
    if (startTime === undefined || startTime === "") return false;
    this.#write(`${kind} ${pid} ${startTime}\n`);
    return true;
  }

  #write(line: string): void {
    if (this.#fd === undefined) return;
    try {
      writeSync(this.#fd, line);
    } catch {
      // Best effort (a full disk): without the line, a task is only as it was before there was a record.
    }
  }
}
