/**
 * The default runner: a command string runs with `/bin/sh -c` (or without a
 * shell when it is plain words, simple-command.ts) in its own process group;
 * a function runs in this process with a `RunContext` whose `exec` starts
 * commands the same way. Processes start through the runner's own process
 * helper where it runs (process-helper.ts), else forked from Node.
 */
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { format } from "node:util";
import { ExecError, locationFromStack, type ExecOptions, type ExecResult, type RunContext, type RunFunction, type StrayErrors, type TaskFailure } from "@rbuild/core";
import { DrainedLoop, NEVER_SETTLES } from "./drained-loop.js";
import { missingInterpreter } from "./missing-interpreter.js";
import { ProcessHelper } from "./process-helper.js";
import type { BuildHold, RunOutcome, RunRequest, Runner } from "./runner.js";
import { mayHaveLeftRunning, RunningGroups } from "./running-groups.js";
import { SandboxHelpers } from "./sandbox-helpers.js";
import { spawnInGroup, type SpawnResult, type Wrap } from "./spawn-group.js";

/** The most of a command's stdout that `exec` keeps to return. */
const MAX_CAPTURE = 16 * 1024 * 1024;

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Why a task could not start in `cwd`, if that is the reason. */
function missingCwd(task: string, cwd: string): RunOutcome | undefined {
  if (isDirectory(cwd)) return undefined;
  return {
    ok: false,
    exitCode: null,
    failure: { reason: "spawn-failed", task, message: `its working directory ${cwd} does not exist. Create it, or fix the task's \`cwd\`.` },
  };
}

const IN_PLACE = { kind: "in-place" } as const;

function outcomeOf(result: SpawnResult, request: RunRequest): RunOutcome {
  const task = request.task;
  switch (result.kind) {
    case "exited":
      if (result.exitCode === 0) return { ok: true, exitCode: 0, produced: IN_PLACE };
      if (request.signal.aborted) return { ok: false, exitCode: result.exitCode, failure: { reason: "interrupted", task } };
      return { ok: false, exitCode: result.exitCode, failure: { reason: "exit-nonzero", task, exitCode: result.exitCode } };
    case "signaled":
      if (request.signal.aborted) return { ok: false, exitCode: null, failure: { reason: "interrupted", task } };
      return { ok: false, exitCode: null, failure: { reason: "killed", task, signal: result.signal } };
    case "error":
      // Looked at only now: a stat of every task's directory before it starts was 0.9 % of a cold build's main thread.
      return (
        missingCwd(task, request.cwd) ?? {
          ok: false,
          exitCode: null,
          failure: { reason: "spawn-failed", task, message: (typeof request.run === "string" ? missingInterpreter(request.run, request.cwd, request.env) : undefined) ?? result.message },
        }
      );
    case "lost": {
      if (request.signal.aborted) return { ok: false, exitCode: null, failure: { reason: "interrupted", task } };
      const message = `${lostWhile(result, task)}. Run the build again; if this keeps happening, set RBUILD_SPAWN=direct to start tasks without the helper.`;
      return { ok: false, exitCode: null, failure: { reason: "helper-died", task, message } };
    }
  }
}

/** What happened to a command whose process helper was lost while `what` ran. */
function lostWhile(result: Extract<SpawnResult, { kind: "lost" }>, what: string): string {
  const helper = `the process helper (pid ${result.helper}) ${result.how}`;
  return result.started ? `${helper} while \`${what}\` ran; its command was stopped` : `${helper} as it was starting \`${what}\`, before it said whether it had`;
}

function exceptionToFailure(error: unknown, request: RunRequest): TaskFailure {
  const task = request.task;
  if (request.signal.aborted) return { reason: "interrupted", task };
  if (error instanceof ExecError) {
    if (error.exitCode !== null) return { reason: "exit-nonzero", task, exitCode: error.exitCode };
    return { reason: "killed", task, signal: error.signal ?? "a signal" };
  }
  const message = error instanceof Error ? error.message : `threw ${format(error)}`;
  const location = error instanceof Error ? locationFromStack(error) : undefined;
  return { reason: "run-threw", task, message, ...(location === undefined ? {} : { location }) };
}

/**
 * `error` with the stack of `call` (see exec): what it says happened, where
 * the task's code called exec, rather than in rbuild's code that noticed it.
 */
function thrownAt<E extends Error>(error: E, call: { stack?: string }): E {
  const frames = call.stack?.includes("\n") === true ? call.stack.slice(call.stack.indexOf("\n")) : "";
  error.stack = `${error.name}: ${error.message}${frames}`;
  return error;
}

function contextFor(request: RunRequest, helper: ProcessHelper | undefined, groups: RunningGroups | undefined, wrap: Wrap | undefined): RunContext {
  async function exec(command: string | readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    // The frames of the call, taken before the first await (after it, the stack starts in rbuild's
    // code): an error points at the line of the Buildfile that called exec. Formatted only if read.
    const call: { stack?: string } = {};
    Error.captureStackTrace(call, exec);
    if (typeof command !== "string" && (command[0] ?? "") === "") {
      throw thrownAt(new Error('exec() was given no program to run: pass the program and its arguments, as ["tsc", "-p", "."], or a command line'), call);
    }
    const shown = typeof command === "string" ? command : command.join(" ");
    const cwd = resolve(request.cwd, options.cwd ?? ".");
    const env = { ...request.env, ...options.env };
    let stdout = "";
    const result = await spawnInGroup({
      command,
      cwd,
      env,
      signal: request.signal,
      ...(helper === undefined ? {} : { helper }),
      ...(groups === undefined ? {} : { groups }),
      ...(wrap === undefined ? {} : { wrap }),
      onStdout: (chunk) => {
        request.stdout(chunk);
        stdout += chunk.toString();
        if (stdout.length > MAX_CAPTURE) stdout = stdout.slice(-MAX_CAPTURE);
      },
      onStderr: request.stderr,
    });
    switch (result.kind) {
      case "exited":
        if (result.exitCode !== 0) throw thrownAt(new ExecError(shown, result.exitCode, null), call);
        return { exitCode: 0, stdout };
      case "signaled":
        throw thrownAt(new ExecError(shown, null, result.signal), call);
      case "error":
        throw thrownAt(new Error(`could not run \`${shown}\`: ${missingInterpreter(command, cwd, env) ?? result.message}`), call);
      case "lost":
        throw thrownAt(new Error(lostWhile(result, shown)), call);
    }
  }
  return {
    name: request.task,
    cwd: request.cwd,
    env: request.env,
    signal: request.signal,
    log(...parts) {
      request.stdout(`${format(...parts)}\n`);
    },
    exec,
  };
}

/**
 * Runs a task's function in this process. Once its outcome is known the task
 * is over for the rest of the build: if it failed (it threw, or something it
 * left running threw), its signal is aborted, so that commands it started are
 * stopped and a function that watches the signal stops; and whatever it still
 * writes is dropped, not shown as the output of a task that is still running.
 */
async function runFunction(run: RunFunction, request: RunRequest, strays: StrayErrors | undefined, helper: ProcessHelper | undefined, groups: RunningGroups | undefined, drained: DrainedLoop, wrap: Wrap | undefined): Promise<RunOutcome> {
  let state: "running" | "over" = "running";
  const failed = new AbortController();
  const own: RunRequest = {
    ...request,
    signal: AbortSignal.any([request.signal, failed.signal]),
    stdout: (chunk) => {
      if (state === "running") request.stdout(chunk);
    },
    stderr: (chunk) => {
      if (state === "running") request.stderr(chunk);
    },
  };
  try {
    const context = contextFor(own, helper, groups, wrap);
    const settled = await drained.race(strays === undefined ? Promise.resolve(run(context)) : strays.run(`task "${request.task}"`, "task", async () => run(context)));
    if (settled === NEVER_SETTLES) {
      state = "over";
      failed.abort(new Error(`task "${request.task}" never finished`));
      if (request.signal.aborted) return { ok: false, exitCode: null, failure: { reason: "interrupted", task: request.task } };
      return { ok: false, exitCode: null, failure: { reason: "never-settled", task: request.task } };
    }
  } catch (error) {
    state = "over";
    const failure = exceptionToFailure(error, request);
    failed.abort(new Error(`task "${request.task}" failed`));
    return { ok: false, exitCode: error instanceof ExecError ? error.exitCode : null, failure };
  }
  state = "over";
  if (request.signal.aborted) return { ok: false, exitCode: null, failure: { reason: "interrupted", task: request.task } };
  return { ok: true, exitCode: null, produced: IN_PLACE };
}

export interface LocalRunnerOptions {
  /** Where errors a function throws from its timers or unawaited promises go: they fail its task. */
  readonly strays?: StrayErrors;
  /**
   * How processes start: `helper` through the process helper where it runs
   * (the default), `direct` forked from Node. The environment's
   * RBUILD_SPAWN=direct chooses the latter for a whole run.
   */
  readonly spawn?: "helper" | "direct";
}

/**
 * How the runner starts processes: `unstarted`, a helper not started yet;
 * `helper`, through it; `direct`, forked from Node, for good (asked for, or
 * no helper can run here) or until the next build (its helper was lost).
 */
type Spawning =
  | { readonly kind: "unstarted" }
  | { readonly kind: "helper"; readonly helper: ProcessHelper }
  | { readonly kind: "direct"; readonly until: "closed" | "next-build" };

/** A container task given to a runner that runs no images: it is refused, never run on the host. */
export function refusedImage(request: RunRequest, runner: string): RunOutcome {
  return {
    ok: false,
    exitCode: null,
    failure: { reason: "spawn-failed", task: request.task, message: `it runs in the container image ${request.image?.source.path}, and ${runner} runs no images. Run it with the build's default runner (RunnerChoice), which sends it to the container runner.` },
  };
}

export class LocalRunner implements Runner {
  readonly #strays: StrayErrors | undefined;
  readonly #drained = new DrainedLoop();
  /** The tasks whose function runs (see functionsRunning). */
  readonly #functions = new Set<string>();
  #spawning: Spawning;
  /** The record of what this build runs that would outlive it, while a build holds the lock (see begin). */
  #groups: RunningGroups | undefined;
  /** The helpers of sandboxed commands without a network (sandbox-helpers.ts). */
  readonly #sandboxHelpers = new SandboxHelpers((helper) => {
    if (helper.pid !== undefined) this.#groups?.helper(helper.pid);
  });

  constructor(options: LocalRunnerOptions = {}) {
    this.#strays = options.strays;
    this.#spawning = options.spawn === "direct" ? { kind: "direct", until: "closed" } : { kind: "unstarted" };
  }

  /**
   * Starts the process helper now when commands will run: its ~20 ms start
   * then overlaps the build's own. A new build gets a new helper if the last
   * one was lost.
   */
  prepare(runs: Iterable<RunRequest["run"] | undefined>): void {
    this.#notice(undefined);
    if (this.#spawning.kind === "direct" && this.#spawning.until === "next-build") this.#spawning = { kind: "unstarted" };
    this.#sandboxHelpers.reset();
    for (const run of runs) {
      if (typeof run === "string") {
        this.#processHelper(undefined);
        return;
      }
    }
  }

  async run(request: RunRequest): Promise<RunOutcome> {
    if (request.image !== undefined) return refusedImage(request, "the local runner");
    return this.runWrapped(request, undefined);
  }

  /**
   * Runs `request` as run() does, with every command it starts (the task's
   * own, or each a function execs) changed by `wrap` first: how the sandbox
   * runner starts them under bwrap, with this runner's helper and records.
   * With `sandboxHelper`, they start through a sandbox helper of the task's
   * own where one runs (sandbox-helpers.ts), which `wrap` is told.
   */
  async runWrapped(request: RunRequest, wrap: Wrap | undefined, options: { readonly sandboxHelper?: boolean } = {}): Promise<RunOutcome> {
    const own = options.sandboxHelper === true && this.#processHelper(request.info) !== undefined ? this.#sandboxHelpers.acquire() : undefined;
    try {
      return await this.#runWith(request, wrap, own ?? this.#processHelper(request.info));
    } finally {
      if (own !== undefined) this.#sandboxHelpers.release(own);
    }
  }

  async #runWith(request: RunRequest, wrap: Wrap | undefined, helper: ProcessHelper | undefined): Promise<RunOutcome> {
    const { run, task } = request;
    if (typeof run === "function") {
      const missing = missingCwd(task, request.cwd);
      if (missing !== undefined) return missing;
      this.#functions.add(task);
      try {
        const outcome = await runFunction(run, request, this.#strays, helper, this.#groups, this.#drained, wrap);
        this.#notice(request.info);
        return outcome;
      } finally {
        this.#functions.delete(task);
      }
    }
    const result = await spawnInGroup({
      command: run,
      cwd: request.cwd,
      env: request.env,
      signal: request.signal,
      onStdout: request.stdout,
      onStderr: request.stderr,
      ...(helper === undefined ? {} : { helper }),
      ...(this.#groups === undefined ? {} : { groups: this.#groups }),
      ...(wrap === undefined ? {} : { wrap }),
    });
    this.#notice(request.info);
    return outcomeOf(result, request);
  }

  /**
   * Stops the process groups a build that died left running in `dir` (see
   * running-groups.ts), and records there, until `release`, the helper and
   * the process groups of the tasks this build starts.
   */
  async begin(dir: string): Promise<BuildHold> {
    const { groups, stopped } = await RunningGroups.takeOver(dir);
    this.#groups = groups;
    if (this.#spawning.kind === "helper" && this.#spawning.helper.pid !== undefined) groups.helper(this.#spawning.helper.pid);
    for (const pid of this.#sandboxHelpers.pids()) groups.helper(pid);
    return {
      stopped,
      release: () => {
        groups.close();
        if (this.#groups === groups) this.#groups = undefined;
      },
    };
  }

  functionsRunning(): readonly string[] {
    return [...this.#functions];
  }

  mayHaveLeftRunning(dir: string): boolean {
    return mayHaveLeftRunning(dir);
  }

  /** Stops its process helper, if it started one (a daemon's runner, at the end); commands it still runs are stopped. */
  close(): void {
    if (this.#spawning.kind === "helper") this.#spawning.helper.close();
    this.#sandboxHelpers.close();
    this.#spawning = { kind: "direct", until: "closed" };
  }

  /** The helper, started on first use; undefined when processes fork from Node. */
  #processHelper(info: RunRequest["info"]): ProcessHelper | undefined {
    this.#notice(info);
    if (this.#spawning.kind === "unstarted") {
      const helper = ProcessHelper.start();
      this.#spawning = helper === undefined ? { kind: "direct", until: "closed" } : { kind: "helper", helper };
      if (helper?.pid !== undefined) this.#groups?.helper(helper.pid);
    }
    return this.#spawning.kind === "helper" ? this.#spawning.helper : undefined;
  }

  /**
   * Forks from Node once the helper is gone: for good when it turned out it
   * cannot run here; for the rest of the build, saying so once, when it was
   * lost. Not a new helper at once: one that died may die again (the OOM
   * killer, a stray kill), while forking needs nothing that can.
   */
  #notice(info: RunRequest["info"]): void {
    if (this.#spawning.kind !== "helper") return;
    const { helper } = this.#spawning;
    if (helper.unavailable) {
      this.#spawning = { kind: "direct", until: "closed" };
      return;
    }
    const how = helper.lost;
    if (how === undefined) return;
    this.#spawning = { kind: "direct", until: "next-build" };
    info?.("process-helper", `the process helper (pid ${helper.pid}) ${how}; tasks start without it for the rest of this build`);
  }
}
