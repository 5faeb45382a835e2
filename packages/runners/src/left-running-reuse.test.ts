// A recorded group whose leader is gone is stopped only while it is still the recorded one (running-groups.ts):
// once that group is gone, its pid may lead an unrelated group, whose members started after the record's last write.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, expect, test } from "vitest";
import { RUNNING_FILE, stopLeftRunning } from "./running-groups.js";

let root: string;
const started: number[] = [];

beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-left-reuse-")));
});

afterEach(() => {
  for (const pgid of started.splice(0)) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
  rmSync(root, { recursive: true, force: true });
});

const fieldsOf = (pid: number | string): string[] | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
};

/** The live (not zombie) processes of group `pgid`. */
function liveMembers(pgid: number): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      const fields = fieldsOf(entry);
      return fields !== undefined && Number(fields[2]) === pgid && fields[0] !== "Z" && fields[0] !== "X";
    })
    .map(Number);
}

/** A group of its own whose leader has exited, leaving one member (a sleep): its pgid, and its leader's start time. */
async function orphanedGroup(): Promise<{ pgid: number; leaderStart: string; memberStart: string }> {
  const leader = spawn("/bin/sh", ["-c", "sleep 60 & read x"], { detached: true, stdio: ["pipe", "ignore", "ignore"] });
  const pgid = leader.pid!;
  started.push(pgid);
  const exited = new Promise((resolve) => leader.on("exit", resolve));
  for (let i = 0; i < 6000 && liveMembers(pgid).length < 2; i++) await sleep(10);
  expect(liveMembers(pgid)).toHaveLength(2);
  const leaderStart = fieldsOf(pgid)![19]!;
  leader.stdin.end();
  await exited; // Reaped: the leader's pid names no process now.
  const members = liveMembers(pgid);
  expect(members).toHaveLength(1);
  return { pgid, leaderStart, memberStart: fieldsOf(members[0]!)![19]! };
}

const record = (line: string, mtimeMs: number): void => {
  const file = join(root, RUNNING_FILE);
  writeFileSync(file, line);
  utimesSync(file, mtimeMs / 1000, mtimeMs / 1000);
};

test("20.N2: a group whose leader is gone is left alone when its members started after the record was last written, or before its leader", async () => {
  const { pgid, leaderStart, memberStart } = await orphanedGroup();
  // As if the record were an hour old: its member is no process the build that wrote it started.
  record(`g ${pgid} ${leaderStart}\n`, Date.now() - 3_600_000);
  expect([await stopLeftRunning(root), liveMembers(pgid).length]).toEqual([[], 1]);
  // A leader recorded as started after the member: not that member's leader.
  record(`g ${pgid} ${Number(memberStart) + 1}\n`, Date.now());
  expect([await stopLeftRunning(root), liveMembers(pgid).length]).toEqual([[], 1]);
  // Written after its member started, with that leader: the recorded group, stopped.
  record(`g ${pgid} ${leaderStart}\n`, Date.now());
  expect([await stopLeftRunning(root), liveMembers(pgid)]).toEqual([[pgid], []]);
}, 60_000);
