/**
 * Running the built rbuild as the user nobody (uid and gid 65534) from a test
 * that runs as root: where root runs it, EACCES never happens.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { execa } from "execa";
import { normalize, RBUILD, type RunResult, type Workspace } from "./workspace.js";

/** The command prefix that runs a program as uid 65534, or why that cannot be done here. */
function asNobody(): { prefix: string[] } | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: "runs only as root: it sets up files as root and runs rbuild as another user" };
  const has = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
  if (has("setpriv")) return { prefix: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] };
  if (has("runuser")) return { prefix: ["runuser", "-u", "nobody", "--"] };
  return { skip: "neither setpriv nor runuser is installed, so rbuild cannot be run as another user" };
}
export const nobody = asNobody();

function prefix(): string[] {
  if ("skip" in nobody) throw new Error(`cannot run as nobody: ${nobody.skip}`);
  return nobody.prefix;
}

/** Runs `program args` as uid 65534; its exit status. */
export function spawnAsNobody(program: string, args: readonly string[]): number | null {
  const [tool, ...toolArgs] = prefix();
  return spawnSync(tool!, [...toolArgs, program, ...args]).status;
}

/** Runs the built rbuild in `ws` as uid 65534, without a daemon, as Workspace.run does. */
export async function runAsNobody(ws: Workspace, args: string[]): Promise<RunResult> {
  const [tool, ...toolArgs] = prefix();
  const result = await execa(tool!, [...toolArgs, process.execPath, RBUILD, ...args], {
    cwd: ws.root,
    reject: false,
    stdin: "ignore",
    stripFinalNewline: false,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: ws.root, RBUILD_DAEMON: "0" },
    extendEnv: false,
  });
  return { exitCode: result.exitCode, stdout: normalize(String(result.stdout), ws.root), stderr: normalize(String(result.stderr), ws.root) };
}

/**
 * Lets uid 65534 reach the built CLI: a checkout in a private directory (as
 * `mktemp -d` makes them, 0700) has an ancestor that others cannot enter. Each
 * such ancestor gets o+x (enter, not list) until `restore` is called. Checks
 * that Node and the CLI can then be read.
 */
export function letNobodyReach(path: string): { restore(): void } {
  const opened: [string, number][] = [];
  for (let dir = dirname(path); dir !== dirname(dir); dir = dirname(dir)) {
    const mode = statSync(dir).mode & 0o7777;
    if ((mode & 0o001) === 0) {
      chmodSync(dir, mode | 0o001);
      opened.push([dir, mode]);
    }
  }
  for (const program of [process.execPath, path]) {
    if (spawnAsNobody("test", ["-r", program]) !== 0) throw new Error(`uid 65534 cannot read ${program}, so this test cannot run rbuild as that user`);
  }
  return { restore: () => opened.forEach(([dir, mode]) => chmodSync(dir, mode)) };
}
