/**
 * The daemon's memory limit (issue 20, red-team finding N7): a Buildfile that
 * holds much at its top level grows the daemon by that much at every
 * evaluation, its warm-up rounds included. The limit is taken before any
 * evaluation and capped, so such a daemon ends near its limit instead of
 * raising the limit with what the warm-up already held.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { expect, test } from "vitest";
import { testWorkspace, type Workspace } from "./test-support/workspace.js";

const log = (ws: Workspace): string => (existsSync(join(ws.root, ".rbuild/daemon.log")) ? readFileSync(join(ws.root, ".rbuild/daemon.log"), "utf8") : "");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits for `check`, generously: the daemon's warm-up evaluates the Buildfile several times on a loaded machine. */
async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting until ${what}`);
}

test("20.N7: a Buildfile that holds 100 MB at every evaluation ends the daemon in its warm-up, under its capped limit, not gigabytes later", async () => {
  const ws = testWorkspace({
    "Buildfile.ts": `import { task } from "rbuild";\nexport const ballast = new Uint8Array(100 * 1024 * 1024).fill(1);\ntask({ name: "use", run: "true" });\n`,
  });
  let pid: number | undefined;
  try {
    // The first build runs in Node and starts the daemon, which warms up: 8 evaluations, 800 MB and more.
    const first = await ws.run(["use"], { command: true, env: { RBUILD_DAEMON: "1" } });
    expect(first.exitCode).toBe(0);
    await until("the daemon listens", () => /\[(\d+)\] serving /.test(log(ws)));
    pid = Number(/\[(\d+)\] serving /.exec(log(ws))![1]);
    await until("the daemon exits", () => !alive(pid!));

    const exit = /exiting: its memory grew to (\d+) MiB, over its limit of (\d+) MiB (.*)/.exec(log(ws));
    expect(exit?.[3]).toBe(
      "(3 times its size before it first evaluated the Buildfile, 512 MiB at least, 1 GiB at most): " +
        "each build evaluates the Buildfile as a new module, which Node never frees; the next build starts a new daemon",
    );
    const [grew, limit] = [Number(exit![1]), Number(exit![2])];
    // Past its limit by at most about one evaluation's 100 MB (and what a round allocates besides).
    expect({ limitWithinBounds: limit >= 512 && limit <= 1024, grewPastLimitBy: grew - limit < 300 }).toEqual({ limitWithinBounds: true, grewPastLimitBy: true });
    expect(log(ws)).not.toMatch(/ build \d+: /);
  } finally {
    if (pid !== undefined && alive(pid)) process.kill(pid, "SIGKILL");
  }
}, 120_000);
