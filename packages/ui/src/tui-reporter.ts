/**
 * The terminal UI (`--output tui`): a live area drawn with ink while the
 * build runs (tui-view.ts), from a model the events update (tui-state.ts).
 *
 * Frames are drawn by a timer, FRAME_MS apart and only when something shown
 * changed (an event, or a running task's elapsed second), never once per
 * event: a build of thousands of tasks costs a few frames a second. When the
 * build ends the live area is cleared and what must stay is written as plain
 * text, so scrollback keeps it: each failed task's full output (as the plain
 * reporter writes it, `[task] line`), its end line, the `error:` lines and
 * the one-line summary. Info messages and each failure as it happens are
 * printed above the live area (ink's Static) at once: nothing is hidden.
 *
 * This module loads ink and React: import it only when the TUI is used (see
 * `loadTui` in index.ts), so that plain, json and no-op builds never pay for them.
 */
import { EventEmitter } from "node:events";
import type { BuildEvent, Reporter, TaskResult } from "@rbuild/core";
import { render, type Instance } from "ink";
import { createElement as h } from "react";
import { seconds } from "./final-table.js";
import type { TextSink } from "./plain-reporter.js";
import { recapText } from "./recap.js";
import { TuiState, type TuiPlan } from "./tui-state.js";
import { tuiFrame, type FrameSize } from "./tui-view.js";

/** Time between frames: 10 a second at most. */
export const FRAME_MS = 100;

/** The terminal the live area is drawn on: its output, its size now, and word of its resizes. */
export interface TuiTerminal {
  write(text: string): unknown;
  size(): FrameSize;
  /** Calls `handler` after each resize; returns how to stop. */
  onResize(handler: () => void): () => void;
}

export interface TuiReporterOptions {
  readonly terminal: TuiTerminal;
  /** Where the text that stays goes once the live area is cleared (the terminal's stdout and stderr). */
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  readonly plan: TuiPlan;
  /** Paths in messages are shown relative to this directory. */
  readonly cwd: string;
  readonly color: boolean;
  /** Default: performance.now. */
  readonly now?: () => number;
}

/** The stream ink writes to: a TTY of the terminal's size, which says when it is resized. */
class TerminalStream extends EventEmitter {
  readonly isTTY = true;
  readonly #terminal: TuiTerminal;
  columns: number;
  rows: number;

  constructor(terminal: TuiTerminal) {
    super();
    this.#terminal = terminal;
    ({ columns: this.columns, rows: this.rows } = terminal.size());
  }

  write(text: string, done?: () => void): boolean {
    this.#terminal.write(text);
    done?.();
    return true;
  }

  resized(): void {
    ({ columns: this.columns, rows: this.rows } = this.#terminal.size());
    this.emit("resize");
  }
}

type Phase = { name: "waiting" } | { name: "live"; ink: Instance; stream: TerminalStream; timer: NodeJS.Timeout; stopResize: () => void; drawn: string } | { name: "ended" };

export class TuiReporter implements Reporter {
  readonly #options: TuiReporterOptions;
  readonly #state: TuiState;
  readonly #now: () => number;
  #phase: Phase = { name: "waiting" };

  constructor(options: TuiReporterOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#state = new TuiState(options.plan, { stdout: options.stdout, stderr: options.stderr });
  }

  report(event: BuildEvent): void {
    this.#state.apply(event, this.#now());
    if (event.type === "build-started") this.#start();
    else if (event.type === "build-finished") this.#end(event);
    else if (event.type === "info" || (event.type === "task-finished" && event.result.status === "failed")) this.#draw(); // Notes at once.
  }

  #start(): void {
    if (this.#phase.name !== "waiting") return;
    const stream = new TerminalStream(this.#options.terminal);
    const ink = render(this.#frame(stream), {
      stdout: stream as unknown as NodeJS.WriteStream,
      stderr: stream as unknown as NodeJS.WriteStream,
      stdin: new EventEmitter() as unknown as NodeJS.ReadStream,
      patchConsole: false,
      exitOnCtrlC: false,
      maxFps: 1000 / FRAME_MS,
    });
    const timer = setInterval(() => this.#draw(), FRAME_MS).unref();
    const stopResize = this.#options.terminal.onResize(() => {
      stream.resized();
      this.#draw(true);
    });
    this.#phase = { name: "live", ink, stream, timer, stopResize, drawn: "" };
  }

  #frame(stream: TerminalStream): ReturnType<typeof tuiFrame> {
    return tuiFrame(this.#state.view(this.#now()), { columns: stream.columns, rows: stream.rows }, this.#options.color);
  }

  /** Draws a frame if anything it shows changed since the last (or `always`). */
  #draw(always = false): void {
    const phase = this.#phase;
    if (phase.name !== "live") return;
    const drawn = `${this.#state.version}:${Math.floor(this.#now() / 1000)}`;
    if (!always && drawn === phase.drawn) return;
    phase.drawn = drawn;
    phase.ink.rerender(this.#frame(phase.stream));
  }

  #end(event: Extract<BuildEvent, { type: "build-finished" }>): void {
    const phase = this.#phase;
    this.#phase = { name: "ended" };
    if (phase.name === "live") {
      clearInterval(phase.timer);
      phase.stopResize();
      // The notes stay; the live area goes (an empty frame), then ink lets go of the terminal.
      phase.ink.rerender(h(() => null));
      phase.ink.unmount();
    }
    this.#writeEnd(event);
  }

  #writeEnd(event: Extract<BuildEvent, { type: "build-finished" }>): void {
    const { stdout, stderr, cwd, color } = this.#options;
    const style = (name: "red" | "green" | "dim", text: string): string => (color ? `\x1b[${{ red: 31, green: 32, dim: 2 }[name]}m${text}\x1b[0m` : text);
    const failed = this.#state.failed().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const result of failed) {
      const gap = (n: number): [TextSink, string] => [stdout, `[${result.name}] ... ${n} lines not shown (rbuild keeps the first and last MiB of a task's output)\n`];
      // Each run of lines of one stream in one write.
      let pending: [TextSink, string] | undefined;
      for (const [sink, text] of this.#state.output(result.name, gap)) {
        if (pending !== undefined && pending[0] === sink) pending[1] += text;
        else {
          if (pending !== undefined) pending[0].write(pending[1]);
          pending = [sink, text];
        }
      }
      if (pending !== undefined) pending[0].write(pending[1]);
      stdout.write(endLine(result, style));
    }
    stderr.write(recapText({ counts: this.#state.counts(), failed, ok: event.ok, interrupted: event.interrupted, durationMs: event.durationMs, cwd, style }));
  }
}

function endLine(result: TaskResult, style: (name: "red" | "dim", text: string) => string): string {
  return `${style("red", "✗")} ${result.name} ${style("dim", `(${seconds(result.durationMs)})`)}\n`;
}
