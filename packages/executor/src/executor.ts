/**
 * The build loop, in the manner of ninja's Builder::Build: start as many ready
 * tasks as capacity allows (highest priority first: the longest chain of work
 * still behind it), wait for one to finish, record it, repeat. It reports
 * through events and never prints.
 *
 * Per task the state only moves forward: waiting (deps not done) -> ready ->
 * running -> done. A failure stops new starts (unless keep-going) and marks
 * everything downstream of it skipped; an interrupt aborts running tasks,
 * waits for them, and skips the rest.
 */
import { resolve } from "node:path";
import { availableParallelism } from "node:os";
import type { Reporter, TaskFailure, TaskResult } from "@rbuild/core";
import type { Graph, GraphTask } from "@rbuild/planner";
import { LineSplitter } from "./line-splitter.js";
import { LocalRunner } from "./local-runner.js";
import { PriorityQueue } from "./priority-queue.js";
import type { RunOutcome, Runner } from "./runner.js";
import { KILL_GRACE_MS } from "./spawn-group.js";
import { TaskEnvBuilder } from "./task-env.js";

export interface ExecuteOptions {
  readonly graph: Graph;
  /** How many tasks may run at once. Defaults to the number of cores. */
  readonly jobs?: number;
  /** Keep running everything not downstream of a failure. */
  readonly keepGoing?: boolean;
  readonly reporter: Reporter;
  readonly runner?: Runner;
  /** Aborting interrupts the build: running tasks are stopped and nothing new starts. */
  readonly signal?: AbortSignal;
  /** The environment tasks' variables are taken from. Defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly now?: () => number;
}

export interface BuildOutcome {
  readonly ok: boolean;
  readonly interrupted: boolean;
  readonly durationMs: number;
  /** One result per task of the graph, in the graph's (topological) order. */
  readonly results: readonly TaskResult[];
}

/** How long running work may take to stop after an interrupt before the build gives up on it. */
const INTERRUPT_WAIT_MS = KILL_GRACE_MS + 3000;

type Stop = { kind: "none" } | { kind: "failure"; task: string } | { kind: "interrupt" };

export async function execute(options: ExecuteOptions): Promise<BuildOutcome> {
  return new Build(options).run();
}

class Build {
  readonly #graph: Graph;
  readonly #jobs: number;
  readonly #keepGoing: boolean;
  readonly #reporter: Reporter;
  readonly #runner: Runner;
  readonly #signal: AbortSignal | undefined;
  readonly #now: () => number;
  readonly #env: TaskEnvBuilder;

  readonly #waitingOn = new Map<string, number>();
  readonly #results = new Map<string, TaskResult>();
  readonly #ready: PriorityQueue<GraphTask>;
  readonly #running = new Map<string, AbortController>();
  readonly #finished: { task: GraphTask; result: TaskResult }[] = [];
  #wake: (() => void) | undefined;
  #stop: Stop = { kind: "none" };

  constructor(options: ExecuteOptions) {
    this.#graph = options.graph;
    this.#jobs = Math.max(1, options.jobs ?? availableParallelism());
    this.#keepGoing = options.keepGoing ?? false;
    this.#reporter = options.reporter;
    this.#runner = options.runner ?? new LocalRunner();
    this.#signal = options.signal;
    this.#now = options.now ?? (() => performance.now());
    this.#env = new TaskEnvBuilder(options.env ?? process.env);
    this.#ready = new PriorityQueue((a, b) => a.priority > b.priority || (a.priority === b.priority && a.name < b.name));
  }

  async run(): Promise<BuildOutcome> {
    const start = this.#now();
    const graph = this.#graph;
    this.#reporter.report({ type: "build-started", targets: graph.targets, tasks: graph.tasks.size, jobs: this.#jobs });
    for (const task of graph.tasks.values()) {
      this.#waitingOn.set(task.name, task.deps.length);
      if (task.deps.length === 0) this.#ready.push(task);
    }
    const onAbort = (): void => this.#interrupt();
    this.#signal?.addEventListener("abort", onAbort, { once: true });
    if (this.#signal?.aborted) this.#interrupt();

    while (true) {
      while (this.#stop.kind === "none" && this.#running.size < this.#jobs && this.#ready.size > 0) {
        this.#start(this.#ready.pop()!);
      }
      if (this.#running.size === 0 && this.#finished.length === 0) break;
      const next = await this.#nextFinished();
      if (next === undefined) break; // Interrupted work that did not stop in time.
      this.#finish(next.task, next.result);
    }
    this.#signal?.removeEventListener("abort", onAbort);

    this.#skipRest();
    const interrupted = this.#stop.kind === "interrupt";
    const results = [...graph.tasks.keys()].map((name) => this.#results.get(name)!);
    const ok = !interrupted && results.every((r) => r.status !== "failed" && r.status !== "skipped");
    const durationMs = Math.round(this.#now() - start);
    this.#reporter.report({ type: "build-finished", ok, interrupted, durationMs });
    return { ok, interrupted, durationMs, results };
  }

  #interrupt(): void {
    this.#stop = { kind: "interrupt" };
    for (const controller of this.#running.values()) controller.abort();
    this.#wake?.(); // So the loop starts waiting with a deadline.
  }

  async #nextFinished(): Promise<{ task: GraphTask; result: TaskResult } | undefined> {
    let timer: NodeJS.Timeout | undefined;
    while (this.#finished.length === 0) {
      const woken = new Promise<boolean>((resolveWake) => {
        this.#wake = () => resolveWake(true);
        if (this.#stop.kind === "interrupt") timer = setTimeout(() => resolveWake(false), INTERRUPT_WAIT_MS);
      });
      const progressed = await woken;
      if (timer !== undefined) clearTimeout(timer);
      if (!progressed && this.#finished.length === 0) return undefined;
    }
    return this.#finished.shift();
  }

  #start(task: GraphTask): void {
    const controller = new AbortController();
    this.#running.set(task.name, controller);
    const reasons = task.run === undefined ? [] : task.pure ? ["no-record"] : ["impure"];
    this.#reporter.report({ type: "task-started", task: task.name, reasons });
    const started = this.#now();
    void this.#runTask(task, controller.signal).then((outcome) => {
      const result: TaskResult = {
        name: task.name,
        status: outcome.ok ? "ran" : "failed",
        cache: null,
        key: null,
        durationMs: Math.round(this.#now() - started),
        exitCode: outcome.exitCode,
        reasons,
        ...(outcome.ok ? {} : { failure: outcome.failure }),
      };
      this.#finished.push({ task, result });
      this.#wake?.();
    });
  }

  /** Runs one task; the one place where an unexpected exception becomes a task failure. */
  async #runTask(task: GraphTask, signal: AbortSignal): Promise<RunOutcome> {
    const emit = (stream: "stdout" | "stderr") =>
      new LineSplitter((line) => this.#reporter.report({ type: "task-output", task: task.name, stream, line }));
    const stdout = emit("stdout");
    const stderr = emit("stderr");
    try {
      const cwd = resolve(this.#graph.root, task.cwd);
      return await this.#runner.run({
        task,
        cwd,
        env: this.#env.build(task.env, cwd),
        signal,
        stdout: (chunk) => stdout.write(chunk),
        stderr: (chunk) => stderr.write(chunk),
      });
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      const failure: TaskFailure = { reason: "run-threw", task: task.name, message: `internal error: ${message}` };
      return { ok: false, exitCode: null, failure };
    } finally {
      stdout.end();
      stderr.end();
    }
  }

  #finish(task: GraphTask, result: TaskResult): void {
    this.#running.delete(task.name);
    this.#record(result);
    if (result.status === "failed") {
      const interrupted = result.failure?.reason === "interrupted";
      this.#skipDownstream(task, interrupted ? "interrupted" : `dependency-failed: ${task.name}`);
      if (!this.#keepGoing && this.#stop.kind === "none") this.#stop = { kind: "failure", task: task.name };
      return;
    }
    for (const name of task.dependents) {
      const left = this.#waitingOn.get(name)! - 1;
      this.#waitingOn.set(name, left);
      if (left === 0 && !this.#results.has(name)) this.#ready.push(this.#graph.tasks.get(name)!);
    }
  }

  #record(result: TaskResult): void {
    this.#results.set(result.name, result);
    this.#reporter.report({ type: "task-finished", result });
  }

  #skip(name: string, reason: string): void {
    if (this.#results.has(name) || this.#running.has(name)) return;
    this.#record({ name, status: "skipped", cache: null, key: null, durationMs: 0, exitCode: null, reasons: [reason] });
  }

  #skipDownstream(task: GraphTask, reason: string): void {
    const stack = [...task.dependents];
    while (stack.length > 0) {
      const name = stack.pop()!;
      if (this.#results.has(name)) continue;
      this.#skip(name, reason);
      stack.push(...this.#graph.tasks.get(name)!.dependents);
    }
  }

  /** Everything that never started: skipped, with the reason the build stopped. */
  #skipRest(): void {
    const stop = this.#stop;
    const reason = stop.kind === "interrupt" ? "interrupted" : stop.kind === "failure" ? `build-stopped: ${stop.task} failed` : "not-reached";
    for (const name of this.#graph.tasks.keys()) this.#skip(name, reason);
    // Running work that did not stop in time after an interrupt.
    for (const name of this.#running.keys()) {
      if (this.#results.has(name)) continue;
      this.#record({
        name,
        status: "failed",
        cache: null,
        key: null,
        durationMs: 0,
        exitCode: null,
        reasons: ["interrupted"],
        failure: { reason: "interrupted", task: name },
      });
    }
  }
}
