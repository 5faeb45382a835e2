/**
 * Where a task's command runs: a place in its pool (and, for a shared pool,
 * a lease; see pool-slots.ts), then a run slot (-j; see slots.ts). The pool
 * comes first, so a task waiting for its pool keeps no slot from a task that
 * could run, and counts against no capacity while it waits.
 */
import type { GraphTask } from "@rbuild/planner";
import { PoolSlots, type PoolHold, type PoolOptions, type PoolTake } from "./pool-slots.js";
import { Slots, type SlotGrant } from "./slots.js";
import { result, type Done } from "./task-done.js";

export class RunPlaces {
  readonly #slots: Slots;
  readonly #pools: PoolSlots;
  /** Aborted when a failure stops the build: a task waiting for its pool does not start. */
  readonly #stopped: AbortSignal;
  /** The run slot a running task holds, given back when its command ends (-j 2 or more) or when it is recorded. */
  readonly #held = new Map<string, SlotGrant>();
  #poolWaiting = 0;

  constructor(jobs: number, pools: PoolOptions, host: string, info: (code: string, message: string) => void, stopped: AbortSignal) {
    this.#slots = new Slots(jobs);
    this.#pools = new PoolSlots(pools, host, info);
    this.#stopped = stopped;
  }

  /** Tasks waiting for a place in a pool. */
  get poolWaiting(): number {
    return this.#poolWaiting;
  }

  /**
   * Runs `work` once the task has its place in its pool and a run slot. The
   * slot stays held until `release`; the pool's place is given back when `work`
   * ends. A build stopped by a failure while the task waited for its pool
   * skips it, with `stopReason`, as tasks not yet started are.
   */
  async run(task: GraphTask, signal: AbortSignal, stopReason: () => string, work: () => Promise<Done>): Promise<Done> {
    let pool: PoolHold | undefined;
    if (task.pool !== undefined) {
      // Its own signal (a watch's cancel, with the build's interrupt) stops the wait for a lease.
      this.#poolWaiting++;
      const taken = await this.#pools.take(task, signal, this.#stopped);
      this.#poolWaiting--;
      if ("stopped" in taken) return { result: result(task.name, "skipped", { reasons: [stopReason()] }) };
      if (!taken.ok) return { result: result(task.name, "failed", { reasons: [], failure: taken.failure }) };
      pool = taken.hold;
    }
    try {
      // A free slot is taken in this turn: a command then starts before the next ready task is prepared.
      const slot = this.#slots.tryTake() ?? (await this.#slots.take(task.priority));
      this.#held.set(task.name, slot);
      return await work();
    } finally {
      await pool?.release();
    }
  }

  /** Gives back the task's run slot, if it holds one: whether a waiting task took it. */
  release(task: GraphTask): boolean {
    const slot = this.#held.get(task.name);
    this.#held.delete(task.name);
    return slot?.release() ?? false;
  }

  /** A place in the task's pool alone (an undo runs after the build's loop, with no run slot). */
  takePool(task: GraphTask, signal: AbortSignal): Promise<PoolTake> {
    return this.#pools.take(task, signal);
  }
}
