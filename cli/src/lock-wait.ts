/** What a build (or `rbuild clean`) waiting for the workspace's build lock says about who holds it. */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { LockWait } from "@rbuild/store";

const clock = (ms: number): string => new Date(ms).toTimeString().slice(0, 8);

/** Whether process `pid` is an rbuild daemon (bin/rbuild-daemon.js), as far as Linux's /proc tells. */
function isDaemon(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").some((arg) => basename(arg) === "rbuild-daemon.js");
  } catch {
    return false;
  }
}

/**
 * The line for one report of a wait: the holder and since when it holds the
 * lock; repeated reports say how long this has waited. A holder that does not
 * move is named with what to do about it: one that is stopped (SIGSTOP), the
 * rbuild daemon above all, whose client has given up on it and whose build
 * this one now waits for.
 */
export function lockWaitMessage(wait: LockWait): string {
  const own = wait.pid !== undefined && !wait.otherUser;
  const daemon = own && isDaemon(wait.pid!);
  const who =
    wait.pid === undefined
      ? "another user's rbuild"
      : wait.otherUser
        ? `another user's rbuild (pid ${wait.pid})`
        : daemon
          ? `the rbuild daemon (pid ${wait.pid})`
          : `another rbuild (pid ${wait.pid})`;
  const held = `it has held the lock since ${clock(wait.since)}`;
  const resume = !own
    ? wait.stopped === true && wait.pid !== undefined
      ? `; it is stopped: its user (or root) can resume it with \`kill -CONT ${wait.pid}\``
      : ""
    : wait.stopped === true
      ? daemon
        ? `; it is stopped: \`kill -CONT ${wait.pid}\` resumes it (its build goes on, then this one), \`kill -9 ${wait.pid}\` ends it`
        : `; it is stopped: \`kill -CONT ${wait.pid}\` resumes it`
      : wait.stopped === undefined
        ? `; if it is stopped, \`kill -CONT ${wait.pid}\` resumes it`
        : "";
  if (wait.waitedMs === 0) return `waiting for ${who} building this workspace; ${held}${resume}`;
  return `still waiting (${Math.round(wait.waitedMs / 1000)}s) for ${who}; ${held}${resume}; Ctrl-C stops waiting`;
}
