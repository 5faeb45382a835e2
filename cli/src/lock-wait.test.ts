import { expect, test } from "vitest";
import { lockWaitMessage } from "./lock-wait.js";

const since = new Date(2026, 0, 2, 3, 4, 5).getTime();

test("20.H: a stopped holder is said to be stopped, also when it is another user's", () => {
  // Pid 2^22 + 1 is above any pid_max: no such process, so no daemon either.
  const pid = 4_194_305;
  expect(lockWaitMessage({ pid, otherUser: true, stopped: true, since, waitedMs: 0 })).toBe(
    `waiting for another user's rbuild (pid ${pid}) building this workspace; it has held the lock since 03:04:05; it is stopped: its user (or root) can resume it with \`kill -CONT ${pid}\``,
  );
  expect(lockWaitMessage({ pid, otherUser: false, stopped: true, since, waitedMs: 6000 })).toBe(
    `still waiting (6s) for another rbuild (pid ${pid}); it has held the lock since 03:04:05; it is stopped: \`kill -CONT ${pid}\` resumes it; Ctrl-C stops waiting`,
  );
  expect(lockWaitMessage({ pid, otherUser: true, stopped: false, since, waitedMs: 0 })).toBe(
    `waiting for another user's rbuild (pid ${pid}) building this workspace; it has held the lock since 03:04:05`,
  );
});
