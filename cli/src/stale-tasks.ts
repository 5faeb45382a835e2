/**
 * The tasks of one build that edits made stale while it ran (`rbuild watch`):
 * each task asks for its own signal as it starts (BuildRequest.cancel), and
 * making it stale aborts that signal, which stops its process group as an
 * interrupt does. A task made stale before it starts gets a signal already
 * aborted. Tasks not made stale run on.
 */
export class StaleTasks {
  readonly #controllers = new Map<string, AbortController>();
  readonly #stale = new Set<string>();
  #all = false;

  /** The signal of `task`, which is starting now. */
  signal(task: string): AbortSignal {
    const controller = new AbortController();
    if (this.#all || this.#stale.has(task)) controller.abort();
    this.#controllers.set(task, controller);
    return controller.signal;
  }

  /** These tasks' inputs (or a dep's) changed: stop them, or never start their commands. */
  cancel(tasks: Iterable<string>): void {
    for (const task of tasks) {
      this.#stale.add(task);
      this.#controllers.get(task)?.abort();
    }
  }

  /** The Buildfile changed: any task may be stale. */
  cancelAll(): void {
    this.#all = true;
    for (const controller of this.#controllers.values()) controller.abort();
  }
}
