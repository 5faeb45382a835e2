/**
 * Starts a command in a process group of its own, so that interrupting a
 * build can stop everything a task started (a shell, its children, their
 * children) and not only the direct child. The group leader's pid is the
 * group id; `kill(-pgid)` signals the whole group.
 *
 * The process is started through a process helper when one is given
 * (process-helper.ts: forking Node itself is slow), else directly; both
 * behave alike.
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import type { Readable } from "node:stream";
import type { ProcessHelper } from "./process-helper.js";
import { hasLiveMember } from "./process-table.js";
import type { RunningGroups } from "./running-groups.js";
import { argvWithoutShell } from "./simple-command.js";

/** How long a group has to exit after SIGTERM before it gets SIGKILL. */
export const KILL_GRACE_MS = 2000;

export interface SpawnOptions {
  /**
   * A string runs with `/bin/sh -c`, or, when it is only plain words naming a
   * program sh would find, as that program with those words (simple-command.ts);
   * an array is the program and its arguments.
   */
  readonly command: string | readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Aborting kills the whole group: SIGTERM, then SIGKILL after a grace period. */
  readonly signal: AbortSignal;
  readonly onStdout: (chunk: Buffer) => void;
  readonly onStderr: (chunk: Buffer) => void;
  /** Called once it has started. */
  readonly onStarted?: () => void;
  /** The process helper to start it through; without one it is forked from Node. */
  readonly helper?: ProcessHelper;
  /**
   * Where its process group is recorded while it runs, so that the next
   * build stops it if this rbuild dies first (running-groups.ts): forked from
   * Node, or started by the helper (which could die with rbuild).
   */
  readonly groups?: RunningGroups;
  /** Turns the program into the one that is started (the sandbox runner starts it under bwrap). */
  readonly wrap?: Wrap;
}

/** What is started: a program, its arguments and its environment. */
export interface Program {
  readonly file: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/**
 * A runner's change to what starts: the program, as it would start, in, the
 * one that starts instead, out. `inSandboxHelper`: it starts through a
 * sandbox helper (process-helper.ts `sandbox`), which has made the sandbox's
 * network namespace and /dev already.
 */
export type Wrap = (program: Program, cwd: string, inSandboxHelper: boolean) => Program;

export type SpawnResult =
  | { kind: "exited"; exitCode: number }
  | { kind: "signaled"; signal: string }
  | { kind: "error"; message: string }
  /**
   * The process helper that started it (pid `helper`) was lost, `how`, while
   * it ran (its group was stopped), or as it was starting it (`started`
   * false: whether it did is not known).
   */
  | { kind: "lost"; helper: number; how: string; started: boolean };

function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is gone.
  }
}

/**
 * Whether any live process is left in the group. A killed grandchild is
 * reparented to init and stays a zombie until init reaps it, which can take a
 * while in a container; `kill(-pgid, 0)` still finds zombies, so on Linux read
 * /proc and count only processes that are not zombies.
 */
function groupAlive(pgid: number): boolean {
  return signalGroup(pgid, 0) && hasLiveMember(pgid) !== false; // No /proc: trust kill(0).
}

/** Waits until no live process of the group is left, escalating to SIGKILL after the grace period. */
async function reapGroup(pgid: number): Promise<void> {
  const deadline = Date.now() + KILL_GRACE_MS;
  while (groupAlive(pgid)) {
    if (Date.now() > deadline) {
      signalGroup(pgid, "SIGKILL");
      return;
    }
    await sleep(10);
  }
}

function programOf({ command, cwd, env }: SpawnOptions): Program {
  if (typeof command !== "string") return { file: command[0] ?? "", args: command.slice(1), env };
  const argv = argvWithoutShell(command, cwd, env);
  if (argv === undefined) return { file: "/bin/sh", args: ["-c", command], env };
  // sh exports PWD, the directory it runs in; a PWD naming another one it replaces, and so does this.
  return { file: argv[0]!, args: argv.slice(1), env: { ...env, PWD: cwd } };
}

/**
 * Why an environment cannot be given to a command, if it cannot: a name that
 * is empty or holds "=" is no variable (execve would pass it on as a garbled
 * entry, posix_spawn refuses it), so both ways of starting refuse it alike.
 */
function badEnvironment(env: Readonly<Record<string, string>>): string | undefined {
  const name = Object.keys(env).find((key) => key === "" || key.includes("="));
  if (name === undefined) return undefined;
  return `its environment has a variable named ${JSON.stringify(name)}: a name cannot be empty or hold "=". Rename it or remove it from the task's env.`;
}

/** What a command that could not start because of `error` says: with what to do, where there is something. */
function startError(error: NodeJS.ErrnoException): string {
  if (error.code === "EMFILE") return "too many open files: raise `ulimit -n` or lower -j";
  if (error.code === "ENFILE") return "the system has too many open files: lower -j, or raise its limit (fs.file-max)";
  return error.message;
}

export function spawnInGroup(options: SpawnOptions): Promise<SpawnResult> {
  if (options.signal.aborted) return Promise.resolve({ kind: "signaled", signal: "SIGTERM" });
  const refused = badEnvironment(options.env);
  if (refused !== undefined) return Promise.resolve({ kind: "error", message: refused });
  const plain = programOf(options);
  const started = (inSandboxHelper: boolean): Program => (options.wrap === undefined ? plain : options.wrap(plain, options.cwd, inSandboxHelper));
  return options.helper === undefined ? spawnDirectly(started(false), options) : launchThrough(options.helper, started, options);
}

/**
 * Stopping a group when the build is interrupted: SIGTERM now, SIGKILL after
 * the grace period; once its leader has ended, `settled` waits for the rest.
 */
class GroupStopper {
  #pgid: number | undefined;
  #killTimer: NodeJS.Timeout | undefined;
  readonly #onAbort = (): void => this.stop();

  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** The group is known (its leader's pid): a stop asked for before now happens now. */
  started(pgid: number): void {
    this.#pgid = pgid;
    if (this.signal.aborted) this.stop();
  }

  /** Stops the group: SIGTERM now, SIGKILL after the grace period. */
  stop(): void {
    const pgid = this.#pgid;
    if (pgid === undefined || this.#killTimer !== undefined) return;
    signalGroup(pgid, "SIGTERM");
    this.#killTimer = setTimeout(() => signalGroup(pgid, "SIGKILL"), KILL_GRACE_MS);
    this.#killTimer.unref();
  }

  /** Nothing was started: stop listening for an interrupt. */
  detach(): void {
    this.signal.removeEventListener("abort", this.#onAbort);
  }

  /** The leader ended with `result`: resolves once nothing of the group is left when it was stopped. */
  async settled(result: SpawnResult): Promise<SpawnResult> {
    this.signal.removeEventListener("abort", this.#onAbort);
    // When stopped, the leader may exit before the rest of its group: wait for all of it.
    if (this.#killTimer !== undefined && this.#pgid !== undefined) await reapGroup(this.#pgid);
    if (this.#killTimer !== undefined) clearTimeout(this.#killTimer);
    return result;
  }
}

/** Starts `started(true)` through a sandbox helper, `started(false)` through another helper or from Node. */
async function launchThrough(helper: ProcessHelper, started: (inSandboxHelper: boolean) => Program, options: SpawnOptions): Promise<SpawnResult> {
  const stopper = new GroupStopper(options.signal);
  const { file, args, env } = started(helper.sandbox);
  let recorded: number | undefined;
  const onStart = (pid: number, startTime: string | undefined): void => {
    if (options.groups?.started(pid, startTime) === true) recorded = pid;
    stopper.started(pid);
    options.onStarted?.();
  };
  const end = await helper.launch({ file, args, cwd: options.cwd, env, signal: options.signal, onStart, onStdout: options.onStdout, onStderr: options.onStderr });
  // The helper did not start it (it cannot run here, or was lost first): fork it from Node, unless it is to stop by now.
  if (end === undefined) {
    stopper.detach();
    return options.signal.aborted ? { kind: "signaled", signal: "SIGTERM" } : spawnDirectly(started(false), options);
  }
  // Nothing relays its output or reports its end now: stop what is left of it.
  if (end.kind === "lost") stopper.stop();
  const result = await stopper.settled(end);
  if (recorded !== undefined) options.groups?.ended(recorded);
  return result;
}

function spawnDirectly({ file, args, env }: Program, options: SpawnOptions): Promise<SpawnResult> {
  return new Promise((resolvePromise) => {
    let child: ChildProcessByStdio<null, Readable, Readable>;
    try {
      child = spawn(file, args, { cwd: options.cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    } catch (error) {
      // Arguments spawn() refuses before starting anything (a NUL byte would cut them short).
      resolvePromise({ kind: "error", message: startError(error as Error) });
      return;
    }
    const stopper = new GroupStopper(options.signal);
    const pid = child.pid;
    if (pid !== undefined) {
      options.groups?.started(pid);
      stopper.started(pid);
      options.onStarted?.();
    }
    // Out of descriptors for its pipes, it has none (nor a pid): "error" says why.
    child.stdout?.on("data", options.onStdout);
    child.stderr?.on("data", options.onStderr);

    let settled = false;
    const settle = (result: SpawnResult): void => {
      if (settled) return;
      settled = true;
      void stopper.settled(result).then((end) => {
        if (pid !== undefined) options.groups?.ended(pid);
        resolvePromise(end);
      });
    };
    child.on("error", (error) => settle({ kind: "error", message: startError(error) }));
    child.on("close", (code, signal) => {
      settle(code === null ? { kind: "signaled", signal: signal ?? "SIGKILL" } : { kind: "exited", exitCode: code });
    });
  });
}
