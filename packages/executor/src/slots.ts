/**
 * Run slots: at most `size` commands at once (`-j`). Tasks may be in their
 * cache step beyond that (restoring outputs or waiting on a remote cache is
 * not work for a core), but each takes a slot before its command starts.
 * A freed slot goes to the waiting task of highest priority (the longest
 * chain of work behind it), then first come, first served: a task that
 * became ready later but is on the critical path does not queue behind the
 * tasks looked ahead to.
 */
import { PriorityQueue } from "./priority-queue.js";

/** A slot held by one task. */
export interface SlotGrant {
  /** Gives the slot back, once: returns whether a waiting task took it (and is woken). */
  release(): boolean;
}

interface Waiter {
  readonly priority: number;
  readonly order: number;
  readonly wake: () => void;
}

export class Slots {
  #free: number;
  #arrivals = 0;
  readonly #waiting = new PriorityQueue<Waiter>((a, b) => a.priority > b.priority || (a.priority === b.priority && a.order < b.order));

  constructor(size: number) {
    this.#free = size;
  }

  /** A slot now, if one is free and nobody waits for one. */
  tryTake(): SlotGrant | undefined {
    if (this.#free === 0 || this.#waiting.size > 0) return undefined;
    this.#free--;
    return this.#grant();
  }

  /** A slot, at once if one is free, else once released to this task (see the module's note). */
  async take(priority = 0): Promise<SlotGrant> {
    if (this.#free > 0) {
      this.#free--;
      return this.#grant();
    }
    const order = this.#arrivals++;
    await new Promise<void>((wake) => this.#waiting.push({ priority, order, wake }));
    return this.#grant();
  }

  #grant(): SlotGrant {
    let released = false;
    return {
      release: () => {
        if (released) return false;
        released = true;
        const next = this.#waiting.pop();
        if (next === undefined) {
          this.#free++;
          return false;
        }
        next.wake(); // The slot passes to it as it is: never free in between.
        return true;
      },
    };
  }
}
