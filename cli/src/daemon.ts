/**
 * The rbuild daemon: one resident rbuild per workspace that runs builds for
 * the `rbuild` command, so a build does not pay for starting Node and loading
 * rbuild, which is most of a no-op build's time (Bazel's server, the Nx and
 * Turborepo daemons do the same).
 *
 * It changes nothing about what a build does. Each build is the one a new
 * process would run: the client's arguments, environment, working directory
 * and umask; the Buildfile loaded again; the freshness record, index and build lock
 * checked as always. Nothing is remembered between builds that a new process
 * would not read from disk, so a daemon that misses a change cannot exist.
 * What it saves is start-up and a warm JIT.
 *
 * Lifecycle: a build rbuild ran itself starts the daemon (daemon-start.ts);
 * it listens on `.rbuild/daemon.sock` (mode 0600: only this user) and logs to
 * `.rbuild/daemon.log` (the previous daemon's log is kept as `daemon.log.1`).
 * It exits after three idle hours, after 500 builds or once its memory grew
 * past its limit (see MEMORY_LIMIT), when its socket is removed
 * or replaced (`rbuild clean --cache`), when rbuild is rebuilt or upgraded,
 * and after serving a Buildfile that imports npm packages (their modules
 * would be stale the next time). One build at a time: a client arriving
 * while one runs is told to run rbuild itself (the build lock orders them).
 * Besides builds it answers `rbuild history`, `errors` and `show` (they only
 * read the index; see daemon-query.ts), one at a time as builds are.
 *
 * Protocol (the client is bin/rbuild): the client sends one request, a u32
 * big-endian length and NUL-separated fields:
 *   "rbuild-daemon-1", the client's bin directory, cwd, "1 <columns>x<rows>"
 *   if stdout is a terminal (or "1" if its size is unknown) else "0", umask
 *   (decimal), argc, the arguments, then NAME=value for each environment variable.
 * then a byte "I" for each interrupt (Ctrl-C, SIGTERM, SIGHUP) it receives,
 * and "W<columns>,<rows>;" when its terminal is resized (see client-input.ts):
 * the terminal UI runs in the daemon and draws for the client's terminal.
 * The daemon answers with frames of a type byte, a u32 big-endian length and
 * the payload: "A" (empty) as soon as it takes the build, then "O" stdout
 * bytes, "E" stderr bytes, "K" (empty) every KEEPALIVE_MS whatever the build
 * prints, then "X" with the exit status in decimal; or, instead of "A", "D"
 * (with the reason): run rbuild yourself. A client that goes away interrupts
 * its build. A client that has no answer within a few seconds (a daemon
 * stopped with SIGSTOP, or hung) runs the build itself; one whose daemon goes
 * silent during the build (no frame for a few KEEPALIVE_MS, though its tasks
 * may print nothing for minutes) says so, and Ctrl-C ends it at once.
 */
import { realpathSync, statSync, unlinkSync, type Stats } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { dirname, join, resolve } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Engine } from "@rbuild/executor";
import { KILL_GRACE_MS } from "@rbuild/runners";
import { StrayErrors } from "@rbuild/core";
import { findBuildfile, plan } from "@rbuild/planner";
import { parseCommandLine, type Args } from "./args.js";
import { ClientInput, requestSize } from "./client-input.js";
import { isQuery, runQuery, type QueryCommand } from "./daemon-query.js";
import { daemonAnswers, daemonCanServe, daemonWanted, DAEMON_LOG, DAEMON_SOCKET } from "./daemon-start.js";
import { phasesReport, phasesWanted, startPhases } from "./phases.js";
import { runBuild, type RunEnd } from "./run-command.js";
import type { Terminal } from "./terminal.js";
import { apiModule, cacheDirFor, openWorkspace, type Workspace } from "./workspace.js";

const PROTOCOL = "rbuild-daemon-1";
const IDLE_MS = 3 * 60 * 60 * 1000;
const MAX_BUILDS = 500;
/**
 * What bounds the daemon's memory: a build (or a warm-up round) that leaves it
 * larger (RSS) than this many times its size before it first evaluated the
 * Buildfile, 512 MiB at least and 1 GiB at most, is its last. Each build
 * evaluates the Buildfile as a new ES module (it must be run again: it may
 * read files), and Node never frees a module: its source, its source map and
 * whatever its top level holds (every task it declared) stay, some 2.5 MB a
 * build for a Buildfile of 1,000 tasks (measured with heap snapshots).
 * Evaluated as a vm.SourceTextModule instead (which needs
 * --experimental-vm-modules), it still grew by about a third of that in Node 20.
 *
 * The size it starts from is taken before any evaluation: one taken after the
 * first build counted the warm-up's evaluations too, so a Buildfile that holds
 * much at its top level raised its own limit (a daemon grew to 3.8 GB). And
 * the bound is absolute: whatever the start, a daemon never stays past 1 GiB.
 */
const MEMORY_LIMIT = { times: 3, floorMiB: 512, capMiB: 1024 } as const;
const MiB = 1024 * 1024;
const CHECK_EVERY_MS = 2000;
/** How often a build's client is told that the daemon is alive ("K"; bin/rbuild reads silence as stopped or hung). */
const KEEPALIVE_MS = 1000;
/**
 * What Node reads only as it starts: the certificates that tasks and an https
 * remote trust, and Node's options. A client that sets them otherwise than the
 * daemon started with gets a Node of its own, which trusts what it would.
 */
const READ_AT_START = ["NODE_EXTRA_CA_CERTS", "NODE_OPTIONS"] as const;

/**
 * A scavenge of the young generation, run after a build is recorded, while
 * the daemon waits: the next build starts with the young generation empty
 * (see DAEMON_SEMI_SPACE_MB). Undefined where V8 does not offer it.
 */
const collectYoungGeneration = ((): (() => void) | undefined => {
  try {
    setFlagsFromString("--expose-gc");
    // From a context of its own: the daemon's global (which a Buildfile sees) gets no `gc`.
    const gc = runInNewContext("gc") as (options: { type: "minor" | "major" }) => void;
    return () => gc({ type: "minor" });
  } catch {
    return undefined;
  }
})();

/**
 * How long a build may take to end after an interrupt before the daemon gives
 * up on it: longer than a task's command has after SIGTERM (KILL_GRACE_MS,
 * then SIGKILL), so that only what ignores the interrupt outlasts it: a
 * Buildfile whose top-level code never finishes, a task function that does
 * not watch its signal (the executor gives up on it later, but it goes on in
 * the daemon). Then the client gets 130 with a line saying what did not stop,
 * and the daemon exits: what still runs in it is not to be trusted. Its
 * process helper, at the end of its input, stops the commands it ran.
 */
const STOP_WITHIN_MS = KILL_GRACE_MS + 1000;

/** The line that says what did not stop within STOP_WITHIN_MS of an interrupt (see there), and what follows. */
function notStoppedLine(buildStarted: boolean, functions: readonly string[]): string {
  const within = `within ${STOP_WITHIN_MS / 1000}s of the interrupt`;
  const tasks = `${functions.length === 1 ? "task" : "tasks"} ${functions.map((name) => JSON.stringify(name)).join(", ")}`;
  const what = !buildStarted
    ? `loading the Buildfile did not stop ${within} (does its top-level code await something that never settles?)`
    : functions.length > 0
      ? `${tasks} did not stop ${within} (a task function must end once its context's \`signal\` is aborted)`
      : `the build did not stop ${within}`;
  return `rbuild: ${what}; the rbuild daemon (pid ${process.pid}) exits with it, and the next rbuild starts a new one\n`;
}

/** How long after a build its freshness record waits for the next build before it is written. */
const RECORD_WRITE_AFTER_MS = 200;
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;
const WARM_UP_ROUNDS = 8;

interface Request {
  readonly binDir: string;
  readonly cwd: string;
  readonly stdoutIsTTY: boolean;
  /** The client's terminal size, when stdout is a terminal. */
  readonly size: { columns: number; rows: number } | undefined;
  readonly umask: number;
  readonly argv: readonly string[];
  readonly env: Record<string, string>;
}

/** The request in `payload`, or undefined if it is not one this daemon understands. */
function parseRequest(payload: Buffer): Request | undefined {
  const [tag, binDir, cwd, tty, umask, argc, ...rest] = payload.toString("utf8").split("\0");
  const count = Number(argc);
  if (tag !== PROTOCOL || binDir === undefined || cwd === undefined || !/^\d+$/.test(umask ?? "") || !Number.isInteger(count) || rest.length < count) {
    return undefined;
  }
  const env: Record<string, string> = {};
  for (const entry of rest.slice(count)) {
    const equals = entry.indexOf("=");
    if (equals > 0) env[entry.slice(0, equals)] = entry.slice(equals + 1);
  }
  return { binDir, cwd, stdoutIsTTY: tty === "1" || tty?.startsWith("1 ") === true, size: requestSize(tty ?? ""), umask: Number(umask), argv: rest.slice(0, count), env };
}

function frame(type: "A" | "O" | "E" | "K" | "X" | "D", payload: string | Buffer): Buffer {
  const bytes = typeof payload === "string" ? Buffer.from(payload) : payload;
  const out = Buffer.allocUnsafe(5 + bytes.length);
  out.write(type, 0, "latin1");
  out.writeUInt32BE(bytes.length, 1);
  bytes.copy(out, 5);
  return out;
}

const sameFile = (a: Stats | undefined, b: Stats | undefined): boolean =>
  a !== undefined && b !== undefined && a.ino === b.ino && a.dev === b.dev && a.mtimeMs === b.mtimeMs && a.size === b.size;

const statOf = (path: string): Stats | undefined => statSync(path, { throwIfNoEntry: false });

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString()} [${process.pid}] ${message}\n`);
}

class Daemon {
  readonly #root: string;
  readonly #cacheDir: string;
  readonly #socketPath: string;
  readonly #server: Server;
  /** The bundled CLI this daemon runs: a rebuilt or upgraded rbuild means a new daemon. */
  readonly #bundle: string;
  readonly #bundleStat: Stats | undefined;
  readonly #binDir: string;
  readonly #startEnv = READ_AT_START.map((name) => process.env[name]);
  /** Its builds' user code throws here what nothing awaits; what no running task takes ends the daemon. */
  readonly #strays = new StrayErrors((error, late) => {
    log(`${late === undefined ? "internal error" : `error thrown by ${late.label} after it had finished`}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    this.#shutdown("an error no build could take");
  });
  /**
   * Runs every build: its process helper, freshness records, stat thread and index keeper
   * live as long as the daemon (set RBUILD_SPAWN means no daemon). Made in `start`.
   */
  #engine: Engine | undefined;
  #socketStat: Stats | undefined;
  #busy = false;
  #builds = 0;
  /** In bytes, set as it starts, before it evaluates the Buildfile (see MEMORY_LIMIT). */
  #memoryLimit = MEMORY_LIMIT.capMiB * MiB;
  #accepted = 0;
  /** The warm-up round under way, if any (see warmUp). */
  #warming: Promise<void> | undefined;
  #closing = false;
  #idle: NodeJS.Timeout | undefined;
  /** Writes the last builds' freshness records once no build follows them for a moment (see Engine.idle). */
  #recordWrite: NodeJS.Timeout | undefined;

  constructor(root: string) {
    this.#root = root;
    this.#cacheDir = join(root, ".rbuild");
    this.#socketPath = join(this.#cacheDir, DAEMON_SOCKET);
    this.#bundle = apiModule();
    this.#bundleStat = statOf(this.#bundle);
    this.#binDir = realpathSync(resolve(dirname(this.#bundle), "../bin"));
    this.#server = createServer((socket) => this.#accept(socket));
  }

  async start(): Promise<boolean> {
    // Bound by a path relative to the cache directory: a socket's absolute path may be too long to bind.
    process.chdir(this.#cacheDir);
    process.umask(0o077);
    const listen = (): Promise<NodeJS.ErrnoException | undefined> =>
      new Promise((done) => {
        this.#server.once("error", done);
        this.#server.listen(DAEMON_SOCKET, () => {
          this.#server.off("error", done);
          done(undefined);
        });
      });
    let error = await listen();
    if (error?.code === "EADDRINUSE") {
      if (await daemonAnswers(this.#socketPath)) {
        log("another daemon serves this workspace; exiting");
        return false;
      }
      unlinkSync(this.#socketPath); // Left by a daemon that was killed.
      error = await listen();
    }
    if (error !== undefined) throw error;
    this.#socketStat = statOf(this.#socketPath);
    // A resident engine: a thread for the freshness record's stats, one that holds the index open and checkpoints
    // it, and records written when it is idle (its own next build reads them from memory).
    this.#engine = new Engine({ strays: this.#strays, resident: true });
    const size = process.memoryUsage.rss();
    this.#memoryLimit = Math.min(Math.max(MEMORY_LIMIT.times * size, MEMORY_LIMIT.floorMiB * MiB), MEMORY_LIMIT.capMiB * MiB);
    setInterval(() => this.#check(), CHECK_EVERY_MS).unref();
    this.#resetIdle();
    log(`serving ${this.#root} (${Math.round(size / MiB)} MiB; memory limit ${Math.round(this.#memoryLimit / MiB)} MiB)`);
    return true;
  }

  /**
   * Checks whether `targets` are up to date a few times, as a no-op build
   * would but reading only, so that the next build finds the code it runs
   * compiled and the heap grown. Stops as soon as a client arrives.
   */
  async warmUp(targets: readonly string[]): Promise<void> {
    const started = performance.now();
    let rounds = 0;
    const round = async (): Promise<boolean> => {
      const workspace = await openWorkspace(undefined, process.env, { from: this.#root, strays: this.#strays });
      if (!workspace.ok || !daemonCanServe(workspace.value)) return false;
      const graph = plan(workspace.value.definitions, targets.length > 0 ? targets : ["default"]);
      if (!graph.ok) return false;
      this.#engine?.check(this.#cacheDir, graph.value, process.env);
      return true;
    };
    for (; rounds < WARM_UP_ROUNDS && this.#accepted === 0 && !this.#closing; rounds++) {
      await new Promise((resolve) => setImmediate(resolve));
      const going = round();
      this.#warming = going.then(() => {}, () => {});
      if (!(await going) || this.#overMemoryLimit()) break;
    }
    this.#warming = undefined;
    log(`warmed up in ${rounds} rounds, ${(performance.now() - started).toFixed(0)}ms`);
  }

  /** Shuts down when its memory is past its limit (see MEMORY_LIMIT); true if so. */
  #overMemoryLimit(): boolean {
    const memory = process.memoryUsage.rss();
    if (memory <= this.#memoryLimit) return false;
    this.#shutdown(
      `its memory grew to ${Math.round(memory / MiB)} MiB, over its limit of ${Math.round(this.#memoryLimit / MiB)} MiB ` +
        `(${MEMORY_LIMIT.times} times its size before it first evaluated the Buildfile, ${MEMORY_LIMIT.floorMiB} MiB at least, ${MEMORY_LIMIT.capMiB / 1024} GiB at most): ` +
        "each build evaluates the Buildfile as a new module, which Node never frees; the next build starts a new daemon",
    );
    return true;
  }

  #resetIdle(): void {
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => this.#shutdown("idle for three hours"), IDLE_MS);
  }

  /** Exits when its socket is gone or replaced, or rbuild changed under it. */
  #check(): void {
    if (!sameFile(statOf(this.#socketPath), this.#socketStat)) this.#shutdown("its socket was removed or replaced");
    else if (!sameFile(statOf(this.#bundle), this.#bundleStat)) this.#shutdown("rbuild was rebuilt or upgraded");
  }

  /**
   * Stops taking builds; the process ends when its last client has its answer
   * (or soon after, should something still hold it).
   */
  #shutdown(reason: string): void {
    if (this.#closing) return;
    this.#closing = true;
    log(`exiting: ${reason}`);
    clearTimeout(this.#idle);
    this.#server.close();
    if (sameFile(statOf(this.#socketPath), this.#socketStat)) {
      try {
        unlinkSync(this.#socketPath);
      } catch {
        // Gone already.
      }
    }
    if (!this.#busy) this.#exitSoon();
  }

  /** Exits in a while, having written its builds' freshness records. */
  #exitSoon(): void {
    clearTimeout(this.#recordWrite);
    this.#engine?.close();
    setTimeout(() => process.exit(0), 5000).unref();
  }

  /**
   * The build of `request` did not stop within STOP_WITHIN_MS of an
   * interrupt: its client is told `line` with status 130, and the daemon
   * exits now, without writing what it holds in memory (whatever still runs
   * in it may have changed it). Like a daemon that was killed: the next build
   * takes over its build lock and stops what it left running.
   */
  #abandon(socket: Socket, request: Request, line: string): void {
    log(`build ${this.#builds + 1}: ${request.argv.join(" ")} -> 130: ${line.replace(/^rbuild: /, "").trimEnd()}`);
    this.#shutdown("a build did not stop after an interrupt");
    clearTimeout(this.#recordWrite);
    const exit = (): never => process.exit(1);
    setTimeout(exit, 1000);
    if (!socket.writable) return void socket.destroy();
    socket.write(frame("E", line));
    socket.end(frame("X", "130"), () => {
      socket.destroy();
      exit();
    });
  }

  #accept(socket: Socket): void {
    this.#accepted++;
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      const length = received.readUInt32BE(0);
      if (length > MAX_REQUEST_BYTES) return void socket.destroy();
      if (received.length < 4 + length) return;
      socket.off("data", onData);
      const request = parseRequest(received.subarray(4, 4 + length));
      if (request === undefined) {
        socket.end(frame("D", "not a request this rbuild daemon understands"));
        return;
      }
      void this.#handle(socket, request, received.subarray(4 + length));
    };
    socket.on("data", onData);
    socket.on("error", () => {}); // A client that went away: "close" follows.
  }

  /** Why the client should run this build itself, or its parsed arguments. */
  #refusal(request: Request): string | Args {
    if (this.#closing) return "the daemon is exiting";
    if (this.#busy) return "the daemon is running another build";
    if (!sameFile(statOf(this.#bundle), this.#bundleStat)) {
      this.#shutdown("rbuild was rebuilt or upgraded");
      return "rbuild changed since the daemon started";
    }
    let binDir: string;
    try {
      binDir = realpathSync(request.binDir);
    } catch {
      return "the client's rbuild is not where it says";
    }
    if (binDir !== this.#binDir) return "the client is another installation of rbuild";
    if (!daemonWanted(request.env)) return "RBUILD_DAEMON is off";
    if (request.env.RBUILD_SPAWN !== undefined) return "RBUILD_SPAWN is set";
    const differs = READ_AT_START.find((name, i) => request.env[name] !== this.#startEnv[i]);
    if (differs !== undefined) return `${differs} is not what the daemon started with`;
    // `rbuild concourse ...` is a command of its own, which main.ts dispatches before the build's parser sees it.
    if (request.argv[0] === "concourse") return "only builds are run by the daemon";
    const args = parseCommandLine(request.argv, request.env);
    // Builds, and the commands that read their history (daemon-query.ts).
    if (!args.ok || (args.value.command !== "run" && !isQuery(args.value.command))) return "only builds and history queries are run by the daemon";
    // Undos after an interrupt may take longer than the daemon waits for an interrupted build (STOP_WITHIN_MS).
    if (args.value.executor !== undefined) return "--executor concourse builds run in a process of their own";
    if (args.value.undo === "failure-or-interrupt") return "--undo-on-interrupt builds run in a process of their own";
    const buildfile = findBuildfile(resolve(request.cwd, args.value.directory ?? "."));
    if (buildfile === undefined || dirname(buildfile) !== this.#root) return "the build is in another workspace";
    if (cacheDirFor(this.#root, request.env) !== this.#cacheDir) return "RBUILD_CACHE_DIR puts the cache elsewhere";
    return args.value;
  }

  async #handle(socket: Socket, request: Request, early: Buffer): Promise<void> {
    const started = performance.now();
    const args = this.#refusal(request);
    if (typeof args === "string") {
      socket.end(frame("D", args));
      return;
    }
    this.#busy = true;
    if (isQuery(args.command)) return this.#answer(socket, request, args as Args & { command: QueryCommand }, started);
    // Taken: the client waits for this build now, however long it stays quiet (see bin/rbuild).
    socket.write(frame("A", ""));
    // Until "X", or the client is gone: however quiet its tasks, the client hears from a daemon that runs.
    const keepalive = setInterval(() => socket.writable && socket.write(frame("K", "")), KEEPALIVE_MS);
    socket.once("close", () => clearInterval(keepalive));
    clearTimeout(this.#recordWrite);
    // Listened for from now: a warm-up round that never ends (its Buildfile's top-level await) is the build's to stop.
    const interrupts: (() => void)[] = [];
    let interrupted = false;
    // Armed by the first interrupt; fires if the build has not ended by then (see STOP_WITHIN_MS).
    let stopDeadline: NodeJS.Timeout | undefined;
    let abandoned = false;
    const abandon = (): void => {
      abandoned = true;
      // The build registers its handler once the Buildfile is loaded: none yet means it is still loading.
      this.#abandon(socket, request, notStoppedLine(interrupts.length > 0, this.#engine?.functionsRunning() ?? []));
    };
    const interrupt = (): void => {
      interrupted = true;
      for (const handler of interrupts) handler();
      stopDeadline ??= setTimeout(abandon, STOP_WITHIN_MS);
    };
    let size = request.size;
    const resizes = new Set<() => void>();
    const input = new ClientInput();
    const onInput = (chunk: Buffer): void => {
      for (const message of input.feed(chunk)) {
        if (message.type === "interrupt") interrupt();
        else {
          size = { columns: message.columns, rows: message.rows };
          for (const handler of resizes) handler();
        }
      }
    };
    onInput(early);
    socket.on("data", onInput);
    socket.on("close", interrupt);
    // A warm-up round loads the Buildfile too, and loads collect tasks in one place: never two at once.
    await this.#warming;
    if (abandoned) return;
    // A client that gave up waiting for its answer (a daemon stopped, then resumed; see bin/rbuild)
    // runs its build itself: running it here too would race it, for its summary file among others.
    const stopListening = (): void => {
      clearTimeout(stopDeadline);
      socket.off("data", onInput);
      socket.off("close", interrupt);
    };
    if (socket.destroyed || socket.readableEnded) {
      stopListening();
      this.#busy = false;
      log(`a client went away before its build started: ${request.argv.join(" ")}`);
      socket.destroy();
      return;
    }
    if (!adopt(request)) {
      stopListening();
      this.#busy = false;
      socket.end(frame("D", "the client's directory is gone"));
      return;
    }
    this.#resetIdle();
    // The freshness record's stats, on the helper thread while this one loads the Buildfile.
    if (!args.force && !args.dryRun) this.#engine?.prestat(this.#cacheDir, this.#root);
    const send = (type: "O" | "E" | "X", payload: string | Buffer): void => {
      if (socket.writable) socket.write(frame(type, payload));
    };
    // What runs once the client has its answer: recording the build in the store (see runBuild).
    const afterAnswer: (() => void)[] = [];
    const terminal: Terminal = {
      afterAnswer: (work) => void afterAnswer.push(work),
      stdout: { write: (text: string) => send("O", text) },
      stderr: { write: (text: string) => send("E", text) },
      stdoutIsTTY: request.stdoutIsTTY,
      size: () => size,
      onResize(handler) {
        resizes.add(handler);
        return () => void resizes.delete(handler);
      },
      env: process.env,
      cwd: request.cwd,
      onInterrupt(handler) {
        interrupts.push(handler);
        if (interrupted) handler();
        return () => interrupts.splice(interrupts.indexOf(handler) >>> 0, 1);
      },
    };
    startPhases(phasesWanted(request.env));
    let end: RunEnd | undefined;
    try {
      end = await runBuild(args, terminal, this.#strays, this.#engine);
    } catch (error) {
      send("E", `rbuild: internal error in the daemon (see ${join(this.#cacheDir, DAEMON_LOG)}): ${(error as Error).message}\n`);
      log(`internal error: ${(error as Error).stack ?? String(error)}`);
    }
    clearTimeout(stopDeadline);
    // Given up on: the client has its answer, and the daemon is on its way out.
    if (abandoned) return;
    const report = phasesReport();
    if (report !== undefined) send("E", report);
    this.#builds++;
    // Logged before the client has its answer: whoever reads the log after the client exits sees it.
    log(`build ${this.#builds}: ${request.argv.join(" ")} -> ${end?.exitCode ?? "internal error"} in ${(performance.now() - started).toFixed(0)}ms`);
    clearInterval(keepalive);
    send("X", String(end?.exitCode ?? 1));
    stopListening();
    socket.end();
    // Before the next build: it reads what this records, under the lock this releases.
    for (const work of afterAnswer) {
      try {
        work();
      } catch (error) {
        log(`recording build ${this.#builds} failed: ${(error as Error).stack ?? String(error)}`);
      }
    }
    collectYoungGeneration?.();
    this.#busy = false;
    try {
      process.chdir(this.#cacheDir);
    } catch {
      // Removed: the next check notices its socket went with it.
    }
    if (end === undefined) this.#shutdown("internal error");
    else if (end.workspace !== undefined && !daemonCanServe(end.workspace)) this.#shutdown("the Buildfile imports npm packages or puts the cache elsewhere");
    else if (this.#builds >= MAX_BUILDS) this.#shutdown(`served ${MAX_BUILDS} builds`);
    else this.#overMemoryLimit();
    if (this.#closing) this.#exitSoon();
    else this.#recordWrite = setTimeout(() => this.#engine?.idle(), RECORD_WRITE_AFTER_MS);
  }

  /**
   * Answers `rbuild history`, `errors` or `show` (daemon-query.ts) as rbuild.js
   * would, in the client's directory and environment. Refused while a build
   * runs, as a build is (the client runs it itself), and it holds off builds
   * while it runs: it may load the Buildfile (to tell an unknown task from
   * one that has not run), and loads are one at a time. An interrupt ends the
   * client at once with 130, as it ends rbuild.js; what the query still does
   * is written nowhere.
   */
  async #answer(socket: Socket, request: Request, args: Args & { command: QueryCommand }, started: number): Promise<void> {
    socket.write(frame("A", ""));
    const keepalive = setInterval(() => socket.writable && socket.write(frame("K", "")), KEEPALIVE_MS);
    let answered = false;
    const end = (status: number): void => {
      if (answered) return;
      answered = true;
      clearInterval(keepalive);
      if (socket.writable) socket.end(frame("X", String(status)));
    };
    const input = new ClientInput();
    socket.on("data", (chunk: Buffer) => {
      if (input.feed(chunk).some((message) => message.type === "interrupt")) end(130);
    });
    socket.once("close", () => end(130));
    await this.#warming;
    let status = 1;
    let workspace: Workspace | undefined;
    if (answered) {
      // Gone before it began.
    } else if (!adopt(request)) {
      status = 2;
      socket.write(frame("E", "rbuild: error: the current directory is gone\n"));
    } else {
      this.#resetIdle();
      const write = (type: "O" | "E") => ({ write: (text: string) => !answered && socket.writable && socket.write(frame(type, text)) });
      try {
        status = await runQuery(args, { stdout: write("O"), stderr: write("E"), cwd: request.cwd, env: process.env, strays: this.#strays, onWorkspace: (loaded) => (workspace = loaded) });
      } catch (error) {
        socket.write(frame("E", `rbuild: internal error in the daemon (see ${join(this.#cacheDir, DAEMON_LOG)}): ${(error as Error).message}\n`));
        log(`internal error: ${(error as Error).stack ?? String(error)}`);
      }
    }
    log(`query: ${request.argv.join(" ")} -> ${status} in ${(performance.now() - started).toFixed(0)}ms`);
    end(status);
    this.#busy = false;
    try {
      process.chdir(this.#cacheDir);
    } catch {
      // Removed: the next check notices its socket went with it.
    }
    if (workspace !== undefined && !daemonCanServe(workspace)) this.#shutdown("the Buildfile imports npm packages or puts the cache elsewhere");
    if (this.#closing) this.#exitSoon();
  }
}

/** Takes on the client's environment, directory and umask, as a process it started would have. */
function adopt(request: Request): boolean {
  try {
    process.chdir(request.cwd);
  } catch {
    return false;
  }
  for (const name of Object.keys(process.env)) if (!(name in request.env)) delete process.env[name];
  Object.assign(process.env, request.env);
  process.umask(request.umask);
  return true;
}

/** Runs the daemon of the workspace at `root` until it has a reason to exit. */
export async function serveDaemon(root: string | undefined, targets: readonly string[]): Promise<void> {
  if (root === undefined || findBuildfile(root) !== join(root, "Buildfile.ts")) {
    process.stderr.write("usage: rbuild-daemon <workspace root> (rbuild starts it by itself)\n");
    process.exitCode = 2;
    return;
  }
  const daemon = new Daemon(resolve(root));
  if (await daemon.start()) await daemon.warmUp(targets);
}
