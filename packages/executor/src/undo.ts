/**
 * Undo (TaskOptions.undo): when a build fails, the compensating action of
 * every impure task that succeeded in it runs, a task's undo after the undos
 * of the tasks that depend on it. A task restored from the cache, found up to
 * date, or not run in this build is never undone (only an impure task can
 * have an undo, and those are never cached).
 *
 * Undos run one at a time, in the reverse of the graph's topological order:
 * that order has every dependent after its deps, so reversed it undoes
 * dependents first, and two undos never race over what they put back. They
 * run after the build's loop has ended (every running task finished or
 * stopped); a failing undo is reported and the next one still runs. The
 * executor decides whether they run at all (see ExecuteOptions.undo).
 */
import { resolve } from "node:path";
import type { Reporter, TaskResult, UndoResult } from "@rbuild/core";
import type { Graph, GraphTask } from "@rbuild/planner";
import type { Runner } from "@rbuild/runners";
import type { LogLine } from "@rbuild/store";
import { LineSplitter } from "./line-splitter.js";
import type { PoolTake } from "./pool-slots.js";
import { LogCollector } from "./task-cache.js";

/** When undos run: `failure` (not after an interrupt), `failure-or-interrupt` (--undo-on-interrupt), `never` (--no-undo). */
export type UndoWhen = "failure" | "failure-or-interrupt" | "never";

/**
 * What stops a failed build's undos, if it runs them: an interrupt of the
 * build; with --undo-on-interrupt only `undo` (the second Ctrl-C: the first
 * one is what they run after). Undefined: it runs none.
 */
export function undoSignal(when: UndoWhen, interrupted: boolean, signals: { readonly build: AbortSignal | undefined; readonly undo: AbortSignal | undefined }): AbortSignal | undefined {
  if (when === "never" || (interrupted && when !== "failure-or-interrupt")) return undefined;
  return (when === "failure-or-interrupt" ? signals.undo : signals.build) ?? new AbortController().signal;
}

/** The tasks to undo after a failed build, in the order their undos run. */
export function undoOrder(graph: Graph, results: ReadonlyMap<string, TaskResult>): GraphTask[] {
  const order: GraphTask[] = [];
  for (const task of graph.tasks.values()) {
    if (task.undo !== undefined && !task.pure && results.get(task.name)?.status === "ran") order.push(task);
  }
  return order.reverse();
}

export interface UndoContext {
  readonly graph: Graph;
  readonly runner: Runner;
  readonly reporter: Reporter;
  /** The environment a task runs with (the same as its `run` had). */
  readonly env: (task: GraphTask, cwd: string) => Record<string, string>;
  /** The output globs of the task's deps (for runners that run elsewhere). */
  readonly depOutputs: (task: GraphTask) => string[];
  /** Stops a running undo (an interrupt while undos run, without --undo-on-interrupt). */
  readonly signal: AbortSignal;
  readonly now: () => number;
  /**
   * A place in the task's pool (and its lease, for a shared pool), taken as
   * the task's run took it: an undo puts back what the task did to the
   * environment the pool guards, so it must not run beside another holder.
   */
  readonly pool: (task: GraphTask) => Promise<PoolTake>;
}

/** An undo that ran: its result, and what it wrote (for its history row). */
export interface UndoDone {
  readonly result: UndoResult;
  readonly log: LogLine[];
}

/** Runs the undos of `tasks`, in order, each reported as it starts and ends. */
export async function runUndos(tasks: readonly GraphTask[], context: UndoContext): Promise<UndoDone[]> {
  const done: UndoDone[] = [];
  for (const task of tasks) {
    if (context.signal.aborted) {
      const result: UndoResult = { task: task.name, ok: false, durationMs: 0, exitCode: null, failure: { reason: "interrupted", task: task.name } };
      context.reporter.report({ type: "undo-finished", result });
      done.push({ result, log: [] });
      continue;
    }
    done.push(await runUndo(task, context));
  }
  return done;
}

async function runUndo(task: GraphTask, context: UndoContext): Promise<UndoDone> {
  const { reporter } = context;
  reporter.report({ type: "undo-started", task: task.name });
  const log = new LogCollector();
  const emit = (stream: "stdout" | "stderr"): LineSplitter =>
    new LineSplitter((line) => {
      log.add(stream, line);
      reporter.report({ type: "task-output", task: task.name, stream, line });
    });
  const stdout = emit("stdout");
  const stderr = emit("stderr");
  const cwd = resolve(context.graph.root, task.cwd);
  const started = context.now();
  let result: UndoResult;
  const taken = await context.pool(task);
  if (!taken.ok) {
    const failure = "failure" in taken ? taken.failure : { reason: "interrupted" as const, task: task.name };
    result = { task: task.name, ok: false, durationMs: Math.round(context.now() - started), exitCode: null, failure };
    stdout.end();
    stderr.end();
    reporter.report({ type: "undo-finished", result });
    return { result, log: log.finish() };
  }
  try {
    const outcome = await context.runner.run({
      task: task.name,
      run: task.undo!,
      root: context.graph.root,
      cwd,
      env: context.env(task, cwd),
      inputs: task.inputs,
      depOutputs: context.depOutputs(task),
      outputs: task.outputs,
      signal: context.signal,
      stdout: (chunk) => stdout.write(chunk),
      stderr: (chunk) => stderr.write(chunk),
      info: (code, message) => reporter.report({ type: "info", code, message }),
    });
    const durationMs = Math.round(context.now() - started);
    result = outcome.ok
      ? { task: task.name, ok: true, durationMs, exitCode: outcome.exitCode }
      : { task: task.name, ok: false, durationMs, exitCode: outcome.exitCode, failure: outcome.failure };
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    result = { task: task.name, ok: false, durationMs: Math.round(context.now() - started), exitCode: null, failure: { reason: "run-threw", task: task.name, message: `internal error: ${message}` } };
  } finally {
    await taken.hold.release();
    stdout.end();
    stderr.end();
  }
  reporter.report({ type: "undo-finished", result });
  return { result, log: log.finish() };
}
