/**
 * Plain text for CI logs and pipes: a line when a task starts and when it
 * ends, each task's output as one block, a recap of failures at the end. Each
 * write is one or more whole lines, so output never interleaves mid-line.
 *
 * Blocks: one task's output at a time is shown as it comes (the live task:
 * the first one to print while no other's output is being shown); what other
 * tasks print meanwhile is held (see HeldOutput) and shown as one block when
 * they end, or, once the live task ends, the next task with held output shows
 * its block and goes on live. So a single task's output (with -j 1, or a long
 * last task) is never delayed, and two tasks' output never mixes: a block that
 * ends while another task is live waits for that one to end. A task's end line
 * follows its block; start lines (and the end line of a task that printed
 * nothing) are written at once, beside the live task's lines, each of which
 * names its task.
 *
 * Under GitHub Actions each block is a `::group::<task>` ... `::endgroup::`
 * (a task's stdout and stderr lines both on stdout, so the group holds both;
 * without the `[task]` prefix, so that the workflow commands a tool prints,
 * such as its own `::error file=...` annotations, still work). Every other
 * line waits while a group is open, or it would be folded into the group; a
 * failed task adds an `::error` annotation after its end line. In CI a table
 * of the tasks ends the build (see final-table.ts).
 */
import { describeFailure, type BuildEvent, type Reporter, type TaskResult, type UndoResult } from "@rbuild/core";
import { retryLine, undoFailure, undoLine } from "./attempt-text.js";
import { formatDuration } from "./duration.js";
import { finalTable } from "./final-table.js";
import { errorAnnotation, GROUP_END, groupStart } from "./github-actions.js";
import { HeldOutput, type HeldLine } from "./held-output.js";
import { countOf, recapText, type Counts } from "./recap.js";

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
  /** Groups and error annotations for GitHub Actions' log (see the module comment). */
  readonly githubActions?: boolean;
  /** A table of the tasks before the recap (in CI). */
  readonly finalTable?: boolean;
}

const STYLES = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;

/** What a failed task's annotation says when its output names no error: its first line on stderr, else the failure. */
interface Clue {
  error?: string;
  stderr?: string;
}

const LOOKS_LIKE_ERROR = /error/i;

export class PlainReporter implements Reporter {
  readonly #options: PlainReporterOptions;
  readonly #failed: TaskResult[] = [];
  readonly #counts: Counts = { ran: 0, cached: 0, failed: 0, interrupted: 0, skipped: 0 };
  /** The last result of each task that is counted, in the order they first finished. */
  readonly #results = new Map<string, TaskResult>();
  readonly #outputLogs: OutputLogs;
  readonly #github: boolean;
  /** The task whose output is shown as it comes, if any. */
  #live: string | undefined;
  /** The output of tasks not live, in the order they first printed; with errors-only, every task's. */
  readonly #held = new Map<string, HeldOutput>();
  /** Tasks that have finished: what they print later (rare: a late failure) is written at once. */
  readonly #done = new Set<string>();
  /** What waits for the live task's block to end. */
  #waiting: HeldLine[] = [];
  readonly #clues = new Map<string, Clue>();
  /** The undos the build ran (after a failure), in order. */
  readonly #undos: UndoResult[] = [];

  constructor(options: PlainReporterOptions) {
    this.#options = options;
    this.#outputLogs = options.outputLogs ?? "new-only";
    this.#github = options.githubActions === true;
  }

  #style(style: keyof typeof STYLES, text: string): string {
    return this.#options.color === true ? `\x1b[${STYLES[style]}m${text}\x1b[0m` : text;
  }

  /** Writes a line that may stand beside the live task's lines: now, or under GitHub Actions once its group closes. */
  #write(sink: TextSink, text: string): void {
    if (text === "") return;
    if (this.#github && this.#live !== undefined) this.#waiting.push([sink, text]);
    else sink.write(text);
  }

  /** Writes another task's block, or what follows one: once the live task's block ends. */
  #writeAfterLive(sink: TextSink, text: string): void {
    if (text === "") return;
    if (this.#live !== undefined) this.#waiting.push([sink, text]);
    else sink.write(text);
  }

  report(event: BuildEvent): void {
    const { stdout, stderr } = this.#options;
    switch (event.type) {
      case "build-started":
        return;
      case "info":
        this.#write(stderr, `rbuild: ${event.message}\n`);
        return;
      case "task-started":
        this.#write(stdout, this.#style("dim", `> ${event.task}`) + "\n");
        return;
      case "stage-started":
        // A boundary between blocks of output: after the live task's block, never inside it.
        this.#writeAfterLive(stdout, this.#style("bold", `── stage ${event.stage} ──`) + "\n");
        return;
      case "stage-finished":
        return;
      case "task-output":
        this.#output(event);
        return;
      case "task-finished":
        this.#taskFinished(event.result);
        return;
      case "task-retry":
        this.#write(stdout, this.#style("yellow", retryLine(event, this.#options.cwd)) + "\n");
        return;
      case "undo-started":
        this.#write(stdout, this.#style("dim", `> undo ${event.task}`) + "\n");
        return;
      case "undo-finished": {
        const { result } = event;
        this.#undos.push(result);
        const line = undoLine(result, this.#options.cwd);
        this.#write(stdout, (result.ok ? line : this.#style("red", line)) + "\n");
        if (!result.ok && this.#github) this.#write(stdout, errorAnnotation(`undo ${result.task} failed`, undoFailure(result, this.#options.cwd)));
        return;
      }
      case "build-finished":
        // Every task has finished by now; output still held belongs to none that did (not expected).
        this.#closeLive();
        this.#flushWaiting();
        for (const task of [...this.#held.keys()]) this.#writeBlock(task, this.#outputLogs !== "errors-only");
        this.#recap(event.ok, event.interrupted, event.durationMs);
        return;
    }
  }

  #output(event: Extract<BuildEvent, { type: "task-output" }>): void {
    if (event.replayed !== true) this.#remember(event);
    const mode = this.#outputLogs;
    if (mode === "none" || (event.replayed === true && mode !== "full")) return;
    const { stdout, stderr } = this.#options;
    const line: HeldLine = this.#github
      ? [stdout, `${event.line}\n`]
      : [event.stream === "stdout" ? stdout : stderr, `${this.#style("dim", `[${event.task}]`)} ${event.line}\n`];
    if (this.#done.has(event.task)) return this.#write(...line);
    if (mode !== "errors-only") {
      if (this.#live === undefined) this.#goLive(event.task);
      if (this.#live === event.task) return void line[0].write(line[1]);
    }
    let held = this.#held.get(event.task);
    if (held === undefined) this.#held.set(event.task, (held = new HeldOutput()));
    held.add(line);
  }

  /** Keeps what a failure's annotation will say, under GitHub Actions. */
  #remember(event: Extract<BuildEvent, { type: "task-output" }>): void {
    if (!this.#github) return;
    let clue = this.#clues.get(event.task);
    if (clue === undefined) this.#clues.set(event.task, (clue = {}));
    if (clue.error === undefined && LOOKS_LIKE_ERROR.test(event.line)) clue.error = event.line;
    if (clue.stderr === undefined && event.stream === "stderr" && event.line.trim() !== "") clue.stderr = event.line;
  }

  /** Makes `task` the live task: opens its block and shows what it had held. */
  #goLive(task: string): void {
    this.#live = task;
    if (this.#github) this.#options.stdout.write(groupStart(task));
    const held = this.#held.get(task);
    this.#held.delete(task);
    for (const [sink, text] of held?.lines((n) => this.#gap(task, n)) ?? []) sink.write(text);
  }

  /** Ends the live task's block, if any. */
  #closeLive(): void {
    if (this.#live === undefined) return;
    this.#live = undefined;
    if (this.#github) this.#options.stdout.write(GROUP_END);
  }

  #flushWaiting(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const [sink, text] of waiting) sink.write(text);
  }

  /** Writes a task's held output as one block (when `show`), and forgets it; whether it wrote one. */
  #writeBlock(task: string, show: boolean): boolean {
    const held = this.#held.get(task);
    this.#held.delete(task);
    if (held === undefined || !show) return false;
    const { stdout } = this.#options;
    if (this.#github) this.#writeAfterLive(stdout, groupStart(task));
    for (const line of held.lines((n) => this.#gap(task, n))) this.#writeAfterLive(...line);
    if (this.#github) this.#writeAfterLive(stdout, GROUP_END);
    return true;
  }

  #gap(task: string, lines: number): HeldLine {
    const prefix = this.#github ? "" : `${this.#style("dim", `[${task}]`)} `;
    const text = `${prefix}... ${lines} lines not shown (rbuild holds the first and last MiB of a task's output while another task's is shown)\n`;
    return [this.#options.stdout, text];
  }

  #taskFinished(result: TaskResult): void {
    const first = !this.#done.has(result.name);
    this.#done.add(result.name);
    const { stdout } = this.#options;
    if (this.#live === result.name) {
      // Its end line goes right after its block; what waited for the block follows.
      this.#closeLive();
      stdout.write(this.#finished(result));
      this.#flushWaiting();
      const next = this.#outputLogs === "errors-only" ? undefined : this.#held.keys().next().value;
      if (next !== undefined) this.#goLive(next);
    } else if (first && this.#writeBlock(result.name, this.#outputLogs !== "errors-only" || result.status === "failed")) {
      this.#writeAfterLive(stdout, this.#finished(result));
    } else this.#write(stdout, this.#finished(result));
    if (result.status !== "failed") this.#clues.delete(result.name);
  }

  /** Counts a task's result; its end line (and annotation). */
  #finished(result: TaskResult): string {
    // A group runs nothing: not counted, and not shown unless something kept it from being done.
    if (result.group === true && (result.status === "ran" || result.status === "cached")) return "";
    // A task is finished again only when it fails late (an error its code threw after it had
    // finished): the later result stands, and the counts say so.
    const before = this.#results.get(result.name);
    if (before !== undefined) this.#counts[countOf(before)]--;
    this.#results.set(result.name, result);
    this.#counts[countOf(result)]++;
    switch (result.status) {
      case "ran": {
        const flaky = result.flaky === true ? `, flaky: ${result.attempts ?? 2} attempts` : "";
        return `${this.#style("green", "✓")} ${result.name} ${this.#style("dim", `(${result.stubbed === true ? "stubbed, " : ""}${formatDuration(result.durationMs)}${flaky})`)}\n`;
      }
      case "cached":
        return `${this.#style("green", "✓")} ${result.name} ${this.#style("dim", `(cached, ${result.cache ?? "local"})`)}\n`;
      case "failed": {
        this.#failed.push(result);
        const line = `${this.#style("red", "✗")} ${result.name} ${this.#style("dim", `(${result.stubbed === true ? "stubbed, " : ""}${formatDuration(result.durationMs)})`)}\n`;
        return this.#github ? line + errorAnnotation(`${result.name} failed`, this.#annotation(result)) : line;
      }
      case "skipped":
        return `${this.#style("yellow", "-")} ${result.name} ${this.#style("dim", `skipped (${result.reasons.join(", ")})`)}\n`;
    }
  }

  /** A failed task's first output line that mentions an error, else its first line on stderr, else the failure's message. */
  #annotation(result: TaskResult): string {
    const clue = this.#clues.get(result.name);
    const described = result.failure === undefined ? `Task "${result.name}" failed.` : describeFailure(result.failure, { cwd: this.#options.cwd });
    return clue?.error ?? clue?.stderr ?? described;
  }

  #recap(ok: boolean, interrupted: boolean, durationMs: number): void {
    const { stderr, cwd } = this.#options;
    const results = [...this.#results.values()];
    const table = this.#options.finalTable === true ? finalTable(results, this.#undos) : "";
    const flaky = results.filter((r) => r.flaky === true).map((r) => r.name);
    const stubbed = results.filter((r) => r.stubbed === true).map((r) => r.name);
    const failedUndos = this.#undos.filter((undo) => !undo.ok);
    const recap = recapText({ counts: this.#counts, failed: this.#failed, ok, interrupted, durationMs, cwd, flaky, stubbed, failedUndos, style: (style, text) => this.#style(style, text) });
    stderr.write(table + recap);
  }
}
