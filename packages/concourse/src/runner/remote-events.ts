/**
 * What the one-off build's rbuild says, turned back into the task's own output. The build runs
 * `rbuild run <task> --only --output json`: its stdout is rbuild's build events, one JSON object a
 * line (see @rbuild/core events.ts), so that the task's lines come back as they were written, not as
 * the lines of a reporter there that this machine's reporter would prefix again (`[app] [app] ...`).
 *
 * - A `task-output` line of the task is handed on as that line, on its stream. Lines of other tasks
 *   (its deps there are only taken from the cache) and every other event are not output.
 * - `task-finished` results are kept: the task's own failure (its real exit code, for the executor's
 *   `retryOn`), or the failure that stopped it there (a dep not in the cache).
 * - A stdout line that is not an event (a shell in the image saying rbuild is missing) and whatever
 *   the build writes on stderr (rbuild's own errors before it ran anything) are handed on as written.
 *
 * Log payloads are chunks of the stream, split anywhere: a line is only read once it is whole.
 */
import type { TaskFailure, TaskResult } from "@rbuild/core";

export interface RemoteEventSinks {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export class RemoteEvents {
  readonly #task: string;
  readonly #sinks: RemoteEventSinks;
  #partial = "";
  /** The task's result there, once it finished. */
  #own: TaskResult | undefined;
  /** The first failure of another task there (the reason the task did not run). */
  #other: TaskFailure | undefined;

  constructor(task: string, sinks: RemoteEventSinks) {
    this.#task = task;
    this.#sinks = sinks;
  }

  /** A `log` event's payload. */
  log(source: "stdout" | "stderr", payload: string): void {
    if (source === "stderr") {
      this.#sinks.stderr(payload);
      return;
    }
    const lines = (this.#partial + payload).split("\n");
    this.#partial = lines.pop()!;
    for (const line of lines) this.#line(line);
  }

  /** The stream ended: a last line without its newline is read too. */
  end(): void {
    if (this.#partial !== "") this.#line(this.#partial);
    this.#partial = "";
  }

  /** How the task ended there, when rbuild there said so. */
  get result(): TaskResult | undefined {
    return this.#own;
  }

  /** What failed there first when it was not the task itself. */
  get otherFailure(): TaskFailure | undefined {
    return this.#other;
  }

  #line(line: string): void {
    const event = parseEvent(line);
    if (event === undefined) {
      this.#sinks.stdout(`${line}\n`);
      return;
    }
    if (event.type === "task-output" && event.task === this.#task && typeof event.line === "string") {
      (event.stream === "stderr" ? this.#sinks.stderr : this.#sinks.stdout)(`${event.line}\n`);
    } else if (event.type === "task-finished" && typeof event.result === "object" && event.result !== null) {
      const result = event.result as TaskResult;
      if (result.name === this.#task) this.#own = result;
      else if (result.failure !== undefined) this.#other ??= result.failure;
    }
  }
}

/** `line` as a build event (an object with a string `type`), or undefined when it is not one. */
function parseEvent(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string" ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
