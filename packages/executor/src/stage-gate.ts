/**
 * Stages in the build loop (see @rbuild/planner plan-stages.ts): a task of a
 * stage may start only once every stage that stage follows has completed,
 * that is, all its tasks finished well. A stage opens (`stage-started`) when
 * the last of those completes, at the start for a stage that follows none;
 * it is finished (`stage-finished`) when all its tasks are done. A failed or
 * skipped task fails its stage: the stages after it never open, and their
 * tasks are skipped (`stage-failed: <stage>`, or `interrupted` when an
 * interrupt stopped it).
 */
import type { BuildEvent, TaskResult } from "@rbuild/core";
import type { Graph, GraphStage, GraphTask } from "@rbuild/planner";

export interface StageGateHooks {
  /** A task held by `mayStart` may start now. */
  readonly release: (task: GraphTask) => void;
  readonly skip: (task: string, reason: string) => void;
  readonly report: (event: BuildEvent) => void;
}

type State = "waiting" | "open" | "failed" | "done";

interface StageRun {
  readonly stage: GraphStage;
  state: State;
  /** Its tasks not done yet. */
  left: number;
  /** The stages it follows that have not completed yet. */
  before: number;
  ok: boolean;
  /** Whether it opened (and so said so): only a stage that started is said to finish. */
  started: boolean;
  readonly held: GraphTask[];
  /** The stages that follow it. */
  readonly next: string[];
}

export class StageGate {
  readonly #graph: Graph;
  readonly #hooks: StageGateHooks;
  readonly #stages = new Map<string, StageRun>();
  /** Tasks counted as done in their stage (a task failed late is recorded twice). */
  readonly #counted = new Set<string>();

  constructor(graph: Graph, hooks: StageGateHooks) {
    this.#graph = graph;
    this.#hooks = hooks;
    for (const stage of graph.stages) this.#stages.set(stage.name, { stage, state: "waiting", left: stage.tasks.length, before: stage.after.length, ok: true, started: false, held: [], next: [] });
    for (const stage of graph.stages) for (const other of stage.after) this.#stages.get(other)!.next.push(stage.name);
  }

  /** At the start of the build: opens the stages that follow none. */
  open(): void {
    for (const run of this.#stages.values()) if (run.before === 0) this.#open(run);
  }

  /** Whether `task`, its deps done, may start; if not, it is held until its stage opens. */
  mayStart(task: GraphTask): boolean {
    const run = task.stage === undefined ? undefined : this.#stages.get(task.stage);
    if (run === undefined || run.started) return true;
    if (run.state === "waiting") run.held.push(task);
    return false;
  }

  /** Counts a recorded result in its task's stage. */
  recorded(result: TaskResult): void {
    if (this.#stages.size === 0) return;
    const run = this.#runOf(result.name);
    if (run === undefined) return;
    const bad = result.status === "failed" || result.status === "skipped";
    if (this.#counted.has(result.name)) {
      // Failed after it was done (late): its stage fails, unless it completed already.
      if (bad && run.state === "open") this.#fail(run, result);
      return;
    }
    this.#counted.add(result.name);
    run.left--;
    if (bad && run.ok) this.#fail(run, result);
    if (run.left > 0 || run.state === "done") return;
    const completed = run.state === "open";
    run.state = "done";
    if (run.started) this.#hooks.report({ type: "stage-finished", stage: run.stage.name, ok: run.ok });
    if (completed) for (const name of run.next) this.#completedBefore(this.#stages.get(name)!);
  }

  #runOf(task: string): StageRun | undefined {
    const stage = this.#graph.tasks.get(task)?.stage;
    return stage === undefined ? undefined : this.#stages.get(stage);
  }

  #open(run: StageRun): void {
    run.state = "open";
    run.started = true;
    this.#hooks.report({ type: "stage-started", stage: run.stage.name, tasks: run.stage.tasks.length });
    for (const task of run.held.splice(0)) this.#hooks.release(task);
  }

  #completedBefore(run: StageRun): void {
    if (--run.before === 0 && run.state === "waiting") this.#open(run);
  }

  /** The stage failed: every stage after it, directly or not, never opens, and its tasks are skipped. */
  #fail(run: StageRun, result: TaskResult): void {
    run.ok = false;
    if (run.state !== "done") run.state = "failed";
    // An interrupt is no failure of the stage: what it stops is skipped as interrupted, as the rest of the build is.
    const interrupted = result.failure?.reason === "interrupted" || result.reasons.includes("interrupted");
    const reason = interrupted ? "interrupted" : `stage-failed: ${run.stage.name}`;
    if (!run.started) {
      run.held.length = 0;
      for (const task of run.stage.tasks) this.#hooks.skip(task, reason);
    }
    const stack = [...run.next];
    const seen = new Set<string>();
    while (stack.length > 0) {
      const name = stack.pop()!;
      if (seen.has(name)) continue;
      seen.add(name);
      const later = this.#stages.get(name)!;
      if (later.state !== "waiting") continue;
      later.state = "failed";
      later.ok = false;
      later.held.length = 0;
      for (const task of later.stage.tasks) this.#hooks.skip(task, reason);
      stack.push(...later.next);
    }
  }
}
