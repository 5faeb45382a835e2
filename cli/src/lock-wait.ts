/** What a build (or `rbuild clean`) waiting for the workspace's build lock says about who holds it. */
import type { LockWait } from "@rbuild/store";

const clock = (ms: number): string => new Date(ms).toTimeString().slice(0, 8);

/**
 * The line for one report of a wait: the holder and since when it holds the
 * lock; repeated reports say how long this has waited, and what to do about
 * a holder that does not move (one stopped with SIGSTOP, or another user's).
 */
export function lockWaitMessage(wait: LockWait): string {
  const who =
    wait.pid === undefined ? "another user's rbuild" : wait.otherUser ? `another user's rbuild (pid ${wait.pid})` : `another rbuild (pid ${wait.pid})`;
  const held = `it has held the lock since ${clock(wait.since)}`;
  if (wait.waitedMs === 0) return `waiting for ${who} building this workspace; ${held}`;
  const resume = wait.pid === undefined || wait.otherUser ? "" : `; if it is stopped, \`kill -CONT ${wait.pid}\` resumes it`;
  return `still waiting (${Math.round(wait.waitedMs / 1000)}s) for ${who}; ${held}${resume}; Ctrl-C stops waiting`;
}
