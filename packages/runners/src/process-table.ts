/**
 * What Linux's /proc says of other processes: their state, parent and group.
 * Where there is no /proc (not Linux) each answer says it cannot tell.
 */
import { readdirSync, readFileSync } from "node:fs";

/** A process as /proc/<pid>/stat describes it: its state letter (R, S, T, Z, ...), parent, group and start time. */
export interface ProcessStat {
  readonly pid: number;
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  /**
   * Field 22, clock ticks after boot, as its digits: a pid is reused, a pid
   * with its start time is not (within a boot). Only equality matters.
   */
  readonly startTime: string;
}

/** What /proc says of `pid`, or undefined when it is gone (or there is no /proc). */
export function statOf(pid: number | string): ProcessStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined; // Gone (or exited while we looked).
  }
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { pid: Number(pid), state: fields[0] ?? "", ppid: Number(fields[1]), pgrp: Number(fields[2]), startTime: fields[19] ?? "" };
}

/** Every process, or undefined without /proc. */
function allProcesses(): ProcessStat[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return undefined;
  }
  const stats: ProcessStat[] = [];
  for (const entry of entries) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    const stat = statOf(entry);
    if (stat !== undefined) stats.push(stat);
  }
  return stats;
}

/** Whether `pid` is stopped (SIGSTOP, or traced). */
export function isStopped(pid: number | undefined): boolean {
  const state = pid === undefined ? undefined : statOf(pid)?.state;
  return state === "T" || state === "t";
}

/** The processes whose parent is `pid` (none known without /proc). */
export function childrenOf(pid: number | undefined): number[] {
  return (allProcesses() ?? []).filter((stat) => stat.ppid === pid).map((stat) => stat.pid);
}

/** Whether group `pgid` has a process that is not a zombie; undefined without /proc. */
export function hasLiveMember(pgid: number): boolean | undefined {
  return allProcesses()?.some((stat) => stat.pgrp === pgid && stat.state !== "Z" && stat.state !== "X");
}

/** The processes of group `pgid` that are not zombies; undefined without /proc. */
export function groupMembers(pgid: number): ProcessStat[] | undefined {
  return allProcesses()?.filter((stat) => stat.pgrp === pgid && stat.state !== "Z" && stat.state !== "X");
}

/** Clock ticks a second in /proc's times (USER_HZ): 100 on every Linux architecture. */
const TICKS_PER_SECOND = 100;

/**
 * When a process with `startTime` (field 22: ticks after boot) started, in ms
 * since the epoch, from the boot time /proc/stat gives (`btime`, whole
 * seconds: so up to a second early). Undefined without /proc.
 */
export function startedAtMs(startTime: string): number | undefined {
  let stat: string;
  try {
    stat = readFileSync("/proc/stat", "latin1");
  } catch {
    return undefined;
  }
  const btime = /^btime (\d+)$/m.exec(stat)?.[1];
  return btime === undefined ? undefined : Number(btime) * 1000 + (Number(startTime) * 1000) / TICKS_PER_SECOND;
}

/** Of the groups `pgids`, those that have a process that is not a zombie (one look at /proc); undefined without /proc. */
export function liveGroups(pgids: ReadonlySet<number>): Set<number> | undefined {
  const processes = allProcesses();
  if (processes === undefined) return undefined;
  const live = new Set<number>();
  for (const stat of processes) if (pgids.has(stat.pgrp) && stat.state !== "Z" && stat.state !== "X") live.add(stat.pgrp);
  return live;
}
