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
import { setMaxListeners } from "node:events";
import { join, resolve } from "node:path";
import { availableParallelism, hostname } from "node:os";
import type { Reporter, StrayErrors, TaskFailure, TaskResult, UndoResult } from "@rbuild/core";
import type { Digest } from "@rbuild/hash";
import type { Graph, GraphTask } from "@rbuild/planner";
import { ERROR_TAIL_LINES, recordedImagePath, type BuildPlace, type LogLine, type ManifestEntry, type RunRow } from "@rbuild/store";
import { lateFailure, taskOfLabel } from "./late-failure.js";
import { LineSplitter } from "./line-splitter.js";
import { KILL_GRACE_MS, type RunOutcome, type Runner } from "@rbuild/runners";
import type { PoolOptions } from "./pool-slots.js";
import { PriorityQueue } from "./priority-queue.js";
import { RemoteStep, type RemoteOptions } from "./remote-step.js";
import { groupOutputsDigest, type Fresh } from "./fresh-entry.js";
import { CommandRuns } from "./recent-writes.js";
import { OutputTail } from "./output-tail.js";
import { LogCollector, TaskCache, type CacheOptions, type Prepared } from "./task-cache.js";
import { ImageCatalog } from "./image-catalog.js";
import { TaskEnvBuilder } from "./task-env.js";
import { ContextValues, receivesComputedContext } from "./context-values.js";
import { StageGate } from "./stage-gate.js";
import { warmStart } from "./warm-start.js";
import { runUndos, undoOrder, undoSignal, type UndoDone, type UndoWhen } from "./undo.js";
import { undoRow } from "./attempt-rows.js";
import { changedInput } from "./changed-inputs.js";
import { internalError, result, type Done, type Evidence, type RunLog } from "./task-done.js";
import { TaskAttempts, type Captured } from "./task-attempts.js";
import { RunPlaces } from "./run-places.js";
import { cannotComeFromCache, notCached } from "./cached-only.js";
import { depOutputs, upstream as upstreamOf } from "./upstream.js";
import { historyRow } from "./history-row.js";
import { pickUp } from "./remote-pickup.js";
import { lateTasks } from "./late-tasks.js";

export interface ExecuteOptions {
  readonly graph: Graph;
  /** How many tasks may run at once. Defaults to the number of cores. */
  readonly jobs?: number;
  /** Keep running everything not downstream of a failure. */
  readonly keepGoing?: boolean;
  readonly reporter: Reporter;
  /** Where tasks run (see @rbuild/runners): the local runner, or a sandbox, container or CI runner. */
  readonly runner: Runner;
  /** Aborting interrupts the build: running tasks are stopped and nothing new starts. */
  readonly signal?: AbortSignal;
  /**
   * A signal of one task's own, asked for as it starts (`rbuild watch`: aborted
   * when an edit makes the task stale). Aborting it stops that task as an
   * interrupt would, and it fails as interrupted; the rest of the build goes on
   * as after any failure.
   */
  readonly cancel?: (task: string) => AbortSignal | undefined;
  /** The environment tasks' variables are taken from. Defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The local store: without it every task runs and nothing is stored. */
  readonly cache?: CacheOptions;
  /** A remote cache behind the local store (needs `cache`). */
  readonly remote?: RemoteOptions;
  /**
   * Tasks already known to be up to date (from the freshness record, see
   * fresh-record.ts), with their results: reported as cached from the local
   * cache without a lookup. With `cache`, their actions count as used.
   */
  readonly upToDate?: ReadonlyMap<string, Fresh>;
  readonly now?: () => number;
  /**
   * Given the work that records a finished build in the store (history,
   * the freshness record), the caller runs it itself, later: the daemon
   * answers its client first. The store and the build lock must stay open
   * until it has run. Without it, the build records itself before returning.
   */
  readonly recordLater?: (record: () => void) => void;
  /** Where task functions' stray errors are caught: one thrown after its task finished fails that task (late-failure.ts). */
  readonly strays?: StrayErrors;
  /** Where the build runs (git commit, host), for its history (with `cache`). */
  readonly place?: BuildPlace;
  /**
   * Tasks that must come from the cache and never run (`rbuild run <task> --only`: every task but the
   * targets): a miss fails the task with `not-cached`, naming it, and what needs it is skipped.
   */
  readonly cachedOnly?: ReadonlySet<string>;
  /**
   * When a failed build runs its tasks' undos (see undo.ts): after a failure
   * (the default), also after an interrupt, or never (`--no-undo`).
   */
  readonly undo?: UndoWhen;
  /** With `failure-or-interrupt`: aborting it stops the undos (a second Ctrl-C). */
  readonly undoSignal?: AbortSignal;
  /** The jitter of retries' backoff (see retry.ts): numbers in [0, 1). Defaults to Math.random. */
  readonly random?: () => number;
  /** The lease server of shared pools, and their TTL (see pool-slots.ts). */
  readonly pools?: PoolOptions;
}

export type { UndoWhen } from "./undo.js";

export interface BuildOutcome {
  readonly ok: boolean;
  readonly interrupted: boolean;
  readonly durationMs: number;
  /** One result per task of the graph, in the graph's (topological) order. */
  readonly results: readonly TaskResult[];
  /** The last lines (REPORT_TAIL_LINES) each task that failed in its run wrote, for the reports; none for other tasks. */
  readonly failureTails: ReadonlyMap<string, readonly string[]>;
  /** Input files read and hashed (the rest came from the stat cache): by the main thread, and by a helper thread. */
  readonly inputsHashed?: { readonly here: number; readonly helper: number };
  /** The undos a failed build ran, in the order they ran (see undo.ts); empty when it ran none. */
  readonly undos: readonly UndoResult[];
}

/**
 * How many more tasks may be in their cache step than -j allows commands:
 * restoring a task's outputs is mostly file creation, done by libuv's threads
 * (see extractLayer), and a remote lookup is mostly waiting on the network;
 * neither is work for a slot. Commands still start in priority order (Slots).
 */
const LOCAL_LOOKAHEAD = 32;
const REMOTE_LOOKAHEAD = 256;

/**
 * How long the loop works through tasks known to be up to date before it lets
 * the event loop deliver what running tasks did. A build with one edited file
 * learns that some 1,000 tasks are up to date at its start; without a pause
 * the first command's end waited for all of them (5-15 ms), and everything
 * after it on the critical path with it.
 */
const YIELD_AFTER_MS = 1;

/** How long running work may take to stop after an interrupt before the build gives up on it. */
const INTERRUPT_WAIT_MS = KILL_GRACE_MS + 3000;

interface Finished {
  readonly task: GraphTask;
  readonly result: TaskResult;
  /** The last lines its run wrote: kept if it is failed when recorded (a late failure included). */
  readonly outputTail?: readonly string[];
}

type Stop = { kind: "none" } | { kind: "failure"; task: string } | { kind: "interrupt" };

/**
 * Runs the build with the workspace root as the process's directory, so a task
 * function's relative paths mean what they mean to a command task (which runs
 * in the root, or its `cwd`), wherever rbuild was started. Functions run in
 * this process and side by side, and the directory is the process's, so it is
 * the root for all of them: a function task with its own `cwd` gets it as
 * `ctx.cwd` (where `ctx.exec` runs), and rbuild never changes directory per task,
 * which would move it under a function running beside it.
 */
export async function execute(options: ExecuteOptions): Promise<BuildOutcome> {
  let previous: string | undefined;
  try {
    previous = process.cwd();
  } catch {
    // The caller's directory was removed: there is nothing to go back to.
  }
  process.chdir(options.graph.root);
  try {
    return await new Build(options).run();
  } finally {
    if (previous !== undefined) {
      try {
        process.chdir(previous);
      } catch {
        // Removed during the build: stay in the root.
      }
    }
  }
}

class Build {
  readonly #graph: Graph;
  readonly #jobs: number;
  readonly #keepGoing: boolean;
  readonly #reporter: Reporter;
  readonly #runner: Runner;
  readonly #signal: AbortSignal | undefined;
  readonly #cancel: ((task: string) => AbortSignal | undefined) | undefined;
  readonly #now: () => number;
  readonly #env: TaskEnvBuilder;
  readonly #cache: TaskCache | undefined;
  readonly #remote: RemoteStep | undefined;
  readonly #upToDate: ReadonlyMap<string, Fresh> | undefined;
  readonly #recordLater: ((record: () => void) => void) | undefined;
  readonly #strays: StrayErrors | undefined;
  readonly #place: BuildPlace | undefined;
  readonly #cachedOnly: ReadonlySet<string> | undefined;
  readonly #undoWhen: UndoWhen;
  readonly #undoSignal: AbortSignal | undefined;
  /** Tasks' attempts: retries, and what they leave for the history (see task-attempts.ts). */
  readonly #attempts: TaskAttempts;
  /** Late failures (see late-failure.ts) of tasks done but not yet recorded: applied when they are. */
  readonly #lateFailures = new Map<string, TaskFailure>();
  /** Tasks in flight: -j running commands, plus (with a remote) more waiting on the network. */
  readonly #capacity: number;
  /** Places in tasks' pools, then run slots (see run-places.ts); a task waiting for its pool counts against no capacity. */
  readonly #places: RunPlaces;
  /** Outputs digest of every task that finished well: what dependents' keys see. */
  readonly #outputs = new Map<string, Digest>();
  readonly #layers = new Map<string, Digest | null>();
  readonly #evidence = new Map<string, Evidence>();
  readonly #logs = new Map<string, RunLog>();
  readonly #failureTails = new Map<string, readonly string[]>();

  readonly #waitingOn = new Map<string, number>();
  readonly #results = new Map<string, TaskResult>();
  readonly #ready: PriorityQueue<GraphTask>;
  /** Tasks started and not yet finished. */
  readonly #running = new Set<string>();
  /** When the commands whose outputs are captured ran, and beside which others (see TaskCache.capture). */
  readonly #commandRuns = new CommandRuns();
  /**
   * Aborted when the build is interrupted: the signal of every task (a
   * controller per task was 0.6 % of a cold build's main thread, and only an
   * interrupt ever aborted them, all at once).
   */
  readonly #interrupted = new AbortController();
  /** Aborted when a failure stops the build: a task waiting to retry fails with the failure it has. */
  readonly #failed = new AbortController();
  /** Results of work that ran (or tried to), handled before those in #known. */
  readonly #finished: Finished[] = [];
  /** Results known without running anything: up-to-date tasks and groups. */
  readonly #known: Finished[] = [];
  /**
   * Ready tasks known up to date (and groups) that no task with work to do
   * depends on, even transitively: started only when nothing else is pending
   * (see late-tasks.ts).
   */
  readonly #late: PriorityQueue<GraphTask>;
  readonly #isLate: ReadonlySet<string>;
  /** When the loop last let the event loop run (see YIELD_AFTER_MS). */
  #turnStarted = 0;
  #wake: (() => void) | undefined;
  #stop: Stop = { kind: "none" };
  /** Where a task of a stage waits for the stages before it (see stage-gate.ts). */
  readonly #stages: StageGate;
  /** What tasks receive from their ancestors' `context` (see context-values.ts). */
  readonly #context: ContextValues;
  /** The container images of tasks with `runner: { image }` (see image-catalog.ts). */
  readonly #images: ImageCatalog;

  constructor(options: ExecuteOptions) {
    // Every running command listens to it: more than the default ten with -j 10 and up.
    setMaxListeners(Infinity, this.#interrupted.signal);
    this.#graph = options.graph;
    this.#jobs = Math.max(1, options.jobs ?? availableParallelism());
    this.#keepGoing = options.keepGoing ?? false;
    this.#reporter = options.reporter;
    this.#runner = options.runner;
    this.#signal = options.signal;
    this.#cancel = options.cancel;
    this.#now = options.now ?? (() => performance.now());
    const env = options.env ?? process.env;
    this.#env = new TaskEnvBuilder(env);
    this.#cache =
      options.cache === undefined
        ? undefined
        : new TaskCache(options.graph, options.cache, env, (code, message) => this.#reporter.report({ type: "info", code, message }));
    // One catalog for the build: the cache's, whose stat cache knows an image directory's unchanged files.
    this.#images = this.#cache?.images ?? new ImageCatalog(options.graph.root);
    this.#remote =
      options.cache === undefined || options.remote === undefined
        ? undefined
        : new RemoteStep(options.cache.store, options.remote, (message) => this.#reporter.report({ type: "info", code: "remote", message }));
    this.#upToDate = options.upToDate === undefined || this.#cache === undefined ? options.upToDate : this.#cache.usable(options.upToDate);
    this.#recordLater = options.recordLater;
    this.#strays = options.strays;
    this.#place = options.place;
    this.#cachedOnly = options.cachedOnly;
    this.#undoWhen = options.undo ?? "failure";
    this.#undoSignal = options.undoSignal;
    this.#capacity = this.#jobs + (this.#remote !== undefined ? REMOTE_LOOKAHEAD : this.#cache !== undefined ? LOCAL_LOOKAHEAD : 0);
    const info = (code: string, message: string): void => this.#reporter.report({ type: "info", code, message });
    this.#places = new RunPlaces(this.#jobs, options.pools ?? {}, options.place?.host ?? hostname(), info, this.#failed.signal);
    this.#attempts = new TaskAttempts({ root: options.graph.root, reporter: this.#reporter, now: this.#now, random: options.random ?? Math.random, stopped: this.#failed.signal });
    const before = (a: GraphTask, b: GraphTask): boolean => a.priority > b.priority || (a.priority === b.priority && a.name < b.name);
    this.#ready = new PriorityQueue(before);
    this.#late = new PriorityQueue(before);
    this.#isLate = lateTasks(options.graph, this.#upToDate);
    this.#context = new ContextValues(options.graph.root);
    this.#stages = new StageGate(options.graph, {
      release: (task) => this.#makeReady(task),
      skip: (name, reason) => {
        this.#skip(name, reason);
        this.#skipDownstream(this.#graph.tasks.get(name)!, reason);
      },
      report: (event) => this.#reporter.report(event),
    });
  }

  /** Makes a task whose deps are all done ready to start, or puts it with the late ones. */
  #makeReady(task: GraphTask): void {
    if (!this.#stages.mayStart(task)) return;
    if (this.#isLate.has(task.name)) this.#late.push(task);
    else this.#ready.push(task);
  }

  async run(): Promise<BuildOutcome> {
    const start = this.#now();
    const graph = this.#graph;
    this.#turnStarted = start;
    this.#reporter.report({ type: "build-started", targets: graph.targets, tasks: graph.tasks.size, jobs: this.#jobs });
    const build = this.#cache?.store.beginBuild(graph.targets, this.#place);
    this.#stages.open();
    for (const task of graph.tasks.values()) {
      this.#waitingOn.set(task.name, task.deps.length);
      if (task.deps.length === 0) this.#makeReady(task);
    }
    // A build that restores from a remote is bound by this thread while cores wait: hash inputs on
    // another. A cold build keeps every core busy with its tasks, and a helper only adds work.
    // Not awaited: the build starts at once, and finds the helper's digests as they come.
    if (this.#remote !== undefined) this.#cache?.warmInputs(graph).catch(() => {});
    const onAbort = (): void => this.#interrupt();
    this.#signal?.addEventListener("abort", onAbort, { once: true });
    if (this.#signal?.aborted) this.#interrupt();
    const stopTakingLate = this.#strays?.whileBuilding((error, label) => this.#lateError(error, label));

    while (true) {
      while (this.#stop.kind === "none" && this.#running.size - this.#places.poolWaiting < this.#capacity && this.#ready.size > 0) {
        this.#start(this.#ready.pop()!);
      }
      if (this.#running.size === 0 && this.#finished.length === 0 && this.#known.length === 0 && !this.#lateWaiting()) break;
      const next = await this.#nextFinished();
      if (next === undefined) break; // Interrupted work that did not stop in time.
      this.#finish(next.task, next.result, next.outputTail);
    }
    this.#signal?.removeEventListener("abort", onAbort);
    this.#cache?.stopWarming();
    stopTakingLate?.();

    this.#skipRest();
    const interrupted = this.#stop.kind === "interrupt";
    const results = [...graph.tasks.keys()].map((name) => this.#results.get(name)!);
    const ok = !interrupted && results.every((r) => r.status !== "failed" && r.status !== "skipped");
    // A task its caller cancelled (a watch's edit made it stale) stopped as an
    // interrupt does: a build failed only by that is undone only as an
    // interrupted build would be; one where a task also failed for real, as any failed build.
    const failedForReal = results.some((r) => r.status === "failed" && r.failure?.reason !== "interrupted");
    const undos = ok ? [] : await this.#undo(interrupted || !failedForReal);
    await this.#remote?.drain();
    const cache = this.#cache;
    if (cache !== undefined && build !== undefined) {
      const history = [...this.#historyOf(results), ...undos.map(({ result, log }) => undoRow(result, cache.keepLog(log), log, graph.root))];
      const record = (): void => {
        cache.store.finishBuild(build, ok, history, interrupted);
        cache.recordFreshness(graph, build, ok);
      };
      if (this.#recordLater === undefined) record();
      else this.#recordLater(record);
    }
    const durationMs = Math.round(this.#now() - start);
    this.#reporter.report({ type: "build-finished", ok, interrupted, durationMs });
    return {
      ok,
      interrupted,
      durationMs,
      results,
      failureTails: this.#failureTails,
      undos: undos.map((undo) => undo.result),
      ...(this.#cache === undefined ? {} : { inputsHashed: this.#cache.inputsHashed }),
    };
  }

  /**
   * The undos of a failed build, if it runs them (see UndoWhen). An interrupt
   * while they run stops them; with --undo-on-interrupt only `undoSignal` does
   * (the second Ctrl-C: the first one is what they run after).
   */
  async #undo(interrupted: boolean): Promise<UndoDone[]> {
    const signal = undoSignal(this.#undoWhen, interrupted, { build: this.#signal, undo: this.#undoSignal });
    if (signal === undefined) return [];
    const tasks = undoOrder(this.#graph, this.#results);
    if (tasks.length === 0) return [];
    return runUndos(tasks, {
      graph: this.#graph,
      runner: this.#runner,
      reporter: this.#reporter,
      env: (task, cwd) => this.#context.addTo(task, this.#env.build(task.env, cwd)),
      depOutputs: (task) => depOutputs(this.#graph, task),
      signal,
      now: this.#now,
      pool: (task) => this.#places.takePool(task, signal),
    });
  }

  #historyOf(results: readonly TaskResult[]): RunRow[] {
    const kept = { outputs: this.#outputs, layers: this.#layers, evidence: this.#evidence, logs: this.#logs };
    return results.flatMap((r) => [...this.#attempts.failedRows(r.name), { ...historyRow(this.#graph, r, kept), ...this.#imageRow(r) }]);
  }

  /**
   * A container task's image, for `rbuild show` and `export` (a run answered from the freshness record identified none: its key's run did),
   * by its path relative to the workspace root, so that a moved workspace finds it (@rbuild/store `recordedImagePath`).
   */
  #imageRow(r: TaskResult): Pick<RunRow, "image"> {
    const image = r.key === null ? undefined : this.#images.known(this.#graph.tasks.get(r.name)!);
    return image === undefined ? {} : { image: { kind: image.kind, path: recordedImagePath(this.#graph.root, image.path), digest: image.digest } };
  }

  /** A task failed (without keep-going): nothing new starts, and no task waiting to retry tries again. */
  #stopForFailure(task: string): void {
    this.#stop = { kind: "failure", task };
    this.#failed.abort();
  }

  #interrupt(): void {
    this.#stop = { kind: "interrupt" };
    this.#interrupted.abort();
    this.#wake?.(); // So the loop starts waiting with a deadline.
  }

  /** Whether a late task (see late-tasks.ts) is waiting to be started: none once the build stops. */
  #lateWaiting(): boolean {
    return this.#late.size > 0 && this.#stop.kind === "none";
  }

  /**
   * The next result to record: one of work that ran first, then one known
   * without running, then a late task's (started here).
   */
  async #nextFinished(): Promise<Finished | undefined> {
    if (this.#finished.length === 0 && this.#running.size > 0 && this.#now() - this.#turnStarted > YIELD_AFTER_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      this.#turnStarted = this.#now();
    }
    if (this.#finished.length === 0 && this.#known.length === 0 && this.#lateWaiting()) this.#start(this.#late.pop()!);
    let timer: NodeJS.Timeout | undefined;
    while (this.#finished.length === 0 && this.#known.length === 0) {
      const woken = new Promise<boolean>((resolveWake) => {
        this.#wake = () => resolveWake(true);
        if (this.#stop.kind === "interrupt") timer = setTimeout(() => resolveWake(false), INTERRUPT_WAIT_MS);
      });
      const progressed = await woken;
      this.#turnStarted = this.#now();
      if (timer !== undefined) clearTimeout(timer);
      if (!progressed && this.#finished.length === 0 && this.#known.length === 0) return undefined;
    }
    return this.#finished.shift() ?? this.#known.shift();
  }

  #start(task: GraphTask): void {
    // A group, or a task the freshness record or the caller already knows is up to date: done now, with no
    // promise, controller or slot (a no-op build of 1,000 tasks is all of this).
    const known = task.run === undefined ? undefined : this.#upToDate?.get(task.name);
    if (task.run === undefined || known !== undefined) {
      let done: Done;
      try {
        done = known === undefined ? this.#groupDone(task) : this.#upToDateResult(task, known);
      } catch (error) {
        done = internalError(task, error);
      }
      this.#done(task, done, 0, this.#known);
      return;
    }
    this.#running.add(task.name);
    const started = this.#now();
    void this.#runTask(task, this.#taskSignal(task)).then((done) => {
      this.#done(task, done, Math.round(this.#now() - started), this.#finished);
      this.#wake?.();
    });
  }

  /** What stops a task: the build's interrupt, and its own cancel signal when the caller gives one. */
  #taskSignal(task: GraphTask): AbortSignal {
    const own = this.#cancel?.(task.name);
    return own === undefined ? this.#interrupted.signal : AbortSignal.any([this.#interrupted.signal, own]);
  }

  /** Keeps what dependents need of a finished task and queues its result for #finish. */
  #done(task: GraphTask, done: Done, durationMs: number, queue: Finished[]): void {
    if (done.outputsDigest !== undefined) this.#outputs.set(task.name, done.outputsDigest);
    if (done.layer !== undefined) this.#layers.set(task.name, done.layer);
    if (done.evidence !== undefined) this.#evidence.set(task.name, done.evidence);
    if (done.log !== undefined) this.#logs.set(task.name, done.log);
    queue.push({ task, result: { ...done.result, durationMs }, ...(done.outputTail === undefined ? {} : { outputTail: done.outputTail }) });
  }

  /** Runs one task; the one place where an unexpected exception becomes a task failure. */
  async #runTask(task: GraphTask, signal: AbortSignal): Promise<Done> {
    const started = this.#now();
    try {
      const cache = this.#cache;
      const cachedOnly = this.#cachedOnly?.has(task.name) === true;
      const cannot = cachedOnly ? cannotComeFromCache(task, cache) : undefined;
      if (cannot !== undefined) return this.#notCached(task, cannot);
      if (cache === undefined) {
        const reasons = task.stubbed === true ? ["stubbed"] : task.pure ? ["no-record"] : ["impure"];
        return await this.#inSlot(task, signal, async () => (await this.#attempting(task, signal, reasons)).done);
      }

      if (task.pure && !cache.force && !receivesComputedContext(task)) {
        const fresh = cache.fresh(task, this.#outputs);
        if (fresh !== undefined) return this.#upToDateResult(task, fresh);
      }
      const prepared = cache.prepare(task, this.#outputs, this.#context.of(task));
      if (prepared.undecodable.length > 0) {
        const failure: TaskFailure = { reason: "undecodable-path", task: task.name, field: "inputs", paths: prepared.undecodable };
        return { result: result(task.name, "failed", { reasons: [], failure }) };
      }
      if (prepared.throughLink !== undefined) return { result: result(task.name, "failed", { reasons: [], failure: prepared.throughLink }) };
      if (prepared.imageFailure !== undefined) return { result: result(task.name, "failed", { reasons: [], failure: prepared.imageFailure }) };
      let reasons: string[];
      // Before the task's state is replaced (by a hit or after the run).
      const changed = task.pure ? cache.changedInputs(task, prepared) : [];
      if (task.pure && !cache.force) {
        const local = cache.restore(task, prepared);
        let restored = local instanceof Promise ? await local : local;
        let source: "local" | "remote" = "local";
        if (!restored.hit && this.#remote !== undefined && (await this.#remote.fetch(task, prepared.key))) {
          restored = await cache.restore(task, prepared);
          source = "remote";
        }
        if (restored.hit) {
          this.#replay(task, restored.log);
          const cached = result(task.name, "cached", { cache: source, key: prepared.key, exitCode: restored.entry.exitCode, reasons: [] });
          const evidence: Evidence = { restored: true, changedInputs: changed, outputs: restored.entry.manifest };
          return { result: cached, outputsDigest: restored.entry.outputsDigest, layer: restored.entry.layer, evidence };
        }
        if (cachedOnly) return this.#notCached(task, "missing");
        reasons = restored.reasons;
      } else {
        reasons = cache.explain(task, prepared);
      }
      const starting = cache.startOutputs(task, prepared);
      const cannotStart = starting instanceof Promise ? await starting : starting;
      if (cannotStart !== undefined) {
        cache.remember(task, prepared, false, reasons);
        return { result: result(task.name, "failed", { key: task.pure ? prepared.key : null, reasons, failure: cannotStart }) };
      }
      if (task.incremental && !cache.force) await warmStart(cache.store, this.#graph.root, task, () => cache.clearOutputs(task, prepared), (code, message) => this.#reporter.report({ type: "info", code, message }));
      // With -j 1 the slot is held until the outputs are stored: one task is done before the next starts.
      return await this.#inSlot(task, signal, async () => {
        try {
          return await this.#runAndCapture(task, prepared, signal, reasons, changed, started);
        } finally {
          this.#commandRuns.take(task.name);
        }
      });
    } catch (error) {
      return internalError(task, error);
    }
  }

  /** Runs a task that missed the cache, in its slot, and stores what it produced. */
  async #runAndCapture(task: GraphTask, prepared: Prepared, signal: AbortSignal, reasons: string[], changed: readonly string[], started: number): Promise<Done> {
    const cache = this.#cache!;
    const { done, log } = await this.#attempting(task, signal, reasons, prepared);
    // With -j 2 or more the command's slot is free once it has ended: the next command starts
    // (in the turn the slot wakes it) while this task's outputs are stored, as ninja starts one
    // while it records the last. With -j 1 a task is done before the next starts.
    if (this.#jobs > 1 && this.#places.release(task)) await new Promise((resolve) => setImmediate(resolve));
    const key = task.pure ? prepared.key : null;
    const ran = (outputs: readonly ManifestEntry[] | null): Evidence | undefined => (task.pure ? { restored: false, changedInputs: changed, outputs } : undefined);
    const lines = log.finish();
    const tail = (): string[] => lines.slice(-ERROR_TAIL_LINES).map(([, line]) => line);
    const madeStale = (signal.aborted && !this.#interrupted.signal.aborted) || (this.#cancel !== undefined && changedInput(this.#graph.root, prepared.files, task.outputs) !== undefined);
    if (done.result.status === "ran" && madeStale) {
      // A watch's edit made it stale while it ran: its own cancel came after its command ended, or an input
      // is not as it was when its key was made (the watcher has not said so yet). What it read may be the
      // edited inputs, not those of its key, so nothing is stored; it stops as if cancelled in time.
      cache.remember(task, prepared, false, reasons);
      const cancelled = result(task.name, "failed", { key, exitCode: done.result.exitCode, reasons, failure: { reason: "interrupted", task: task.name } });
      return { result: cancelled, evidence: ran(null), log: { digest: cache.keepLog(lines), tail: tail() } };
    }
    if (done.result.status !== "ran") {
      cache.remember(task, prepared, false, reasons);
      return { ...done, result: { ...done.result, key }, evidence: ran(null), log: { digest: cache.keepLog(lines), tail: tail() } };
    }
    if (done.inRemoteCache === true) return pickUp(cache, this.#remote, { task, prepared, done, reasons, lines }, ran);
    const run = this.#commandRuns.take(task.name) ?? { since: Date.now(), until: Date.now(), beside: [] };
    const captured = cache.capture(task, prepared, lines, done.result.exitCode, Math.round(this.#now() - started), run);
    if (captured.refused !== undefined) {
      cache.remember(task, prepared, false, reasons);
      const failed = result(task.name, "failed", { key, exitCode: done.result.exitCode, reasons, failure: captured.refused });
      return { result: failed, evidence: ran(null), log: { digest: captured.log, tail: tail() }, outputTail: done.outputTail };
    }
    if (captured.entry !== undefined) this.#remote?.upload(captured.entry);
    cache.remember(task, prepared, true, reasons);
    const evidence = ran(captured.entry?.manifest ?? null);
    return { result: { ...done.result, key }, outputsDigest: captured.outputsDigest, layer: captured.layer, evidence, log: { digest: captured.log } };
  }

  /** A task `--only` needs from the cache that is not there (see cached-only.ts). */
  #notCached(task: GraphTask, why: "missing" | "impure"): Done {
    return notCached(this.#graph, this.#cachedOnly!, task, why, this.#remote !== undefined);
  }

  /** Runs the task's attempts (see task-attempts.ts); with `prepared` (the cache step) each attempt's output is logged. */
  #attempting(task: GraphTask, signal: AbortSignal, reasons: readonly string[], prepared?: Prepared): Promise<{ done: Done; log: LogCollector }> {
    const cache = this.#cache;
    const captured: Captured | undefined =
      prepared === undefined || cache === undefined ? undefined : { startOutputs: () => cache.startOutputs(task, prepared), keepLog: (lines) => cache.keepLog(lines), key: prepared.key };
    return this.#attempts.run(task, signal, reasons, (log) => this.#execute(task, signal, reasons, log), captured);
  }

  /** A group runs nothing: it is cached when everything it groups was. */
  #groupDone(task: GraphTask): Done {
    const allCached = task.deps.every((dep) => this.#results.get(dep)?.status === "cached");
    return { result: { ...result(task.name, allCached ? "cached" : "ran", { reasons: [] }), group: true }, outputsDigest: groupOutputsDigest(task, this.#outputs) };
  }

  /** A task whose freshness entry holds: cached, its log shown again, nothing touched. */
  #upToDateResult(task: GraphTask, fresh: Fresh): Done {
    this.#cache?.adopt(task.name, fresh);
    this.#replay(task, fresh.log);
    const cached = result(task.name, "cached", { cache: "local", key: fresh.key, exitCode: fresh.exitCode, reasons: [] });
    return { result: cached, outputsDigest: fresh.outputsDigest, layer: fresh.layer };
  }

  /** Shows a cached task's stored output again. */
  #replay(task: GraphTask, log: readonly LogLine[]): void {
    for (const [stream, line] of log) {
      this.#reporter.report({ type: "task-output", task: task.name, stream: stream === "o" ? "stdout" : "stderr", line, replayed: true });
    }
  }

  /**
   * Runs `work` once the task has its place in its pool and a run slot (see
   * run-places.ts). The slot is given back when the task's result is recorded
   * (#finish), or with -j 2 or more when its command ends (#runTask), so with
   * -j 1 a task is reported done before the next one starts.
   */
  #inSlot(task: GraphTask, signal: AbortSignal, work: () => Promise<Done>): Promise<Done> {
    // A build stopped for a failure while the task waited for its pool: it does not start, as tasks not yet started do not.
    const stopReason = (): string => (this.#stop.kind === "failure" ? `build-stopped: ${this.#stop.task} failed` : "not-reached");
    return this.#places.run(task, signal, stopReason, work);
  }

  /**
   * Runs the task's command or function through the runner, reporting its output line by line. Called in a slot.
   * With `log` (a task whose outputs are then captured), when the command ran is kept in #commandRuns.
   */
  async #execute(task: GraphTask, signal: AbortSignal, reasons: readonly string[], log?: LogCollector): Promise<Done> {
    if (signal.aborted) return { result: result(task.name, "failed", { reasons, failure: { reason: "interrupted", task: task.name } }) };
    const run = task.run;
    // Groups are done before they would take a slot (see #start).
    if (run === undefined) throw new Error(`bug: group "${task.name}" reached the runner`);
    if (log !== undefined) this.#commandRuns.started(task.name);
    this.#reporter.report({ type: "task-started", task: task.name, reasons });
    const tail = new OutputTail();
    const emit = (stream: "stdout" | "stderr") =>
      new LineSplitter((line) => {
        log?.add(stream, line);
        tail.add(line);
        this.#reporter.report({ type: "task-output", task: task.name, stream, line });
      });
    const stdout = emit("stdout");
    const stderr = emit("stderr");
    const cwd = resolve(this.#graph.root, task.cwd);
    const env = this.#context.addTo(task, this.#env.build(task.env, cwd));
    const image = this.#images.of(task);
    if (image?.ok === false) return { result: result(task.name, "failed", { reasons, failure: { reason: "spawn-failed", task: task.name, message: image.message } }) };
    const engine = typeof task.runner === "object" ? task.runner.engine : undefined;
    const upstream = upstreamOf(this.#graph, task);
    let outcome: RunOutcome;
    try {
      outcome = await this.#runner.run({
        task: task.name,
        run,
        root: this.#graph.root,
        cwd,
        env,
        inputs: task.inputs,
        depOutputs: depOutputs(this.#graph, task),
        depInputs: upstream.filter((dep) => dep.inputs.length > 0).map((dep) => dep.inputs),
        outputs: task.outputs,
        sandbox: task.runner === "sandbox",
        ...(image === undefined ? {} : { image: { source: image.image, storeDir: this.#cache?.store.dir ?? join(this.#graph.root, ".rbuild"), ...(engine === undefined ? {} : { engine }) } }),
        network: task.network === true,
        // Run elsewhere, `rbuild run <task> --only` takes its deps from the cache: an impure one is never there.
        remoteResult: log !== undefined && task.pure && this.#remote !== undefined && upstream.every((dep) => dep.pure || dep.run === undefined),
        signal,
        stdout: (chunk) => stdout.write(chunk),
        stderr: (chunk) => stderr.write(chunk),
        info: (code, message) => this.#reporter.report({ type: "info", code, message }),
      });
    } finally {
      if (log !== undefined) this.#commandRuns.ended(task.name);
      stdout.end();
      stderr.end();
    }
    // A stand-in ran (see stubTasks in @rbuild/planner): the result says so, wherever it is reported.
    const stubbed = task.stubbed === true ? ({ stubbed: true } as const) : {};
    if (!outcome.ok) return { result: { ...result(task.name, "failed", { exitCode: outcome.exitCode, reasons, failure: outcome.failure }), ...stubbed }, outputTail: tail.lines() };
    switch (outcome.produced.kind) {
      case "in-place":
        return { result: { ...result(task.name, "ran", { exitCode: outcome.exitCode, reasons }), ...stubbed }, outputTail: tail.lines() };
      case "remote-cache":
        if (log === undefined || !task.pure || this.#remote === undefined) throw new Error(`bug: the runner answered remote-cache for task "${task.name}", which did not ask for it`);
        return { result: result(task.name, "ran", { exitCode: outcome.exitCode, reasons }), outputTail: tail.lines(), inRemoteCache: true };
    }
  }

  /**
   * A task function's code threw after its task finished: the task fails now
   * (recorded again, as failed, and its cache entry dropped, so no later build
   * restores a result it did not stand behind), with what a failure brings:
   * what is downstream and not yet done is skipped, and without keep-going the
   * build starts nothing more. False when the label names no task of this build.
   */
  #lateError(error: unknown, label: string): boolean {
    const name = taskOfLabel(this.#graph, label);
    if (name === undefined) return false;
    const failure = lateFailure(name, error);
    const recorded = this.#results.get(name);
    if (recorded === undefined) {
      // Done, its result queued for #finish: failed there.
      if (!this.#lateFailures.has(name)) this.#lateFailures.set(name, failure);
      return true;
    }
    if (recorded.status === "failed") return true; // Reported with its first failure.
    this.#failLate(this.#graph.tasks.get(name)!, recorded, failure);
    this.#wake?.();
    return true;
  }

  #failLate(task: GraphTask, recorded: TaskResult, failure: TaskFailure): void {
    this.#cache?.forget(task.name, recorded.key);
    this.#outputs.delete(task.name);
    this.#record({ ...recorded, status: "failed", failure });
    this.#skipDownstream(task, `dependency-failed: ${task.name}`);
    if (!this.#keepGoing && this.#stop.kind === "none") this.#stopForFailure(task.name);
  }

  #finish(task: GraphTask, result: TaskResult, outputTail?: readonly string[]): void {
    const late = this.#lateFailures.get(task.name);
    if (late !== undefined && result.status !== "failed") {
      this.#cache?.forget(task.name, result.key);
      this.#outputs.delete(task.name);
      result = { ...result, status: "failed", failure: late };
    }
    const contextFailure = result.status === "failed" || task.context.length === 0 ? undefined : this.#context.settle(task);
    if (contextFailure !== undefined) result = { ...result, status: "failed", failure: contextFailure };
    if (result.status === "failed" && outputTail !== undefined) this.#failureTails.set(task.name, outputTail);
    this.#running.delete(task.name);
    this.#record(result);
    this.#places.release(task);
    if (result.status === "failed") {
      const interrupted = result.failure?.reason === "interrupted";
      this.#skipDownstream(task, interrupted ? "interrupted" : `dependency-failed: ${task.name}`);
      if (!this.#keepGoing && this.#stop.kind === "none") this.#stopForFailure(task.name);
      return;
    }
    for (const name of task.dependents) {
      const left = this.#waitingOn.get(name)! - 1;
      this.#waitingOn.set(name, left);
      if (left === 0 && !this.#results.has(name)) this.#makeReady(this.#graph.tasks.get(name)!);
    }
  }

  #record(result: TaskResult): void {
    const attempts = this.#attempts.taken(result.name);
    if (attempts !== undefined) {
      // Flaky: it passed after failing (a result failed late is no longer).
      const { flaky: _, ...rest } = result;
      result = { ...rest, attempts, ...(result.status === "ran" ? { flaky: true as const } : {}) };
    }
    this.#results.set(result.name, result);
    this.#reporter.report({ type: "task-finished", result });
    this.#stages.recorded(result);
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
    for (const name of this.#running) {
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
