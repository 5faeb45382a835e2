import type { BuildEvent, Reporter } from "@rbuild/core";

/** Lines of a failed task's output kept for the JUnit report. */
export const TAIL_LINES = 100;

/**
 * The last TAIL_LINES lines (stdout and stderr, in the order written) of each
 * task that failed, for `--junit`. A running task's tail is kept until it
 * finishes, then dropped unless it failed; a cached task's replayed output is
 * not its run's, and is not kept.
 */
export class OutputTails implements Reporter {
  readonly #tails = new Map<string, string[]>();
  readonly #failed = new Set<string>();

  report(event: BuildEvent): void {
    if (event.type === "task-output" && event.replayed !== true) {
      let tail = this.#tails.get(event.task);
      if (tail === undefined) this.#tails.set(event.task, (tail = []));
      tail.push(event.line);
      if (tail.length > TAIL_LINES * 2) tail.splice(0, tail.length - TAIL_LINES);
    } else if (event.type === "task-finished") {
      if (event.result.status === "failed") this.#failed.add(event.result.name);
      else if (!this.#failed.has(event.result.name)) this.#tails.delete(event.result.name);
    }
  }

  /** The last lines `task` wrote, if it failed. */
  tail(task: string): readonly string[] {
    return this.#failed.has(task) ? (this.#tails.get(task) ?? []).slice(-TAIL_LINES) : [];
  }
}
