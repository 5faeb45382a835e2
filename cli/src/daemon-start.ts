/**
 * Starting the rbuild daemon (see daemon.ts) after a build rbuild ran itself,
 * so that the next build in this workspace is answered by a process that is
 * already running.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, renameSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join, resolve } from "node:path";
import { onPath } from "@rbuild/core";
import { apiModule, type Workspace } from "./workspace.js";

/** The daemon's socket and log, in the workspace's default cache directory. */
export const DAEMON_SOCKET = "daemon.sock";
export const DAEMON_LOG = "daemon.log";

type Env = Readonly<Record<string, string | undefined>>;

const isOn = (value: string): boolean => /^(1|true|on|yes)$/i.test(value);
const isOff = (value: string): boolean => /^(0|false|off|no)$/i.test(value);

/**
 * Whether builds should use a daemon: `RBUILD_DAEMON=1` or `0` decides; by
 * default yes, except in CI (`CI` set), where every job starts from a fresh
 * machine and a process left behind helps nobody, as Nx and Turborepo do.
 */
export function daemonWanted(env: Env): boolean {
  const setting = env.RBUILD_DAEMON ?? "";
  if (isOff(setting)) return false;
  if (isOn(setting)) return process.platform !== "win32";
  const ci = env.CI ?? "";
  return process.platform !== "win32" && (ci === "" || isOff(ci));
}

/**
 * Which workspaces a daemon can serve exactly as a new process would:
 * the cache in `.rbuild/` (the socket lives there, and the client looks for
 * it there), and a Buildfile that imports no npm packages (a process keeps
 * the modules it loaded, so a daemon would not see a package upgrade).
 */
export function daemonCanServe(workspace: Workspace): boolean {
  return workspace.cacheDir === join(workspace.root, ".rbuild") && !workspace.importsPackages;
}

/** Whether something answers on the socket at `path` (a daemon), or it is stale or missing. */
export function daemonAnswers(path: string): Promise<boolean> {
  if (!existsSync(path)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect(path);
    const done = (answers: boolean): void => {
      socket.destroy();
      resolve(answers);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.setTimeout(1000, () => done(false));
  });
}

/**
 * The daemon's young generation, in MiB per semi-space. A one-file build of
 * 1,000 tasks allocates some 30 MB, most of it live until the build ends:
 * with Node's default (16 MiB, grown from 1) the daemon scavenged twice during
 * such a build, 4-15 ms each, copying what survived (--trace-gc). With room
 * for a build, and emptied between builds (daemon.ts), a build seldom
 * scavenges at all. It costs the daemon's memory: some 100 MB more committed.
 */
export const DAEMON_SEMI_SPACE_MB = 64;

/**
 * Starts this workspace's daemon in the background unless one answers already,
 * daemons are not wanted, or the client that would talk to it (perl, see
 * bin/rbuild) is missing. Never fails the build: a daemon is only a speed-up.
 */
export async function startDaemonIfWanted(workspace: Workspace, env: Env, targets: readonly string[]): Promise<void> {
  if (!daemonWanted(env) || !daemonCanServe(workspace) || onPath("perl", env) === undefined) return;
  if (await daemonAnswers(join(workspace.cacheDir, DAEMON_SOCKET))) return;
  const entry = resolve(dirname(apiModule()), "../bin/rbuild-daemon.js");
  if (!existsSync(entry)) return;
  let log: number | undefined;
  try {
    const path = join(workspace.cacheDir, DAEMON_LOG);
    // The last daemon's log says why it exited: kept, as daemon.log.1, for whoever wonders.
    if (existsSync(path)) renameSync(path, `${path}.1`);
    log = openSync(path, "w");
    // Its own session: a Ctrl-C at the terminal is for the client, which tells the daemon.
    // The targets of this build: the daemon gets ready for the next build of them (see Daemon.warmUp).
    const child = spawn(process.execPath, [`--max-semi-space-size=${DAEMON_SEMI_SPACE_MB}`, entry, workspace.root, ...targets], { detached: true, stdio: ["ignore", log, log], cwd: workspace.root, env: { ...env } });
    child.on("error", () => {});
    child.unref();
  } catch {
    // No daemon this time; the next build tries again.
  } finally {
    if (log !== undefined) closeSync(log);
  }
}
