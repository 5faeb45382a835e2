/**
 * Plain text for CI logs and pipes: one line per event worth seeing, task
 * output prefixed with the task's name, a recap of failures at the end. Each
 * write is one or more whole lines, so output never interleaves mid-line.
 */
import { describeFailure, type BuildEvent, type Reporter, type TaskResult } from "@rbuild/core";

export interface TextSink {
  write(text: string): unknown;
}

/** How long output may wait to be written with what follows it. */
const FLUSH_MS = 20;
/** Output waiting past this many characters is written at once. */
const FLUSH_CHARS = 64 * 1024;

/**
 * Gathers a build's writes to stdout and stderr into few writes: what is
 * written within FLUSH_MS goes out together, each stream's run of text in
 * one write, both streams in the order they were written. Flushed once per
 * turn of the event loop instead, a one-file build of the bench workspace
 * through the daemon sent its client 59 frames (each waking the client while
 * the build's commands need the CPU); now 25 (counted with strace). Lines
 * stay whole; `flush` writes what waits now.
 */
export class BatchedOutput {
  readonly stdout: TextSink = { write: (text: string) => this.#write(0, text) };
  readonly stderr: TextSink = { write: (text: string) => this.#write(1, text) };
  readonly #targets: readonly [TextSink, TextSink];
  #pending: [stream: 0 | 1, text: string][] = [];
  #chars = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(stdout: TextSink, stderr: TextSink) {
    this.#targets = [stdout, stderr];
  }

  #write(stream: 0 | 1, text: string): void {
    this.#pending.push([stream, text]);
    this.#chars += text.length;
    if (this.#chars > FLUSH_CHARS) this.flush();
    else if (this.#timer === undefined) this.#timer = setTimeout(() => this.flush(), FLUSH_MS).unref();
  }

  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const pending = this.#pending;
    this.#pending = [];
    this.#chars = 0;
    for (let i = 0; i < pending.length; ) {
      const stream = pending[i]![0];
      let text = "";
      for (; i < pending.length && pending[i]![0] === stream; i++) text += pending[i]![1];
      this.#targets[stream].write(text);
    }
  }
}

/**
 * Which task output is shown (turbo's `--output-logs`): all of it; only new
 * output, not a cached task's stored output replayed (the default: a no-op build
 * is quiet); only the output of tasks that failed; or none.
 */
export type OutputLogs = "full" | "new-only" | "errors-only" | "none";
export const OUTPUT_LOGS: readonly OutputLogs[] = ["full", "new-only", "errors-only", "none"];

export interface PlainReporterOptions {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** Paths in messages are shown relative to this directory. */
  readonly cwd: string;
  readonly color?: boolean;
  /** Default: "new-only". */
  readonly outputLogs?: OutputLogs;
}

const STYLES = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;

function seconds(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}

export class PlainReporter implements Reporter {
  readonly #options: PlainReporterOptions;
  readonly #failed: TaskResult[] = [];
  readonly #counts = { ran: 0, cached: 0, failed: 0, skipped: 0 };
  readonly #counted = new Map<string, TaskResult["status"]>();
  readonly #outputLogs: OutputLogs;
  /** With errors-only: each running task's output, shown if it fails. */
  readonly #held = new Map<string, [TextSink, string][]>();

  constructor(options: PlainReporterOptions) {
    this.#options = options;
    this.#outputLogs = options.outputLogs ?? "new-only";
  }

  #style(style: keyof typeof STYLES, text: string): string {
    return this.#options.color === true ? `\x1b[${STYLES[style]}m${text}\x1b[0m` : text;
  }

  report(event: BuildEvent): void {
    const { stdout, stderr } = this.#options;
    switch (event.type) {
      case "build-started":
        return;
      case "info":
        stderr.write(`rbuild: ${event.message}\n`);
        return;
      case "task-started":
        stdout.write(this.#style("dim", `> ${event.task}`) + "\n");
        return;
      case "task-output":
        this.#output(event);
        return;
      case "task-finished":
        this.#release(event.result);
        this.#finished(event.result);
        return;
      case "build-finished":
        this.#recap(event.ok, event.interrupted, event.durationMs);
        return;
    }
  }

  #output(event: Extract<BuildEvent, { type: "task-output" }>): void {
    const mode = this.#outputLogs;
    if (mode === "none" || (event.replayed === true && mode !== "full")) return;
    const sink = event.stream === "stdout" ? this.#options.stdout : this.#options.stderr;
    const text = `${this.#style("dim", `[${event.task}]`)} ${event.line}\n`;
    if (mode !== "errors-only") {
      sink.write(text);
      return;
    }
    const held = this.#held.get(event.task);
    if (held === undefined) this.#held.set(event.task, [[sink, text]]);
    else held.push([sink, text]);
  }

  /** With errors-only, shows the output a task that failed had held back; forgets it otherwise. */
  #release(result: TaskResult): void {
    const held = this.#held.get(result.name);
    if (held === undefined) return;
    this.#held.delete(result.name);
    if (result.status === "failed") for (const [sink, text] of held) sink.write(text);
  }

  #finished(result: TaskResult): void {
    // A group runs nothing: not counted, and not shown unless something kept it from being done.
    if (result.group === true && (result.status === "ran" || result.status === "cached")) return;
    // A task is finished again only when it fails late (an error its code threw after it had
    // finished): the later result stands, and the counts say so.
    const before = this.#counted.get(result.name);
    if (before !== undefined) this.#counts[before]--;
    this.#counted.set(result.name, result.status);
    this.#counts[result.status]++;
    const { stdout } = this.#options;
    switch (result.status) {
      case "ran":
        stdout.write(`${this.#style("green", "✓")} ${result.name} ${this.#style("dim", `(${seconds(result.durationMs)})`)}\n`);
        return;
      case "cached":
        stdout.write(`${this.#style("green", "✓")} ${result.name} ${this.#style("dim", `(cached, ${result.cache ?? "local"})`)}\n`);
        return;
      case "failed":
        this.#failed.push(result);
        stdout.write(`${this.#style("red", "✗")} ${result.name} ${this.#style("dim", `(${seconds(result.durationMs)})`)}\n`);
        return;
      case "skipped":
        stdout.write(`${this.#style("yellow", "-")} ${result.name} ${this.#style("dim", `skipped (${result.reasons.join(", ")})`)}\n`);
        return;
    }
  }

  #recap(ok: boolean, interrupted: boolean, durationMs: number): void {
    const { stderr, cwd } = this.#options;
    const c = this.#counts;
    const parts = [`${c.ran} ran`, `${c.cached} cached`];
    if (c.failed > 0) parts.push(`${c.failed} failed`);
    if (c.skipped > 0) parts.push(`${c.skipped} skipped`);
    let text = "";
    // By name, not by completion order, so that the recap reads the same on every run.
    for (const result of this.#failed.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (result.failure !== undefined) text += `${this.#style("red", "error:")} ${describeFailure(result.failure, { cwd })}\n`;
    }
    const verdict = interrupted ? this.#style("red", "interrupted") : ok ? this.#style("green", "ok") : this.#style("red", "failed");
    text += `rbuild: ${verdict}: ${parts.join(", ")} in ${seconds(durationMs)}\n`;
    stderr.write(text);
  }
}
