/**
 * Starts a command in a process group of its own, so that interrupting a
 * build can stop everything a task started (a shell, its children, their
 * children) and not only the direct child. The group leader's pid is the
 * group id; `kill(-pgid)` signals the whole group.
 */
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";

/** How long a group has to exit after SIGTERM before it gets SIGKILL. */
export const KILL_GRACE_MS = 2000;

export interface SpawnOptions {
  /** A string runs with `/bin/sh -c`; an array is the program and its arguments. */
  readonly command: string | readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Aborting kills the whole group: SIGTERM, then SIGKILL after a grace period. */
  readonly signal: AbortSignal;
  readonly onStdout: (chunk: Buffer) => void;
  readonly onStderr: (chunk: Buffer) => void;
}

export type SpawnResult =
  | { kind: "exited"; exitCode: number }
  | { kind: "signaled"; signal: string }
  | { kind: "error"; message: string };

function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is gone.
  }
}

/** Waits until no process of the group is left, escalating to SIGKILL after the grace period. */
async function reapGroup(pgid: number): Promise<void> {
  const deadline = Date.now() + KILL_GRACE_MS;
  while (signalGroup(pgid, 0)) {
    if (Date.now() > deadline) {
      signalGroup(pgid, "SIGKILL");
      // Zombies stay visible to kill(0) until their new parent reaps them; don't wait on that forever.
      await sleep(50);
      return;
    }
    await sleep(20);
  }
}

export function spawnInGroup(options: SpawnOptions): Promise<SpawnResult> {
  if (options.signal.aborted) return Promise.resolve({ kind: "signaled", signal: "SIGTERM" });
  const [file, args] =
    typeof options.command === "string" ? ["/bin/sh", ["-c", options.command]] : [options.command[0] ?? "", options.command.slice(1)];

  return new Promise((resolvePromise) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      if (child.pid === undefined) return;
      signalGroup(child.pid, "SIGTERM");
      killTimer = setTimeout(() => child.pid !== undefined && signalGroup(child.pid, "SIGKILL"), KILL_GRACE_MS);
      killTimer.unref();
    };
    options.signal.addEventListener("abort", onAbort, { once: true });
    child.stdout.on("data", options.onStdout);
    child.stderr.on("data", options.onStderr);

    let settled = false;
    const settle = (result: SpawnResult): void => {
      if (settled) return;
      settled = true;
      options.signal.removeEventListener("abort", onAbort);
      const done = (): void => {
        if (killTimer !== undefined) clearTimeout(killTimer);
        resolvePromise(result);
      };
      // When interrupted, the leader may exit before the rest of its group: wait for all of it.
      if (options.signal.aborted && child.pid !== undefined) void reapGroup(child.pid).then(done);
      else done();
    };
    child.on("error", (error) => settle({ kind: "error", message: error.message }));
    child.on("close", (code, signal) => {
      settle(code === null ? { kind: "signaled", signal: signal ?? "SIGKILL" } : { kind: "exited", exitCode: code });
    });
  });
}
