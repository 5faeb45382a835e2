/** What end-to-end tests read about a workspace's daemon (daemon.ts), from its log. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Workspace } from "./workspace.js";

export function daemonLog(ws: Workspace): string {
  const file = join(ws.root, ".rbuild/daemon.log");
  return existsSync(file) ? readFileSync(file, "utf8") : "";
}

/** How many builds the daemon ran. */
export const servedBuilds = (ws: Workspace): number =>
  daemonLog(ws)
    .split("\n")
    .filter((line) => / build \d+: /.test(line)).length;

/** The daemons that served this workspace (one, unless one was replaced). */
export const daemonPids = (ws: Workspace): number[] => [...new Set([...daemonLog(ws).matchAll(/\[(\d+)\] serving /g)].map((m) => Number(m[1])))];

/** Kills the workspace's daemons, those of the previous log (daemon.log.1) too: a test leaves no process behind. */
export function stopDaemons(ws: Workspace): void {
  const previous = join(ws.root, ".rbuild/daemon.log.1");
  const earlier = existsSync(previous) ? [...readFileSync(previous, "utf8").matchAll(/\[(\d+)\] serving /g)].map((m) => Number(m[1])) : [];
  for (const pid of [...earlier, ...daemonPids(ws)]) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
}

/** Waits (10 s at most) until `check` holds. */
export async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting until ${what}`);
}
