/**
 * What the kernel says about a process, from Linux's /proc/<pid>/stat
 * (proc(5)): its state and its start time. Elsewhere, or for a process that
 * is gone, nothing is known (undefined).
 *
 * The start time (field 22, in clock ticks since boot) tells a lock's owner
 * from a later process that was given the same pid: a pid is reused, a
 * (pid, start time) pair is not within one boot, and after a reboot the
 * chance that a live process has both is negligible.
 */
import { readFileSync } from "node:fs";

export interface ProcessStat {
  /** Field 3: "R" running, "S" sleeping, "T" stopped (SIGSTOP), "t" stopped by a tracer, ... */
  readonly state: string;
  /** Field 22, as its decimal digits (it may exceed 2^53 ticks in principle; only equality matters). */
  readonly startTime: string;
}

/** The state and start time of process `pid` ("self" for this one), or undefined if unknown. */
export function processStat(pid: number | "self"): ProcessStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces and ")": the fields follow the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const startTime = fields[19];
  return state !== undefined && state !== "" && startTime !== undefined && /^\d+$/.test(startTime) ? { state, startTime } : undefined;
}

/** Whether a process in `stat` is stopped: by a signal (SIGSTOP, SIGTSTP) or by a tracer. */
export const isStopped = (stat: ProcessStat | undefined): boolean => stat?.state === "T" || stat?.state === "t";
