/**
 * The engine: one object that owns everything a build keeps warm, and runs
 * builds with it. An engine lives for one build (`rbuild` started by hand) or
 * for the daemon's lifetime (`resident`); the daemon is nothing more than an
 * engine that outlives a build. Nothing of this lives in module state, so two
 * engines in one process (tests) never share any of it.
 *
 * What it owns:
 * - the runner (the local runner with its process helper);
 * - the freshness records: the record it last read or wrote, and in a
 *   resident engine the records not written yet (see fresh-record.ts);
 * - in a resident engine, a thread for the record's stat pass (stat-helper.ts)
 *   and one that holds the index open and checkpoints it (the store's
 *   IndexKeeper), and what it knows of actions' last uses across builds.
 *
 * A build, `build()`: the no-op check against the record (no lock, no index),
 * else the build lock, the store, the remote, the tasks the record still
 * shows fresh, and the executor's loop over the rest.
 */
import { hostname } from "node:os";
import { makeCacheDirectory, type Reporter, type StrayErrors } from "@rbuild/core";
import type { Graph } from "@rbuild/planner";
import type { Leases, RemoteCache } from "@rbuild/remote";
import { leftRunningMessage, RunnerChoice, type BuildHold, type Runner } from "@rbuild/runners";
import { acquireBuildLock, IndexKeeper, noteAnsweredBuild, RecentUses, Store, type LockWait } from "@rbuild/store";
import { FreshRecords, type FreshCheck } from "./fresh-record.js";
import { execute, type BuildOutcome, type UndoWhen } from "./executor.js";
import { StatHelper } from "./stat-helper.js";
import { gitCommit } from "./git-commit.js";

export interface EngineOptions {
  /** Where errors a task function throws from timers or unawaited promises go: they fail its task. */
  readonly strays?: StrayErrors;
  /** Where tasks run; by default the local runner (with a process helper unless `spawn` is `direct`), and the sandbox runner for tasks that ask for it. */
  readonly runner?: Runner;
  /** How the default runner starts processes (RBUILD_SPAWN=direct: forked from Node). */
  readonly spawn?: "helper" | "direct";
  /**
   * An engine for many builds (the daemon): a stat thread and an index keeper
   * are started, and freshness records are kept in memory and written when `idle` is called.
   */
  readonly resident?: boolean;
}

/** A remote cache to open for a build (loaded only then: the HTTP client is a large part of start-up). */
export interface RemoteRequest {
  readonly url: string;
  readonly token?: string;
  readonly readOnly?: boolean;
}

export interface BuildRequest {
  readonly graph: Graph;
  /** The store directory (`.rbuild`). */
  readonly cacheDir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly reporter: Reporter;
  readonly signal: AbortSignal;
  /** A task's own signal, asked for as it starts: aborting it stops that task only (see ExecuteOptions.cancel). */
  readonly cancel?: (task: string) => AbortSignal | undefined;
  readonly jobs?: number;
  readonly keepGoing?: boolean;
  /** When a failed build runs its tasks' undos (see ExecuteOptions.undo). */
  readonly undo?: UndoWhen;
  /** With `undo: "failure-or-interrupt"`: aborting it stops the undos (see ExecuteOptions.undoSignal). */
  readonly undoSignal?: AbortSignal;
  /** Run every task, ignoring what is cached and what the freshness record says. */
  readonly force?: boolean;
  readonly remote?: RemoteRequest;
  /** How long a shared pool's lease lasts without a heartbeat (default 30 s; see pool-slots.ts). */
  readonly leaseTtlMs?: number;
  /** Tasks taken from the cache only, never run (see ExecuteOptions.cachedOnly). */
  readonly cachedOnly?: ReadonlySet<string>;
  /** Told while the build waits for another rbuild's build lock. */
  readonly onLockWait: (wait: LockWait) => void;
  /** Told as the build passes its phases (for RBUILD_PHASES). */
  readonly onPhase?: (phase: "fresh") => void;
  /**
   * Given the work that records the build and releases the store and lock,
   * the caller runs it later (the daemon answers its client first). Without
   * it, the build records itself before `build` returns.
   */
  readonly afterAnswer?: (work: () => void) => void;
}

export class Engine {
  readonly #runner: Runner & { close?(): void };
  readonly #records: FreshRecords;
  readonly #statHelper: StatHelper | undefined;
  readonly #keeper: IndexKeeper | undefined;
  readonly #recentUses = new RecentUses();
  /** For execute: where a task function's errors after it finished go (as `{ strays }`, or nothing). */
  readonly #strays: { readonly strays?: StrayErrors };

  constructor(options: EngineOptions = {}) {
    this.#strays = options.strays === undefined ? {} : { strays: options.strays };
    this.#runner = options.runner ?? new RunnerChoice({ ...(options.strays === undefined ? {} : { strays: options.strays }), spawn: options.spawn ?? "helper" });
    if (options.resident === true) {
      // Worth their start-up (a thread each, ~30 ms) in a process that serves many builds.
      this.#statHelper = new StatHelper();
      this.#statHelper.start();
      this.#keeper = new IndexKeeper();
      this.#keeper.start();
    }
    this.#records = new FreshRecords({ deferWrites: options.resident === true, ...(this.#statHelper === undefined ? {} : { statHelper: this.#statHelper }) });
  }

  /** Whether the freshness record shows a build of `graph` is a no-op: the no-op check, reading only. */
  check(cacheDir: string, graph: Graph, env: Readonly<Record<string, string | undefined>>): FreshCheck {
    return this.#records.check(cacheDir, graph, env);
  }

  /**
   * A build is asked for in the workspace at `root`: starts the stat pass of
   * the record its last build used on the stat thread, while the Buildfile is
   * loaded (see FreshRecords.prestat). Does nothing in an engine for one build.
   */
  prestat(cacheDir: string, root: string): void {
    this.#records.prestat(cacheDir, root);
  }

  /** The tasks whose function still runs in this process (after an interrupt: those that ignore their signal). */
  functionsRunning(): readonly string[] {
    return this.#runner.functionsRunning?.() ?? [];
  }

  /** Nothing is being built: writes the records kept in memory that still stand. */
  idle(): void {
    this.#records.writeDeferred();
  }

  /** Writes what is deferred and stops the threads and the process helper. */
  close(): void {
    this.#records.writeDeferred();
    this.#keeper?.stop();
    this.#runner.close?.();
  }

  /** How the build ended; undefined when it was interrupted while waiting for the build lock. */
  async build(request: BuildRequest): Promise<BuildOutcome | undefined> {
    const { graph, cacheDir, env, reporter, signal } = request;
    const cancel = request.cancel === undefined ? {} : { cancel: request.cancel };
    // The no-op fast path: every task still as the freshness record has it.
    const check = request.force === true ? undefined : this.#records.check(cacheDir, graph, env);
    request.onPhase?.("fresh");
    // Not while a build that died may have left tasks running: only a build that takes the lock stops them.
    const upToDate = check?.upToDate !== undefined && this.#runner.mayHaveLeftRunning?.(cacheDir) !== true ? check.upToDate : undefined;
    // For the history: a few small files read, no process started (see git-commit.ts).
    const place = { commit: gitCommit(graph.root), host: hostname() };
    if (upToDate !== undefined) {
      const started = Date.now();
      const outcome = await execute({ graph, jobs: request.jobs, runner: this.#runner, reporter, signal, ...cancel, env, upToDate: upToDate.results, ...this.#strays, ...(request.cachedOnly === undefined ? {} : { cachedOnly: request.cachedOnly }) });
      if (outcome.ok) noteAnsweredBuild(cacheDir, { from: upToDate.build, started, finished: Date.now(), targets: graph.targets, ...place });
      return outcome;
    }

    this.#runner.prepare?.([...graph.tasks.values()].map((task) => task.run));
    makeCacheDirectory(cacheDir);
    const lock = await acquireBuildLock(cacheDir, request.onLockWait, signal);
    if (lock === undefined) return undefined;
    this.#records.carry(cacheDir, lock.previousGeneration);
    const info = (code: string, message: string): void => reporter.report({ type: "info", code, message });
    const store = Store.open({ dir: cacheDir, onInfo: info, recentUses: this.#recentUses, ...(this.#keeper === undefined ? {} : { keeper: this.#keeper }) });
    let record: (() => void) | undefined;
    let remote: RemoteCache | undefined;
    let leases: Leases | undefined;
    let hold: BuildHold | undefined;
    try {
      // Before anything runs: what a build that was killed left running would write into this one's outputs.
      hold = await this.#runner.begin?.(cacheDir);
      if (hold !== undefined && hold.stopped.length > 0) info("left-running", leftRunningMessage(hold.stopped));
      remote = request.remote === undefined ? undefined : await openRemoteCache(request.remote, signal);
      leases = request.remote === undefined ? undefined : await openLeases(graph, request.remote);
      // Under the lock the record cannot change: the build starts from it and merges its own entries into it.
      const base = this.#records.read(cacheDir, graph.root);
      const stillUpToDate = request.force === true ? undefined : this.#records.partly(cacheDir, base, graph, env, undefined, { pass: check?.pass, lockFound: lock.previousGeneration });
      const outcome = await execute({
        graph,
        jobs: request.jobs,
        keepGoing: request.keepGoing,
        ...(request.undo === undefined ? {} : { undo: request.undo }),
        ...(request.undoSignal === undefined ? {} : { undoSignal: request.undoSignal }),
        runner: this.#runner,
        reporter,
        signal,
        ...cancel,
        env,
        ...this.#strays,
        place,
        cache: { store, force: request.force, records: this.#records, base: { view: base } },
        // Under the lock: the tasks the record still shows fresh, so only what a change reaches is checked.
        ...(stillUpToDate === undefined ? {} : { upToDate: stillUpToDate }),
        ...(remote === undefined ? {} : { remote: { cache: remote, readOnly: request.remote?.readOnly } }),
        pools: { ...(leases === undefined ? {} : { leases }), ...(request.leaseTtlMs === undefined ? {} : { ttlMs: request.leaseTtlMs }) },
        ...(request.cachedOnly === undefined ? {} : { cachedOnly: request.cachedOnly }),
        ...(request.afterAnswer === undefined ? {} : { recordLater: (work: () => void) => void (record = work) }),
      });
      return outcome;
    } finally {
      await remote?.close();
      await leases?.close();
      const close = (): void => {
        try {
          record?.();
        } finally {
          hold?.release();
          store.close();
          lock.release();
        }
      };
      if (record !== undefined && request.afterAnswer !== undefined) request.afterAnswer(close);
      else close();
    }
  }
}

/** The lease client, for a graph with a task in a shared pool and a cache server (http or https, not a directory or plain store) as its remote. */
async function openLeases(graph: Graph, remote: RemoteRequest): Promise<Leases | undefined> {
  if (!/^https?:\/\//.test(remote.url) || ![...graph.tasks.values()].some((task) => task.pool?.shared === true)) return undefined;
  const { HttpLeases } = await import("@rbuild/remote");
  return new HttpLeases({ url: remote.url, ...(remote.token === undefined ? {} : { token: remote.token }) });
}

/** The remote cache client, imported only when a build uses one; the build's interrupt stops its requests. */
async function openRemoteCache(remote: RemoteRequest, signal: AbortSignal): Promise<RemoteCache> {
  const { openRemote } = await import("@rbuild/remote");
  return openRemote(remote.url, { ...(remote.token === undefined ? {} : { token: remote.token }), signal });
}
