/**
 * What the terminal UI shows, kept from the build's events: the running tasks
 * (when each started, its last lines of output), the counts, the estimate of
 * the time left, the notes printed above the live area, and each task's full
 * output while it runs (kept, bounded, for the end of the build if it fails).
 * No rendering here: `view(now)` is plain data for tui-view.ts, so that frames
 * are rendered only as often as the reporter wants, never once per event.
 *
 * The estimate: each task's expected duration comes from the history (see
 * the store's readRecentDurations: how long it took when it last ran), a task
 * with none counts as the mean of those known, and with nothing recorded there
 * is no estimate. Time left = (expected time of the tasks not started + what the
 * running ones still need by their expectation) / the jobs that can run.
 */
import type { BuildEvent, TaskResult, UndoResult } from "@rbuild/core";
import { retryLine, undoLine } from "./attempt-text.js";
import { countOf, type Counts } from "./recap.js";
import { HeldOutput, type HeldLine } from "./held-output.js";
import type { TextSink } from "./plain-reporter.js";

/** The build's tasks that run something (groups are not counted), and how to read their expected durations from the history. */
export interface TuiPlan {
  readonly tasks: ReadonlySet<string>;
  /** Read once, when a frame first needs the estimate (the live area starts): a build done sooner never reads the index. */
  readonly expectedMs: () => ReadonlyMap<string, number>;
}

/** Lines of a running task's output kept for the live area. */
export const TAIL_KEPT = 8;

export interface RunningView {
  readonly name: string;
  readonly elapsedMs: number;
  /** Its last lines of output that are not blank, oldest first (at most TAIL_KEPT). */
  readonly tail: readonly string[];
}

export interface TuiView {
  /** Oldest first. */
  readonly running: readonly RunningView[];
  /** Of the tasks that run something (the bar): how many are done, and how many of those came from the cache. */
  readonly done: number;
  readonly doneCached: number;
  readonly total: number;
  readonly counts: Readonly<Counts>;
  /** Undefined when nothing is recorded to estimate from. */
  readonly etaMs: number | undefined;
  /** Lines printed above the live area, kept in scrollback: info messages, each failure as it happens. */
  readonly notes: readonly string[];
}

interface Estimate {
  readonly expectedMs: ReadonlyMap<string, number>;
  readonly meanMs: number | undefined;
  pendingMs: number;
}

interface Running {
  readonly startedAt: number;
  readonly tail: string[];
}

export class TuiState {
  readonly #plan: TuiPlan;
  readonly #sinks: { readonly stdout: TextSink; readonly stderr: TextSink };
  readonly #running = new Map<string, Running>();
  /** Full output (bounded) of the tasks not finished, and of those that failed. */
  readonly #outputs = new Map<string, HeldOutput>();
  /** The last result of each counted task. */
  readonly #results = new Map<string, TaskResult>();
  /** Tasks started or finished: no longer part of the estimate's pending work. */
  readonly #seen = new Set<string>();
  readonly #notes: string[] = [];
  readonly #counts: Counts = { ran: 0, cached: 0, failed: 0, interrupted: 0, skipped: 0 };
  /** Of the planned tasks (those that run something): how many are done, and how many of those came from the cache. */
  readonly #done = { all: 0, cached: 0 };
  /** The expected durations, once read (see TuiPlan), with their mean and the expected time of the tasks not started. */
  #estimate: Estimate | undefined;
  #jobs = 1;
  readonly #cwd: string;
  readonly #failedUndos: UndoResult[] = [];
  /** Bumped by every change a frame would show. */
  #version = 0;

  /** `cwd`: paths in the notes are shown relative to it. */
  constructor(plan: TuiPlan, sinks: { readonly stdout: TextSink; readonly stderr: TextSink }, cwd = "") {
    this.#plan = plan;
    this.#sinks = sinks;
    this.#cwd = cwd;
  }

  get version(): number {
    return this.#version;
  }

  #readEstimate(): Estimate {
    if (this.#estimate !== undefined) return this.#estimate;
    const expectedMs = this.#plan.expectedMs();
    const known = [...this.#plan.tasks].flatMap((task) => expectedMs.get(task) ?? []);
    const meanMs = known.length === 0 ? undefined : known.reduce((a, b) => a + b, 0) / known.length;
    this.#estimate = { expectedMs, meanMs, pendingMs: 0 };
    for (const task of this.#plan.tasks) if (!this.#seen.has(task)) this.#estimate.pendingMs += this.#expected(task);
    return this.#estimate;
  }

  #expected(task: string): number {
    return this.#estimate?.expectedMs.get(task) ?? this.#estimate?.meanMs ?? 0;
  }

  #see(task: string): void {
    if (this.#seen.has(task)) return;
    this.#seen.add(task);
    if (this.#estimate !== undefined && this.#plan.tasks.has(task)) this.#estimate.pendingMs -= this.#expected(task);
  }

  apply(event: BuildEvent, now: number): void {
    switch (event.type) {
      case "build-started":
        this.#jobs = Math.max(1, event.jobs);
        return;
      case "info":
        this.#notes.push(`rbuild: ${event.message}`);
        break;
      case "stage-started":
        // Above the live area, as the plain output marks it.
        this.#notes.push(`── stage ${event.stage} ──`);
        break;
      case "stage-finished":
        return;
      case "task-started":
        this.#see(event.task);
        this.#running.set(event.task, { startedAt: now, tail: [] });
        break;
      case "task-output": {
        if (event.replayed === true) return;
        const running = this.#running.get(event.task);
        // A blank line (npm's banner has two) would take one of the few rows a task's output gets, and say nothing.
        if (running !== undefined && /\S/.test(event.line)) {
          running.tail.push(event.line);
          if (running.tail.length > TAIL_KEPT) running.tail.shift();
        }
        let output = this.#outputs.get(event.task);
        if (output === undefined) this.#outputs.set(event.task, (output = new HeldOutput()));
        output.add([event.stream === "stdout" ? this.#sinks.stdout : this.#sinks.stderr, `[${event.task}] ${event.line}\n`]);
        if (running === undefined) return; // A late line of a finished task: kept, not shown.
        break;
      }
      case "task-finished":
        this.#finished(event.result);
        break;
      case "task-retry":
        this.#notes.push(retryLine(event, this.#cwd));
        break;
      case "undo-started":
        break;
      case "undo-finished":
        if (!event.result.ok) this.#failedUndos.push(event.result);
        this.#notes.push(undoLine(event.result, this.#cwd));
        break;
      case "build-finished":
        this.#running.clear();
        break;
    }
    this.#version++;
  }

  #finished(result: TaskResult): void {
    this.#see(result.name);
    this.#running.delete(result.name);
    const before = this.#results.get(result.name);
    if (result.status !== "failed" && before?.status !== "failed") this.#outputs.delete(result.name);
    // A group runs nothing: not counted unless something kept it from being done.
    if (result.group === true && (result.status === "ran" || result.status === "cached")) return;
    // A task finished again (a late failure): the later result stands.
    const planned = this.#plan.tasks.has(result.name);
    if (before !== undefined) {
      this.#counts[countOf(before)]--;
      if (planned) this.#done.cached -= before.status === "cached" ? 1 : 0;
    } else if (planned) this.#done.all++;
    this.#results.set(result.name, result);
    this.#counts[countOf(result)]++;
    if (planned && result.status === "cached") this.#done.cached++;
    if (result.status === "failed") this.#notes.push(`✗ ${result.name} ${countOf(result)} (its output follows at the end)`);
  }

  counts(): Counts {
    return { ...this.#counts };
  }

  /** The undos that failed, in the order they ran. */
  failedUndos(): UndoResult[] {
    return [...this.#failedUndos];
  }

  /** The tasks that passed after failing. */
  flaky(): string[] {
    return [...this.#results.values()].filter((result) => result.flaky === true).map((result) => result.name);
  }

  /** The tasks a stand-in ran for (`--stub`), by name. */
  stubbed(): string[] {
    return [...this.#results.values()].filter((result) => result.stubbed === true).map((result) => result.name);
  }

  /** The failed tasks' last results. */
  failed(): TaskResult[] {
    return [...this.#results.values()].filter((result) => result.status === "failed");
  }

  /** A failed task's output as it was written, bounded as HeldOutput keeps it. */
  output(task: string, gap: (dropped: number) => HeldLine): HeldLine[] {
    return this.#outputs.get(task)?.lines(gap) ?? [];
  }

  /** Lines printed above the live area so far. */
  get notes(): readonly string[] {
    return this.#notes;
  }

  view(now: number): TuiView {
    const estimate = this.#readEstimate();
    const running: RunningView[] = [];
    let runningLeftMs = 0;
    for (const [name, task] of this.#running) {
      const elapsedMs = Math.max(0, now - task.startedAt);
      running.push({ name, elapsedMs, tail: [...task.tail] });
      runningLeftMs += Math.max(0, this.#expected(name) - elapsedMs);
    }
    const counts = this.counts();
    // Of the tasks that run something: a group skipped is counted (as the plain reporter does), not done.
    const total = this.#plan.tasks.size;
    const { all: done, cached } = this.#done;
    const etaMs = estimate.meanMs === undefined ? undefined : (Math.max(0, estimate.pendingMs) + runningLeftMs) / Math.max(1, Math.min(this.#jobs, total - done));
    return { running, done, doneCached: cached, total, counts, etaMs, notes: this.#notes };
  }
}
