/**
 * Runs a container task in a docker or podman engine (`engine: "docker"`), its image loaded there
 * already (engine-image.ts). What the task sees of the workspace is the sandbox's (sandbox-tree.ts):
 * its declared inputs and deps' outputs read-only, its outputs' directories writable, at the
 * workspace's own absolute paths, each bwrap bind of the tree a `-v` (`--ro-bind S D` is `-v S:D:ro`,
 * `--bind S D` is `-v S:D`); the outputs are collected from the tree and moved back as the sandbox
 * runner does. Around it: the image's own root filesystem, a fresh /tmp (`--tmpfs`), HOME and TMPDIR
 * /tmp, the image's `Env` under the task's, no network unless `network: true`, and the host's uid:gid,
 * so that what it writes is the user's.
 *
 * Each command (a command task's, or each one a function task execs) is one `run --rm --name NAME`
 * through the local runner; the engine's exit status is the command's. An interrupted task's client
 * is stopped by the local runner, which does not stop its container (the engine's daemon runs it):
 * `rm -f NAME` does, before the tree it uses goes.
 *
 * A failure whose stderr says a workspace path was read-only, or missing though it is there outside,
 * is named as the sandbox runner names it (`output-mount`, `undeclared-write`, `undeclared-read`).
 * A command killed by a signal is reported by the engine as exit status 128+N (as bwrap does, and a
 * shell's `$?`): that status is reported as killed by signal N.
 */
import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { basename } from "node:path";
import { runProgram, type EngineEnv } from "./engine-image.js";
import type { LocalRunner } from "./local-runner.js";
import type { RunOutcome, RunRequest } from "./runner.js";
import { isBelow, SandboxTree } from "./sandbox-tree.js";
import type { Program, Wrap } from "./spawn-group.js";
import { finishedRun } from "./sandbox-failure.js";
import { STDERR_KEPT } from "./undeclared-reads.js";

/** The program that starts in an image instead of `program`: a plain-words command's found on the image's PATH, not the host's. */
export function programInImage(root: string, program: Program): Program {
  return program.file === "/bin/sh" || isBelow(root, program.file) ? program : { ...program, file: basename(program.file) };
}

/**
 * The options that run a container as the user `uid`:`gid` and so leave what it writes theirs. Rootless
 * podman maps the container's ids into the user's subordinate ones unless told `--userns=keep-id`
 * (which rootful podman did not take before 4.3): with it, `uid` is the user inside too.
 */
export function userArgs(engine: string, uid: number, gid: number): string[] {
  const keep = basename(engine) === "podman" && uid !== 0 ? ["--userns=keep-id"] : [];
  return [...keep, "--user", `${uid}:${gid}`];
}

/** The `-v` options for a sandbox tree's bwrap binds. */
export function volumeArgs(binds: readonly string[]): string[] {
  const volumes: string[] = [];
  for (let at = 0; at < binds.length; at += 3) {
    const [kind, source, destination] = [binds[at], binds[at + 1], binds[at + 2]];
    if (kind === "--ro-bind") volumes.push("-v", `${source}:${destination}:ro`);
    else if (kind === "--bind") volumes.push("-v", `${source}:${destination}`);
    else throw new Error(`bug: the sandbox tree gave bwrap option ${String(kind)}, which has no engine volume`);
  }
  return volumes;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Runs `request` in image `ref` with `engine` (see above). */
export async function runInEngine(local: LocalRunner, request: RunRequest, engine: string, ref: string, env: EngineEnv): Promise<RunOutcome> {
  const task = request.task;
  const failed = (message: string): RunOutcome => ({ ok: false, exitCode: null, failure: { reason: "spawn-failed", task, message } });
  if (!isDirectory(request.cwd)) return failed(`its working directory ${request.cwd} does not exist. Create it, or fix the task's \`cwd\`.`);
  // `-v SOURCE:DESTINATION` splits at colons: a path with one cannot be given.
  if (request.root.includes(":") || request.cwd.includes(":")) return failed(`its workspace ${request.root} has a ":" in its path, which a \`${basename(engine)} run -v\` cannot bind. Move the workspace, or leave \`engine\` out to run the image with bubblewrap.`);
  const tree = new SandboxTree(request);
  const names: string[] = [];
  const removals: Promise<unknown>[] = [];
  const removeAll = (): void => {
    for (const name of names.splice(0)) removals.push(runProgram(engine, ["rm", "-f", name], env));
  };
  const prefix = `rbuild-${process.pid}-${randomBytes(4).toString("hex")}`;
  request.signal.addEventListener("abort", removeAll);
  try {
    const volumes = volumeArgs(tree.args());
    const user = userArgs(engine, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
    const network = request.network === true ? "host" : "none";
    let count = 0;
    const wrap: Wrap = (started, cwd) => {
      const program = programInImage(request.root, started);
      tree.ensureDirectory(cwd);
      const outside = isBelow(request.root, cwd) ? [] : ["-v", `${cwd}:${cwd}:ro`];
      const vars = Object.entries({ ...program.env, HOME: "/tmp", TMPDIR: "/tmp" }).flatMap(([key, value]) => ["-e", `${key}=${value}`]);
      const name = `${prefix}-${++count}`;
      names.push(name);
      const args = ["run", "--rm", "--network", network, ...user, ...volumes, ...outside, "--tmpfs", "/tmp", "-w", cwd, ...vars, "--name", name, ref, program.file, ...program.args];
      return { file: engine, args, env: Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined)) };
    };
    let tail = "";
    const own: RunRequest = {
      ...request,
      stderr: (chunk) => {
        request.stderr(chunk);
        tail = (tail + chunk.toString()).slice(-STDERR_KEPT);
      },
    };
    const outcome = await local.runWrapped(own, wrap);
    if (request.signal.aborted) removeAll();
    await Promise.all(removals);
    return finishedRun(outcome, tail, request, tree);
  } finally {
    request.signal.removeEventListener("abort", removeAll);
    tree.remove();
  }
}
