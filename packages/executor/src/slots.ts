/**
 * Run slots: at most `size` commands at once (`-j`). Tasks may be in their
 * cache step beyond that (restoring outputs or waiting on a remote cache is
 * not work for a core), but each takes a slot before its command starts.
 * A freed slot goes to the waiting task of highest priority (the longest
 * chain of work behind it), then first come, first served: a task that
 * became ready later but is on the critical path does not queue behind the
 * tasks looked ahead to.
 *
 * Handing over: a slot whose command has started is promised to the waiting
 * task of highest priority before it is free, if that task's command can be
 * queued behind the running one (`queueable`, see Launcher: the process
 * helper starts it the moment the running one ends). A slot freed the usual
 * way waits for this thread to learn of the command's end and start the
 * next: 0.7 ms at the median and 3 ms at the 90th percentile of a cold build
 * of 1,000 commands of 5 ms. Only a started command takes a follower, so each
 * slot has at most one command queued behind it; and when another slot frees
 * first, a follower still waiting moves there and starts at once (`moved`),
 * so a follower is never stuck behind a long command while other slots
 * churn, and the command it waited behind can take a follower again.
 */
import { PriorityQueue } from "./priority-queue.js";

/** A slot held by one task: to start now (`after` undefined), or queued behind the command `after`. */
export type SlotGrant<C> = SlotHeld<C> & (
  | { readonly after: undefined; readonly moved?: undefined }
  | {
      /** The command this task's command is to start after, holding the slot from then on. */
      readonly after: C;
      /** Aborted when this task is to start at once instead: a slot freed before `after` ended. */
      readonly moved: AbortSignal;
    }
);

interface SlotHeld<C> {
  /** This task's command has started, as `command`: a waiting task may be queued behind it. */
  started(command: C): void;
  /** Gives the slot back, once, unless it was handed over: returns whether a waiting task took it (and is woken). */
  release(): boolean;
}

interface Waiter<C> {
  readonly priority: number;
  readonly order: number;
  readonly queueable: boolean;
  /** With its holder, made (and linked to the holder it queues behind, if any) when it is woken. */
  readonly wake: (holder: Holder<C>) => void;
}

interface Holder<C> {
  readonly priority: number;
  /** This holder's command, once started. */
  command: C | undefined;
  released: boolean;
  /** The task queued behind this holder's command: this holder's release gives nothing back. */
  follower: Holder<C> | undefined;
  /** The holder this one is queued behind, until this one starts, moves or its giver releases. */
  from: Holder<C> | undefined;
  /** For a follower only (most holders start at once; creating an AbortController for each was 0.6 % of a cold build's main thread). */
  readonly moved: AbortController | undefined;
}

export class Slots<C = never> {
  #free: number;
  #arrivals = 0;
  readonly #waiting = new PriorityQueue<Waiter<C>>((a, b) => a.priority > b.priority || (a.priority === b.priority && a.order < b.order));
  /** Held slots whose command has started and has no follower yet. */
  readonly #open = new Set<Holder<C>>();
  /** Followers queued behind a command that has not ended yet (as far as this thread knows). */
  readonly #queued = new Set<Holder<C>>();

  constructor(size: number) {
    this.#free = size;
  }

  /** A slot now, if one is free and nobody waits for one. */
  tryTake(): SlotGrant<C> | undefined {
    if (this.#free === 0 || this.#waiting.size > 0) return undefined;
    this.#free--;
    return this.#grant(this.#holder(0, undefined)); // Its priority only matters while it is a follower.
  }

  /**
   * A slot, when one is free; or, for a `queueable` task, one whose command
   * has started, to queue behind (see `after`), unless a task of higher
   * priority waits.
   */
  async take(priority = 0, queueable = false): Promise<SlotGrant<C>> {
    if (this.#free > 0) {
      this.#free--;
      return this.#grant(this.#holder(priority, undefined));
    }
    const top = this.#waiting.peek();
    const open = queueable && (top === undefined || top.priority < priority) ? this.#open.values().next().value : undefined;
    if (open !== undefined) return this.#grant(this.#holder(priority, open));
    const order = this.#arrivals++;
    return this.#grant(await new Promise<Holder<C>>((wake) => this.#waiting.push({ priority, order, queueable, wake })));
  }

  /** A new holder; queued behind `from` when given (linked now, so `from` cannot be given to another). */
  #holder(priority: number, from: Holder<C> | undefined): Holder<C> {
    const holder: Holder<C> = { priority, command: undefined, released: false, follower: undefined, from, moved: from === undefined ? undefined : new AbortController() };
    if (from !== undefined) {
      this.#open.delete(from);
      from.follower = holder;
      this.#queued.add(holder);
    }
    return holder;
  }

  #grant(holder: Holder<C>): SlotGrant<C> {
    const held: SlotHeld<C> = {
      started: (command) => {
        this.#unqueue(holder);
        if (holder.released) return;
        holder.command = command;
        this.#opened(holder);
      },
      release: () => this.#release(holder),
    };
    // A follower's giver has started its command: that is what made it open (see #opened).
    const after = holder.from?.command;
    return after === undefined || holder.moved === undefined ? { ...held, after: undefined } : { ...held, after, moved: holder.moved.signal };
  }

  /** A follower no longer waits behind its giver: it started, moved, or its giver's command ended. */
  #unqueue(holder: Holder<C>): void {
    this.#queued.delete(holder);
    holder.from = undefined;
  }

  #release(holder: Holder<C>): boolean {
    if (holder.released) return false;
    holder.released = true;
    this.#open.delete(holder);
    const follower = holder.follower;
    if (follower !== undefined) {
      // The follower starts (or has started) in this slot: the helper saw this command end.
      if (follower.from === holder) this.#unqueue(follower);
      return false;
    }
    const giver = holder.from;
    if (giver !== undefined) {
      // Queued, and never started (its directory was missing, or the build stopped): the slot is
      // still the giver's, whose command has not ended.
      this.#unqueue(holder);
      giver.follower = undefined;
      this.#opened(giver);
      return false;
    }
    return this.#freed();
  }

  /**
   * A slot is free: a follower still waiting behind a running command moves
   * here and starts now, unless a waiting task outranks it; else the waiting
   * task of highest priority takes it.
   */
  #freed(): boolean {
    const top = this.#waiting.peek();
    let stuck: Holder<C> | undefined;
    for (const queued of this.#queued) if (stuck === undefined || queued.priority > stuck.priority) stuck = queued;
    if (stuck !== undefined && (top === undefined || stuck.priority >= top.priority)) {
      const giver = stuck.from!;
      this.#unqueue(stuck);
      giver.follower = undefined;
      stuck.moved?.abort();
      this.#opened(giver);
      return true;
    }
    const next = this.#waiting.pop();
    if (next === undefined) {
      this.#free++;
      return false;
    }
    next.wake(this.#holder(next.priority, undefined));
    return true;
  }

  /** A holder's command has started (and has no follower): the waiting task of highest priority queues behind it, if it can. */
  #opened(holder: Holder<C>): void {
    if (holder.released) return;
    const top = this.#waiting.peek();
    if (top?.queueable) {
      this.#waiting.pop();
      top.wake(this.#holder(top.priority, holder));
    } else {
      this.#open.add(holder);
    }
  }
}
