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
 *                   P\n                     ping: answer P\n
 *   from it:        S <id> <pid> <start>\n  started (pid = process group id; start, its start time,
 *                                           field 22 of /proc/<pid>/stat, read before the helper
 *                                           can reap it; without /proc, no start field)
 *                   O <id> <len>\n<bytes>   stdout
 *                   E <id> <len>\n<bytes>   stderr
 *                   X <id> e <code>\n       ended: exited with code
 *                   X <id> s <signal>\n     ended: killed by signal number
 *                   F <id> <len>\n<message> could not start (chdir or exec failed, out of file
 *                                           descriptors, an empty argv or variable name): that
 *                                           request fails, the helper goes on
 *                   P\n                     the answer to a ping
 *                   H\n                     first, once: ready (a python too old to run it exits before)
 * Started with `sandbox`, the helper first gives itself a network namespace
 * with only loopback and a sandbox's /dev (process_helper.py `--sandbox`);
 * one that cannot ends before it says H, and is `unavailable`.
 *
 * When rbuild is gone (killed, or it closed the helper), the helper reads
 * end-of-file: it stops the process groups of the tasks still running
 * (SIGTERM, SIGKILL after KILL_GRACE_MS, as rbuild stops them) and exits.
 * A task left running would write into the next build's outputs.
 *
 * Losing the helper. It is lost when it dies, or when rbuild kills it: it
 * said nothing for ANSWER_MS while it owed an answer (to a request; after an
 * interrupt, of a task's end once its group had time to stop; to a ping), or
 * the build was interrupted while it is stopped (SIGSTOP), when it would never
 * answer. While tasks run through it and it has said nothing for PING_MS, it
 * is pinged: a helper stopped while its tasks run (or stuck) is lost too,
 * rather than a build that waits for it forever.
 * Then:
 * - a task it said it started (S) and had not reported ended is `lost`: the
 *   caller stops its process group and fails the task, saying so;
 * - a request it had not answered may have started or not. Before rbuild
 *   kills a helper it lists its children: with none that no S frame named,
 *   such requests start directly; else those children are killed and the
 *   requests are lost too. A helper that died by itself cannot be asked, so
 *   they are lost (what it may have started then is left running);
 * - whatever comes after starts directly.
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { existsSync } from "node:fs";
import { constants as osConstants } from "node:os";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { onPath } from "@rbuild/core";
import { childrenOf, isStopped } from "./process-table.js";
import { KILL_GRACE_MS, type SpawnResult } from "./spawn-group.js";

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
  /** Aborted when it is to stop (its caller signals its group): its end is then due soon. */
  readonly signal: AbortSignal;
  /** Called once it has started, with its pid (its process group's id) and its start time as /proc gives it, if known. */
  readonly onStart: (pid: number, startTime: string | undefined) => void;
  readonly onStdout: (chunk: Buffer) => void;
  readonly onStderr: (chunk: Buffer) => void;
}

/** How long after the helper exited its output may take to end. */
const CLOSE_AFTER_EXIT_MS = 1000;

/** How long the helper may say nothing at all while it owes an answer before rbuild gives up on it. */
export const ANSWER_MS = 5000;

/** How long the helper may say nothing while tasks run through it before it is pinged (and then owes an answer). */
const PING_MS = 1000;

interface InFlight {
  readonly request: LaunchRequest;
  readonly done: (end: SpawnResult | undefined) => void;
  readonly onAbort: () => void;
  /** Its process group, once the helper said it started. */
  pid: number | undefined;
  /** When the helper owes word of it by (that it started or not; after an abort, that it ended), if it does. */
  due: number | undefined;
}

/**
 * starting: not ready yet (one that stops now cannot run here); ready;
 * dropping: rbuild killed it and reads what it said last; dead: `how` it ended.
 */
type HelperState =
  | { readonly kind: "starting" }
  | { readonly kind: "ready" }
  /** `unknown`: its children when it was killed that no S frame named (yet). */
  | { readonly kind: "dropping"; readonly why: string; readonly wasReady: boolean; readonly unknown: readonly number[] }
  | { readonly kind: "dead"; readonly how: string; readonly wasReady: boolean; readonly dropped: boolean };

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
  #state: HelperState = { kind: "starting" };
  /** How it exited, once it has; it is dead once its output is read to the end too. */
  #exit: string | undefined;
  /** When it last said anything. */
  #heard = Date.now();
  /** Armed while tasks run through it. */
  #watchdog: NodeJS.Timeout | undefined;
  /** When the answer to the ping it was sent is due by, until it answers. */
  #pinged: number | undefined;

  /** Whether it runs in the sandbox's namespaces (`--sandbox`, see process_helper.py): only for sandboxed commands without a network. */
  readonly sandbox: boolean;

  private constructor(python: string, script: string, sandbox: boolean) {
    this.sandbox = sandbox;
    // Its own session: a Ctrl-C at the terminal reaches rbuild, which stops tasks itself.
    this.#child = spawn(python, ["-I", "-S", script, ...(sandbox ? ["--sandbox"] : [])], { stdio: ["pipe", "pipe", "pipe"], detached: true, env: {} });
    this.#child.stdout.on("data", (chunk: Buffer) => this.#receive(chunk));
    this.#child.stderr.on("data", (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-2000);
    });
    this.#child.stdin.on("error", () => {}); // The helper died: "close" says so.
    this.#child.on("error", (error) => {
      if (this.#child.pid === undefined) this.#die(`could not start (${error.message})`);
    });
    this.#child.on("exit", (code, signal) => {
      this.#exit = signal === null ? `exited with code ${code}` : `exited with signal ${signal}`;
      // Its output may be held open by a process it left with it (none should be): do not wait for that.
      setTimeout(() => this.#die(this.#exit!), CLOSE_AFTER_EXIT_MS).unref();
    });
    // Dead once what it wrote before it ended is read: an S frame in it is a process to stop.
    this.#child.on("close", () => this.#die(this.#exit ?? "exited"));
    this.#idle();
  }

  /**
   * A new helper, or undefined where it cannot run: not Linux, or no system
   * python3. A missing script is a broken installation, not a platform
   * without the helper: that throws.
   */
  static start(script: string = HELPER_SCRIPT, options: { readonly sandbox?: boolean } = {}): ProcessHelper | undefined {
    const python = systemPython();
    if (python === undefined) return undefined;
    if (!existsSync(script)) throw new Error(`rbuild's process helper ${script} is missing: reinstall rbuild (or set RBUILD_SPAWN=direct).`);
    return new ProcessHelper(python, script, options.sandbox === true);
  }

  /** The helper's process id. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Whether it has stopped: commands given to it now start directly. */
  get dead(): boolean {
    return this.#state.kind === "dead";
  }

  /** Whether it stopped by itself before it was ready: it cannot run here. */
  get unavailable(): boolean {
    return this.#state.kind === "dead" && !this.#state.wasReady && !this.#state.dropped;
  }

  /** How it was lost after it ran ("exited with signal SIGKILL"), if it was. */
  get lost(): string | undefined {
    return this.#state.kind === "dead" && !this.unavailable ? this.#state.how : undefined;
  }

  /**
   * Runs `file` with `args`; resolves when it has ended and its output is all
   * delivered, with `lost` when the helper was lost while it ran, or with
   * undefined when the helper did not start it (it cannot run here, or was
   * lost first): start it directly instead.
   */
  launch(request: LaunchRequest): Promise<SpawnResult | undefined> {
    if (this.#state.kind === "dead" || this.#state.kind === "dropping") return Promise.resolve(undefined);
    const id = this.#nextId++;
    // The umask of rbuild now, not when the helper started: the daemon takes on each client's.
    const fields = [request.cwd, process.umask().toString(8), String(request.args.length + 1), request.file, ...request.args];
    for (const [name, value] of Object.entries(request.env)) fields.push(`${name}=${value}`);
    // As spawn() itself refuses them: a NUL would shift every field after it.
    if (fields.some((field) => field.includes("\0"))) return Promise.resolve({ kind: "error", message: "its command, arguments or environment hold a NUL byte" });
    const payload = fields.join("\0");
    return new Promise((resolve) => {
      if (this.#inFlight.size === 0) this.#busy();
      const flight: InFlight = { request, done: resolve, onAbort: () => this.#aborted(flight), pid: undefined, due: Date.now() + ANSWER_MS };
      this.#inFlight.set(id, flight);
      request.signal.addEventListener("abort", flight.onAbort, { once: true });
      this.#child.stdin.write(`R ${id} ${Buffer.byteLength(payload)}\n${payload}`);
      this.#watch();
    });
  }

  /** Stops the helper: it stops the tasks it still runs, and exits. */
  close(): void {
    this.#child.stdin.end();
  }

  /** Parses frames: a header line, and for O, E and F that many bytes after it. */
  #receive(chunk: Buffer): void {
    this.#heard = Date.now();
    let data = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    while (true) {
      const newline = data.indexOf(0x0a);
      if (newline < 0) break;
      const header = data.toString("latin1", 0, newline).split(" ");
      const [op, idText] = header;
      if (op === "H" || op === "P") {
        if (op === "H" && this.#state.kind === "starting") this.#state = { kind: "ready" };
        if (op === "P") this.#pinged = undefined;
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
      if (op === "S") this.#started(flight, Number(header[2]), header[3]);
      else if (op === "X" && header[2] === "e") this.#end(id, { kind: "exited", exitCode: Number(header[3]) });
      else if (op === "X") this.#end(id, { kind: "signaled", signal: SIGNAL_NAMES.get(Number(header[3])) ?? `signal ${header[3]}` });
    }
    this.#pending = data; // What is left of a frame: part of this chunk (never reused by the stream) or of the concatenation.
  }

  #started(flight: InFlight, pid: number, startTime: string | undefined): void {
    flight.pid = pid;
    // Stopped before it started, its end is due once its group had time to stop.
    flight.due = flight.request.signal.aborted ? Date.now() + KILL_GRACE_MS + ANSWER_MS : undefined;
    flight.request.onStart(pid, startTime);
  }

  #end(id: number, end: SpawnResult | undefined): void {
    const flight = this.#inFlight.get(id);
    if (flight === undefined) return;
    this.#inFlight.delete(id);
    flight.request.signal.removeEventListener("abort", flight.onAbort);
    if (this.#inFlight.size === 0) this.#idle();
    flight.done(end);
  }

  /**
   * Its task is to stop. A stopped helper would never say it ended: kill it
   * now. Else its end is due once its group had time to stop (SIGTERM, then
   * SIGKILL after the grace period).
   */
  #aborted(flight: InFlight): void {
    if (isStopped(this.#child.pid)) {
      this.#drop("was stopped (SIGSTOP) when the build was interrupted, so rbuild killed it");
      return;
    }
    flight.due ??= Date.now() + KILL_GRACE_MS + ANSWER_MS;
    this.#watch();
  }

  /**
   * Arms the watchdog, while tasks run through the helper, if it is not: it
   * fires at the first answer due (or ANSWER_MS after the helper last said
   * anything, if later), or with none due, PING_MS after the helper last said
   * anything, and then looks again. One armed earlier may fire up to the
   * grace period late for an answer due sooner: that keeps a launch from
   * scanning every task in flight.
   */
  #watch(): void {
    if (this.#watchdog !== undefined || (this.#state.kind !== "ready" && this.#state.kind !== "starting") || this.#inFlight.size === 0) return;
    let due = this.#pinged ?? Infinity;
    for (const flight of this.#inFlight.values()) if (flight.due !== undefined && flight.due < due) due = flight.due;
    const at = due === Infinity ? this.#heard + PING_MS : Math.max(due, this.#heard + ANSWER_MS);
    // A timer runs before the I/O of the same turn: after a busy main thread, read what the helper said first.
    this.#watchdog = setTimeout(() => setImmediate(() => this.#check()), Math.max(0, at - Date.now()));
    this.#watchdog.unref();
  }

  #check(): void {
    this.#watchdog = undefined;
    const now = Date.now();
    const flights = [...this.#inFlight.values()];
    const overdue = (this.#pinged !== undefined && this.#pinged <= now) || flights.some((flight) => flight.due !== undefined && flight.due <= now);
    if (overdue && now - this.#heard >= ANSWER_MS) {
      this.#drop(`did not answer for ${ANSWER_MS / 1000} s, so rbuild stopped it`);
      return;
    }
    // Tasks run and it owes nothing: ask whether it still answers (a stopped helper would leave them unreported).
    const owes = this.#pinged !== undefined || flights.some((flight) => flight.due !== undefined);
    if (!owes && flights.length > 0 && now - this.#heard >= PING_MS && this.#state.kind === "ready") {
      this.#pinged = now + ANSWER_MS;
      this.#child.stdin.write("P\n");
    }
    this.#watch();
  }

  /** Gives up on the helper: kills it (SIGKILL stops a stopped process too); "close" then ends what it ran. */
  #drop(why: string): void {
    if (this.#state.kind !== "ready" && this.#state.kind !== "starting") return;
    const known = new Set([...this.#inFlight.values()].map((flight) => flight.pid));
    const unknown = childrenOf(this.#child.pid).filter((pid) => !known.has(pid));
    this.#state = { kind: "dropping", why, wasReady: this.#state.kind === "ready", unknown };
    this.#child.kill("SIGKILL");
  }

  #die(exited: string): void {
    const state = this.#state;
    if (state.kind === "dead") return;
    clearTimeout(this.#watchdog);
    const said = this.#stderr.trim().split("\n").at(-1) ?? "";
    const how = state.kind === "dropping" ? state.why : `${exited}${said === "" ? "" : ` (it said: ${said})`}`;
    const wasReady = state.kind === "ready" || (state.kind === "dropping" && state.wasReady);
    this.#state = { kind: "dead", how, wasReady, dropped: state.kind === "dropping" };
    const flights = [...this.#inFlight];
    // Children of a killed helper that no S frame named, even in what it wrote last: started for a request not answered.
    const named = new Set(flights.map(([, flight]) => flight.pid));
    const unknown = state.kind === "dropping" ? state.unknown.filter((pid) => !named.has(pid)) : [];
    for (const pid of unknown) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
    // Unanswered requests start directly where nothing can have started for them: a helper never ready, or one killed with no unknown children.
    const startDirectly = !wasReady || (state.kind === "dropping" && unknown.length === 0);
    const helper = this.#child.pid ?? 0;
    for (const [id, flight] of flights) {
      if (flight.pid !== undefined) this.#end(id, { kind: "lost", helper, how, started: true });
      else this.#end(id, startDirectly ? undefined : { kind: "lost", helper, how, started: false });
    }
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
