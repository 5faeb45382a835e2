/**
 * Task functions that can never finish. A function whose promise waits on
 * nothing (`await new Promise(() => {})`, a promise whose resolver was
 * dropped) leaves the event loop with nothing to do while the build awaits
 * it; Node then ends the process with status 13 ("unsettled top-level
 * await"), silently, with no summary. Node says when the loop has drained:
 * `beforeExit`. Then nothing that could settle a pending function is left (no
 * timer, socket, child process or other task), so each one pending is given
 * up on, and the build goes on to fail those tasks and finish.
 *
 * One listener per runner, there only while some function is pending: many
 * functions running at once add no listener each (Node warns past ten).
 * Work kept alive by nothing (a timer or socket that is `unref()`ed) does not
 * count: the process would have ended without waiting for it.
 */

/** What a function pending when the loop drains settles as, instead of its own value. */
export const NEVER_SETTLES: unique symbol = Symbol("never settles");

export class DrainedLoop {
  readonly #pending = new Set<() => void>();
  readonly #onDrain = (): void => {
    const pending = [...this.#pending];
    this.#pending.clear();
    process.off("beforeExit", this.#onDrain);
    for (const giveUp of pending) giveUp();
  };

  /** `promise`, or NEVER_SETTLES if the event loop drains while it is pending. */
  async race<T>(promise: Promise<T>): Promise<T | typeof NEVER_SETTLES> {
    let giveUp!: () => void;
    const drained = new Promise<typeof NEVER_SETTLES>((resolve) => {
      giveUp = () => resolve(NEVER_SETTLES);
    });
    if (this.#pending.size === 0) process.on("beforeExit", this.#onDrain);
    this.#pending.add(giveUp);
    try {
      return await Promise.race([promise, drained]);
    } finally {
      if (this.#pending.delete(giveUp) && this.#pending.size === 0) process.off("beforeExit", this.#onDrain);
    }
  }
}
