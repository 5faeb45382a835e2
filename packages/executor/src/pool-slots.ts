/**
 * Pools: a task with a `pool` waits for a place in it before it takes a run
 * slot (-j), so a task waiting for a pool holds no slot another task could use.
 * A pool's places on this machine are Slots of the pool's size (in priority
 * order, as run slots). A shared pool's holder then also takes a lease from
 * the lease server (the `--remote` cache server): it asks until granted,
 * saying once per change who holds the lease (through a restart of a server
 * that answered the build before: asked again for up to a TTL), heartbeats every TTL/3 while it
 * runs, and releases the lease at the end, whatever the end; a holder that
 * dies stops heartbeating and the server drops it after the TTL.
 */
import { randomBytes } from "node:crypto";
import type { TaskFailure } from "@rbuild/core";
import type { GraphTask, PoolDef } from "@rbuild/planner";
import { RemoteError, type HeldLease, type Leases } from "@rbuild/remote";
import { Slots } from "./slots.js";

/** How long a lease lasts without a heartbeat, unless the build says otherwise (RBUILD_LEASE_TTL_MS). */
export const LEASE_TTL_MS = 30_000;

export interface PoolOptions {
  /** The lease server, for shared pools; without it a task in a shared pool fails before it starts. */
  readonly leases?: Leases;
  /** A lease's TTL (default LEASE_TTL_MS); heartbeats come every third of it. */
  readonly ttlMs?: number;
}

/** A place in a pool, held while the task runs. */
export interface PoolHold {
  /** Gives the place back (and the lease, for a shared pool); once. */
  release(): Promise<void>;
}

/** A place; or the failure that keeps the task from running; or, `stopped`, the build stopped for a failure while it waited. */
export type PoolTake = { readonly ok: true; readonly hold: PoolHold } | { readonly ok: false; readonly failure: TaskFailure } | { readonly ok: false; readonly stopped: true };

const NO_HOLD: PoolHold = { release: async () => {} };

/** "12 s", "3 min": a holder's age as a waiting line shows it. */
function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}

/** Who holds a pool, in the words of the line a waiting task prints. */
export function holdersLine(task: string, pool: PoolDef, holders: readonly HeldLease[]): string {
  const who = holders.length === 0 ? "by nobody now (asking again)" : holders.map((h) => `task ${h.task} of build ${h.build} on ${h.host} (for ${age(h.ageMs)})`).join("; ");
  return `${task}: waiting for shared pool "${pool.name}" (size ${pool.size}), held by ${who}`;
}

/** Whether a lease call failed for want of an answer (a server restarting), rather than being refused. */
function transient(error: unknown): boolean {
  return error instanceof RemoteError && (error.problem === "unreachable" || error.problem === "timeout");
}

/** Waits `ms`, or less when the build is interrupted or stopped. */
function pause(ms: number, signal: AbortSignal, stopped: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      stopped?.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
    stopped?.addEventListener("abort", done, { once: true });
  });
}

export class PoolSlots {
  readonly #local = new Map<string, Slots>();
  readonly #leases: Leases | undefined;
  readonly #ttlMs: number;
  readonly #host: string;
  /** This build as holders show it: the process and a random part (pids are reused). */
  readonly #build: string;
  readonly #info: (code: string, message: string) => void;
  /** Whether the lease server has answered an acquire of this build. */
  #answered = false;

  constructor(options: PoolOptions, host: string, info: (code: string, message: string) => void) {
    this.#leases = options.leases;
    this.#ttlMs = options.ttlMs ?? LEASE_TTL_MS;
    this.#host = host;
    this.#build = `${process.pid}-${randomBytes(3).toString("hex")}`;
    this.#info = info;
  }

  /**
   * A place in the task's pool (at once for a task in none): after the tasks
   * of higher priority waiting for it, and for a shared pool with its lease.
   * `signal` is the build's interrupt; `stopped` aborts when a failure stops
   * the build: a task that waited then does not start (a deploy does not go
   * ahead after the build failed, however long it waited for its lease).
   */
  async take(task: GraphTask, signal: AbortSignal, stopped?: AbortSignal): Promise<PoolTake> {
    const pool = task.pool;
    if (pool === undefined) return { ok: true, hold: NO_HOLD };
    const fail = (message: string): PoolTake => ({ ok: false, failure: { reason: "pool-lease", task: task.name, pool: pool.name, message } });
    if (pool.shared && this.#leases === undefined) {
      return fail("the pool is shared, and its leases come from the cache server: pass --remote <URL of an rbuild-cache-server> (with a token that may write)");
    }
    let local = this.#local.get(pool.name);
    if (local === undefined) this.#local.set(pool.name, (local = new Slots(pool.size)));
    const place = local.tryTake() ?? (await local.take(task.priority));
    if (signal.aborted || stopped?.aborted === true) {
      place.release();
      return signal.aborted ? { ok: false, failure: { reason: "interrupted", task: task.name } } : { ok: false, stopped: true };
    }
    if (!pool.shared) return { ok: true, hold: { release: async () => void place.release() } };
    const leased = await this.#lease(task, pool, signal, stopped);
    if (leased.ok) {
      const lease = leased.hold;
      const release = async (): Promise<void> => {
        await lease.release();
        place.release();
      };
      return { ok: true, hold: { release } };
    }
    place.release();
    if (leased.failure === "stopped") return { ok: false, stopped: true };
    return leased.failure === "interrupted" ? { ok: false, failure: { reason: "interrupted", task: task.name } } : fail(leased.failure);
  }

  /** The task's lease on `pool`, asked for until granted; or why not ("interrupted", "stopped", or a message). */
  async #lease(task: GraphTask, pool: PoolDef, signal: AbortSignal, stopped: AbortSignal | undefined): Promise<{ ok: true; hold: PoolHold } | { ok: false; failure: string }> {
    const leases = this.#leases!;
    const holder = { id: `${this.#host}/${this.#build}/${task.name}`, host: this.#host, build: this.#build, task: task.name };
    const pollMs = Math.max(50, Math.min(1000, Math.floor(this.#ttlMs / 10)));
    let shown: string | undefined;
    /** When the lease server stopped answering, while it does not. */
    let silentSince: number | undefined;
    for (;;) {
      if (signal.aborted) return { ok: false, failure: "interrupted" };
      if (stopped?.aborted === true) return { ok: false, failure: "stopped" };
      let answer;
      try {
        answer = await leases.acquire(pool.name, pool.size, holder, this.#ttlMs, signal);
      } catch (error) {
        if (!signal.aborted) {
          // A server that answered this build before and now does not is restarting, most likely:
          // ask again for up to a TTL (what its holders' leases outlive it by). One that never answered is misconfigured.
          // An acquire granted whose answer was lost is renewed by the next one: the holder is the same.
          const first = silentSince === undefined;
          silentSince ??= Date.now();
          if (this.#answered && transient(error) && Date.now() - silentSince < this.#ttlMs) {
            if (first) this.#info("pool-lease", `${task.name}: the lease server did not answer (${(error as Error).message}); asking again for up to ${age(this.#ttlMs)}`);
            shown = undefined;
            await pause(pollMs, signal, stopped);
            continue;
          }
        }
        // The server may have granted it and its answer been lost (or cut by the interrupt): given back, so
        // that other builds do not wait out its TTL. A release of a lease not held is harmless.
        try {
          await leases.release(pool.name, holder.id);
        } catch {
          // Unreachable too: the lease, if granted, expires within its TTL.
        }
        return { ok: false, failure: signal.aborted ? "interrupted" : (error as Error).message };
      }
      this.#answered = true;
      silentSince = undefined;
      if (answer.granted) break;
      const who = answer.holders.map((h) => h.id).join("\n");
      if (who !== shown) this.#info("pool-wait", holdersLine(task.name, pool, answer.holders));
      shown = who;
      await pause(pollMs, signal, stopped);
    }
    let lost = false;
    let released = false;
    // A heartbeat answered after the release (sent before it) is not held, rightly: it says nothing then.
    const beat = (): void => {
      leases.heartbeat(pool.name, holder.id, this.#ttlMs).then(
        (held) => {
          if (released) return;
          if (!held && !lost) this.#info("pool-lease-lost", `${task.name}: its lease on shared pool "${pool.name}" ended while it ran (expired, or released by hand); another holder may run beside it`);
          lost ||= !held;
        },
        (error: unknown) => {
          if (!released) this.#info("pool-lease", `${task.name}: renewing its lease on shared pool "${pool.name}" failed: ${(error as Error).message}`);
        },
      );
    };
    const heartbeat = setInterval(beat, Math.max(10, Math.floor(this.#ttlMs / 3)));
    return {
      ok: true,
      hold: {
        release: async () => {
          if (released) return;
          released = true;
          clearInterval(heartbeat);
          try {
            await leases.release(pool.name, holder.id);
          } catch (error) {
            this.#info("pool-lease", `${task.name}: releasing its lease on shared pool "${pool.name}" failed (${(error as Error).message}); it expires within ${age(this.#ttlMs)}`);
          }
        },
      },
    };
  }
}
