/**
 * Starting task processes through a small helper process instead of from
 * Node itself.
 *
 * `child_process.spawn` forks the whole Node process: with rbuild's heap that
 * costs 1.5-3.5 ms of the main thread per task (copying page tables, then the
 * copy-on-write faults and the child's teardown at exec), which was over half
 * of a cold build's main-thread time. The helper, helper/process_helper.py,
 * starts each task with posix_spawn (a vfork-style clone in glibc: nothing
 * copied), relays its stdout and stderr, and reports how it ended, so the
 * main thread only writes a request and reads frames. It runs where the
 * system's python3 (3.8 or later) does, on Linux; elsewhere tasks are forked
 * from Node directly (spawn-group.ts), with the same behaviour.
 *
 * A task runs exactly as spawnInGroup runs it directly: in a process group of
 * its own (the group id is the pid reported in the `S` frame, so interrupting
 * can signal the whole group), stdin from /dev/null, the given cwd, umask and
 * env, signals at their defaults, the program looked up on the task's PATH, and
 * it has ended when it exited and both its pipes are closed (so output of
 * anything it left running that still holds them is its output, and waited
 * for, as with `close` of a ChildProcess).
 *
 * Protocol, on the helper's stdin and stdout (ids are decimal, lengths in bytes):
 *   to the helper:  R <id> <len>\n<cwd>\0<umask, octal>\0<argc>\0<argv...>\0<NAME=value...>   run a process
 *   from it:        S <id> <pid>\n          started (pid = process group id)
 *                   O <id> <len>\n<bytes>   stdout
 *                   E <id> <len>\n<bytes>   stderr
 *                   X <id> e <code>\n       ended: exited with code
 *                   X <id> s <signal>\n     ended: killed by signal number
 *                   F <id> <len>\n<message> could not start (chdir or exec failed)
 *                   H\n                     first, once: ready (a python too old to run it exits before)
 * When rbuild exits, the helper reads end-of-file and exits too; tasks still
 * running are left as they would be by a direct spawn.
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { existsSync } from "node:fs";
import { constants as osConstants } from "node:os";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { onPath } from "@rbuild/core";
import type { SpawnResult } from "./spawn-group.js";

/**
 * The helper's source, helper/process_helper.py of this package: one level
 * up from this module, compiled (dist/) or not (src/), and from the bundled
 * CLI (its build copies it to cli/helper/).
 */
export const HELPER_SCRIPT = fileURLToPath(new URL("../helper/process_helper.py", import.meta.url));

export interface LaunchRequest {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Called once it has started, with its pid (its process group's id). */
  readonly onStart: (pid: number) => void;
  readonly onStdout: (chunk: Buffer) => void;
  readonly onStderr: (chunk: Buffer) => void;
}

interface InFlight {
  readonly request: LaunchRequest;
  readonly done: (end: SpawnResult | undefined) => void;
}

const SIGNAL_NAMES = new Map(Object.entries(osConstants.signals).map(([name, number]) => [number, name]));

/**
 * The system's python3 on Linux. Not the first on PATH: that is often a
 * version manager's shim, a shell script that takes 100-200 ms to start
 * the interpreter (the system's starts in about 15 ms with -I -S).
 */
function systemPython(): string | undefined {
  return process.platform === "linux" ? onPath("python3", { PATH: "/usr/bin:/usr/local/bin" }) : undefined;
}

/** One helper process and the tasks it runs. Its owner (a LocalRunner) starts it and keeps it. */
export class ProcessHelper {
  readonly #child: ChildProcessByStdio<Writable, Readable, Readable>;
  readonly #inFlight = new Map<number, InFlight>();
  #nextId = 1;
  #pending: Buffer = Buffer.alloc(0);
  #stderr = "";
  #dead: string | undefined;
  /** Whether it said it is ready (H): one that stops before cannot run here, and its commands start directly. */
  #ready = false;

  private constructor(python: string, script: string) {
    // Its own session: a Ctrl-C at the terminal reaches rbuild, which stops tasks itself.
    this.#child = spawn(python, ["-I", "-S", script], { stdio: ["pipe", "pipe", "pipe"], detached: true, env: {} });
    this.#child.stdout.on("data", (chunk: Buffer) => this.#receive(chunk));
    this.#child.stderr.on("data", (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-2000);
    });
    this.#child.stdin.on("error", () => {}); // The helper died: "exit" says so.
    this.#child.on("error", (error) => this.#die(error.message));
    this.#child.on("exit", (code, signal) => this.#die(`it exited (${signal ?? `code ${code}`})`));
    this.#idle();
  }

  /**
   * A new helper, or undefined where it cannot run: not Linux, or no system
   * python3. A missing script is a broken installation, not a platform
   * without the helper: that throws.
   */
  static start(script: string = HELPER_SCRIPT): ProcessHelper | undefined {
    const python = systemPython();
    if (python === undefined) return undefined;
    if (!existsSync(script)) throw new Error(`rbuild's process helper ${script} is missing: reinstall rbuild (or set RBUILD_SPAWN=direct).`);
    return new ProcessHelper(python, script);
  }

  /** The helper's process id (tests stop it to see how its death is reported). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Whether it has stopped: commands given to it now fail at once. */
  get dead(): boolean {
    return this.#dead !== undefined;
  }

  /** Whether it stopped before it was ready: it cannot run here (its commands were started directly). */
  get unavailable(): boolean {
    return this.#dead !== undefined && !this.#ready;
  }

  /**
   * Runs `file` with `args`; resolves when it has ended and its output is all
   * delivered, or with undefined when the helper turned out not to run here
   * (nothing was started: start it directly instead).
   */
  launch(request: LaunchRequest): Promise<SpawnResult | undefined> {
    if (this.#dead !== undefined) return Promise.resolve(this.#ready ? { kind: "error", message: this.#deadMessage() } : undefined);
    const id = this.#nextId++;
    // The umask of rbuild now, not when the helper started: the daemon takes on each client's.
    const fields = [request.cwd, process.umask().toString(8), String(request.args.length + 1), request.file, ...request.args];
    for (const [name, value] of Object.entries(request.env)) fields.push(`${name}=${value}`);
    // As spawn() itself refuses them: a NUL would shift every field after it.
    if (fields.some((field) => field.includes("\0"))) return Promise.resolve({ kind: "error", message: "its command, arguments or environment hold a NUL byte" });
    const payload = fields.join("\0");
    return new Promise((resolve) => {
      if (this.#inFlight.size === 0) this.#busy();
      this.#inFlight.set(id, { request, done: resolve });
      this.#child.stdin.write(`R ${id} ${Buffer.byteLength(payload)}\n${payload}`);
    });
  }

  /** Stops the helper (tasks it started are left running, as rbuild's exit leaves them). */
  close(): void {
    this.#child.stdin.end();
  }

  /** Parses frames: a header line, and for O, E and F that many bytes after it. */
  #receive(chunk: Buffer): void {
    let data = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    while (true) {
      const newline = data.indexOf(0x0a);
      if (newline < 0) break;
      const header = data.toString("latin1", 0, newline).split(" ");
      const [op, idText] = header;
      if (op === "H") {
        this.#ready = true;
        data = data.subarray(newline + 1);
        continue;
      }
      const id = Number(idText);
      const flight = this.#inFlight.get(id);
      if (op === "O" || op === "E" || op === "F") {
        const length = Number(header[2]);
        if (data.length < newline + 1 + length) break;
        const bytes = data.subarray(newline + 1, newline + 1 + length);
        data = data.subarray(newline + 1 + length);
        if (flight === undefined) continue;
        if (op === "O") flight.request.onStdout(Buffer.from(bytes));
        else if (op === "E") flight.request.onStderr(Buffer.from(bytes));
        else this.#end(id, { kind: "error", message: bytes.toString() });
        continue;
      }
      data = data.subarray(newline + 1);
      if (flight === undefined) continue;
      if (op === "S") flight.request.onStart(Number(header[2]));
      else if (op === "X" && header[2] === "e") this.#end(id, { kind: "exited", exitCode: Number(header[3]) });
      else if (op === "X") this.#end(id, { kind: "signaled", signal: SIGNAL_NAMES.get(Number(header[3])) ?? `signal ${header[3]}` });
    }
    this.#pending = data; // What is left of a frame: part of this chunk (never reused by the stream) or of the concatenation.
  }

  #end(id: number, end: SpawnResult | undefined): void {
    const flight = this.#inFlight.get(id);
    if (flight === undefined) return;
    this.#inFlight.delete(id);
    if (this.#inFlight.size === 0) this.#idle();
    flight.done(end);
  }

  #deadMessage(): string {
    const said = this.#stderr.trim();
    return `rbuild's process helper stopped: ${this.#dead}${said === "" ? "" : `: ${said}`}. Set RBUILD_SPAWN=direct to start tasks without it.`;
  }

  #die(why: string): void {
    if (this.#dead !== undefined) return;
    this.#dead = why;
    const end = this.#ready ? ({ kind: "error", message: this.#deadMessage() } as const) : undefined;
    for (const id of [...this.#inFlight.keys()]) this.#end(id, end);
  }

  /** While tasks run, the helper keeps rbuild alive; idle, it must not keep it from exiting. */
  #busy(): void {
    this.#child.ref();
    (this.#child.stdout as unknown as { ref(): void }).ref();
  }

  #idle(): void {
    this.#child.unref();
    for (const stream of [this.#child.stdin, this.#child.stdout, this.#child.stderr] as unknown as { unref?: () => void }[]) stream.unref?.();
  }
}
