/**
 * The default runner: a command string runs with `/bin/sh -c` in its own
 * process group; a function runs in this process with a `RunContext` whose
 * `exec` starts commands the same way.
 */
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { format } from "node:util";
import { ExecError, locationFromStack, type ExecOptions, type ExecResult, type RunContext, type RunFunction, type StrayErrors, type TaskFailure } from "@rbuild/core";
import type { RunOutcome, RunRequest, Runner } from "./runner.js";
import { spawnInGroup, type SpawnResult } from "./spawn-group.js";

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

function outcomeOf(result: SpawnResult, request: RunRequest): RunOutcome {
  const task = request.task.name;
  switch (result.kind) {
    case "exited":
      if (result.exitCode === 0) return { ok: true, exitCode: 0 };
      if (request.signal.aborted) return { ok: false, exitCode: result.exitCode, failure: { reason: "interrupted", task } };
      return { ok: false, exitCode: result.exitCode, failure: { reason: "exit-nonzero", task, exitCode: result.exitCode } };
    case "signaled":
      if (request.signal.aborted) return { ok: false, exitCode: null, failure: { reason: "interrupted", task } };
      return { ok: false, exitCode: null, failure: { reason: "killed", task, signal: result.signal } };
    case "error":
      // Looked at only now: a stat of every task's directory before it starts was 0.9 % of a cold build's main thread.
      return missingCwd(task, request.cwd) ?? { ok: false, exitCode: null, failure: { reason: "spawn-failed", task, message: result.message } };
  }
}

function exceptionToFailure(error: unknown, request: RunRequest): TaskFailure {
  const task = request.task.name;
  if (request.signal.aborted) return { reason: "interrupted", task };
  if (error instanceof ExecError) {
    if (error.exitCode !== null) return { reason: "exit-nonzero", task, exitCode: error.exitCode };
    return { reason: "killed", task, signal: error.signal ?? "a signal" };
  }
  const message = error instanceof Error ? error.message : `threw ${format(error)}`;
  const location = error instanceof Error ? locationFromStack(error) : undefined;
  return { reason: "run-threw", task, message, ...(location === undefined ? {} : { location }) };
}

function contextFor(request: RunRequest): RunContext {
  return {
    name: request.task.name,
    cwd: request.cwd,
    env: request.env,
    signal: request.signal,
    log(...parts) {
      request.stdout(`${format(...parts)}\n`);
    },
    async exec(command: string | readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
      const shown = typeof command === "string" ? command : command.join(" ");
      const cwd = resolve(request.cwd, options.cwd ?? ".");
      let stdout = "";
      const result = await spawnInGroup({
        command,
        cwd,
        env: { ...request.env, ...options.env },
        signal: request.signal,
        onStdout: (chunk) => {
          request.stdout(chunk);
          stdout += chunk.toString();
          if (stdout.length > MAX_CAPTURE) stdout = stdout.slice(-MAX_CAPTURE);
        },
        onStderr: request.stderr,
      });
      switch (result.kind) {
        case "exited":
          if (result.exitCode !== 0) throw new ExecError(shown, result.exitCode, null);
          return { exitCode: 0, stdout };
        case "signaled":
          throw new ExecError(shown, null, result.signal);
        case "error":
          throw new Error(`could not run \`${shown}\`: ${result.message}`);
      }
    },
  };
}

/**
 * Runs a task's function in this process. Once its outcome is known the task
 * is over for the rest of the build: if it failed (it threw, or something it
 * left running threw), its signal is aborted, so that commands it started are
 * stopped and a function that watches the signal stops; and whatever it still
 * writes is dropped, not shown as the output of a task that is still running.
 */
async function runFunction(run: RunFunction, request: RunRequest, strays: StrayErrors | undefined): Promise<RunOutcome> {
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
    const context = contextFor(own);
    await (strays === undefined ? run(context) : strays.run(`task "${request.task.name}"`, "task", async () => run(context)));
  } catch (error) {
    state = "over";
    const failure = exceptionToFailure(error, request);
    failed.abort(new Error(`task "${request.task.name}" failed`));
    return { ok: false, exitCode: error instanceof ExecError ? error.exitCode : null, failure };
  }
  state = "over";
  if (request.signal.aborted) return { ok: false, exitCode: null, failure: { reason: "interrupted", task: request.task.name } };
  return { ok: true, exitCode: null };
}

export interface LocalRunnerOptions {
  /** Where errors a function throws from its timers or unawaited promises go: they fail its task. */
  readonly strays?: StrayErrors;
}

export class LocalRunner implements Runner {
  readonly #strays: StrayErrors | undefined;

  constructor(options: LocalRunnerOptions = {}) {
    this.#strays = options.strays;
  }

  async run(request: RunRequest): Promise<RunOutcome> {
    const { run, name } = request.task;
    if (typeof run === "function") {
      const missing = missingCwd(name, request.cwd);
      if (missing !== undefined) return missing;
      request.onStarted?.(undefined);
      return runFunction(run, request, this.#strays);
    }
    if (run === undefined) return { ok: true, exitCode: null };
    const { cwd, env, signal, after, startNow, onStarted } = request;
    const result = await spawnInGroup({
      command: run,
      cwd,
      env,
      signal,
      onStdout: request.stdout,
      onStderr: request.stderr,
      ...(after === undefined ? {} : { after, ...(startNow === undefined ? {} : { startNow }) }),
      ...(onStarted === undefined ? {} : { onStarted }),
    });
    return outcomeOf(result, request);
  }
}
