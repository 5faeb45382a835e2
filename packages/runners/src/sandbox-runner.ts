/**
 * The sandbox runner: a task's commands run under bubblewrap, in a tree that
 * holds only its declared inputs and its deps' outputs (sandbox-tree.ts),
 * with the system directories read-only, a fresh /tmp and HOME, and no
 * network unless the task says `network: true` (bwrap.ts). Without a
 * network, it starts through a sandbox helper of its own (sandbox-helpers.ts),
 * which has made the network namespace and /dev once for all its tasks.
 *
 * It starts commands as the local runner does (one LocalRunner, its process
 * helper and its records of what runs), each wrapped in bwrap: a command
 * task's command, and each command a function task execs. A function's own
 * code runs in rbuild's process and is not confined; only what it execs is.
 *
 * After the run: a failure whose stderr says a workspace path was read-only
 * becomes `output-mount` when that path is a writable directory itself (a
 * mount point: the task tried to remove or replace it), else
 * `undeclared-write`, and one that says a workspace path was missing
 * that exists outside becomes `undeclared-read` (undeclared-reads.ts), and
 * one that says a host path outside the workspace was missing that the
 * sandbox lacks becomes `outside-sandbox`; files
 * written in the writable directories that no output glob matches fail the
 * run as `undeclared-write` too; else the outputs are moved into the
 * workspace and the answer is `in-place`.
 *
 * A program killed by a signal is reported by bwrap, which waits for it, as
 * exit status 128+N; that status is reported as killed by signal N, as a
 * shell's `$?` reads (a task that itself exits 129-192 reads the same).
 */
import { statSync, writeFileSync } from "node:fs";
import { hostArgs, hostHomes, hostPart, locateBwrap, SANDBOX_HOME, type BwrapState } from "./bwrap.js";
import { LocalRunner, refusedImage, type LocalRunnerOptions } from "./local-runner.js";
import { OnLocalRunner } from "./on-local-runner.js";
import type { RunOutcome, RunRequest } from "./runner.js";
import { isBelow, SandboxTree } from "./sandbox-tree.js";
import type { Program, Wrap } from "./spawn-group.js";
import { finishedRun } from "./sandbox-failure.js";
import { STDERR_KEPT } from "./undeclared-reads.js";

export interface SandboxRunnerOptions extends LocalRunnerOptions {
  /** Where to look for `bwrap` (default: this process's PATH). */
  readonly searchPath?: string;
  /** The most bytes of bwrap arguments to pass on its command line; beyond, they are passed in a file (default 256 KiB; tests set 0). */
  readonly argvLimit?: number;
  /** The local runner to start commands through (shared with the build's local tasks); one of its own if not given. */
  readonly local?: LocalRunner;
}

/** A sandbox's system part: what it sees outside the workspace. */
export interface SystemPart {
  /** The bwrap arguments that make it, before the workspace's; `inSandboxHelper`: see Wrap. */
  readonly args: (inSandboxHelper: boolean) => readonly string[];
  /** Environment under the task's own (an image's `Env`). */
  readonly env?: Readonly<Record<string, string>>;
  /** The program that starts instead of `program` (a container finds programs on its own PATH). */
  readonly program?: (program: Program) => Program;
  /** Whether it holds host path `absolute` (outside the workspace); not given where the host is not what it holds (an image). */
  readonly holds?: (absolute: string) => boolean;
}

/** The most bytes of bwrap arguments passed on its command line (Linux takes 2 MiB in all, with the environment). */
const MAX_ARGV = 256 * 1024;

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export class SandboxRunner extends OnLocalRunner {
  readonly #owned: boolean;
  readonly #searchPath: string;
  readonly #argvLimit: number;
  /** Whether bwrap is here, found on first use. */
  #bwrap: BwrapState | undefined;

  constructor(options: SandboxRunnerOptions = {}) {
    super(options.local ?? new LocalRunner(options));
    this.#owned = options.local === undefined;
    this.#searchPath = options.searchPath ?? process.env.PATH ?? "";
    this.#argvLimit = options.argvLimit ?? MAX_ARGV;
  }

  close(): void {
    if (this.#owned) this.local.close();
  }

  async run(request: RunRequest): Promise<RunOutcome> {
    if (request.image !== undefined) return refusedImage(request, "the sandbox runner");
    // The task's HOME too: a daemon's own may be another's (the first client's).
    const homes = hostHomes([request.env.HOME]);
    const host = hostPart(request.env.PATH, request.root, homes);
    return this.runIn(request, {
      args: (inSandboxHelper) => hostArgs(request.network === true, host, inSandboxHelper),
      holds: (absolute) => host.dirs.some((dir) => isBelow(dir, absolute)) || host.links.some(([link]) => isBelow(link, absolute)),
    });
  }

  /**
   * Runs `request` in a sandbox whose system part is `system` (the host's
   * system directories for the sandbox runner, an image's root filesystem
   * for the container runner), with the workspace part and the output
   * collection as described above.
   */
  async runIn(request: RunRequest, system: SystemPart): Promise<RunOutcome> {
    const task = request.task;
    this.#bwrap ??= locateBwrap(this.#searchPath);
    const bwrap = this.#bwrap;
    if (bwrap.kind === "missing") return { ok: false, exitCode: null, failure: { reason: "spawn-failed", task, message: bwrap.message } };
    if (!isDirectory(request.cwd)) {
      return { ok: false, exitCode: null, failure: { reason: "spawn-failed", task, message: `its working directory ${request.cwd} does not exist. Create it, or fix the task's \`cwd\`.` } };
    }
    const tree = new SandboxTree(request);
    try {
      let tail = "";
      const own: RunRequest = {
        ...request,
        stderr: (chunk) => {
          request.stderr(chunk);
          tail = (tail + chunk.toString()).slice(-STDERR_KEPT);
        },
      };
      const wrap: Wrap = (started, cwd, inSandboxHelper) => {
        const program = system.program?.(started) ?? started;
        tree.ensureDirectory(cwd);
        const outside = isBelow(request.root, cwd) ? [] : ["--ro-bind-try", cwd, cwd];
        const env = { ...system.env, ...program.env, HOME: SANDBOX_HOME, TMPDIR: "/tmp" };
        const command = ["--chdir", cwd, "--", program.file, ...program.args];
        const setup = [...system.args(inSandboxHelper), ...tree.args(), ...outside];
        if (setup.reduce((sum, arg) => sum + arg.length + 1, 0) <= this.#argvLimit) return { file: bwrap.path, args: [...setup, ...command], env };
        // Beyond what execve takes (thousands of binds): bwrap reads them from a file, on fd 3.
        const file = tree.scratchFile("bwrap-args");
        writeFileSync(file, setup.map((arg) => `${arg}\0`).join(""));
        return { file: "/bin/sh", args: ["-c", 'f=$1; shift; exec "$0" --args 3 "$@" 3<"$f"', bwrap.path, file, ...command], env };
      };
      // Without a network, through a sandbox helper of its own: bwrap need not make a network namespace or a /dev.
      const outcome = await this.local.runWrapped(own, wrap, { sandboxHelper: request.network !== true });
      return finishedRun(outcome, tail, request, tree, system.holds);
    } finally {
      tree.remove();
    }
  }
}
