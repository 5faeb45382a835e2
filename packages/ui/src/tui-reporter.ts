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
 * printed above the live area (ink's Static) with the next frame: nothing is
 * hidden. A resize draws the frame again for the new size (see #resized).
 *
 * This module loads ink and React: import it only when the TUI is used (see
 * `loadTui` in index.ts), so that plain, json and no-op builds never pay for them.
 */
import { EventEmitter } from "node:events";
import type { BuildEvent, Reporter, TaskResult } from "@rbuild/core";
import { render, type Instance } from "ink";
import type { ReactElement } from "react";
import { seconds } from "./final-table.js";
import type { TextSink } from "./plain-reporter.js";
import { recapText } from "./recap.js";
import { TuiState, type TuiPlan } from "./tui-state.js";
import { liveLines, rowsAfterResize, tuiFrame, type FrameSize } from "./tui-view.js";

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

/** The live phase: ink's instance, the lines it drew last (at `columns`), and the first note it prints. */
interface Live {
  readonly name: "live";
  ink: Instance;
  stream: TerminalStream;
  readonly timer: NodeJS.Timeout;
  readonly stopResize: () => void;
  /** What the last frame showed (see #draw), the notes from `notesFrom` on passed to it, its lines and width. */
  drawn: string;
  notesFrom: number;
  notesPassed: number;
  lines: readonly string[];
  columns: number;
}

type Phase = { name: "waiting" } | Live | { name: "ended" };

/** Erases `rows` rows: the cursor's and those above it; the cursor ends at the top one's start. */
const eraseRows = (rows: number): string => "\x1b[2K\x1b[1A".repeat(Math.max(0, rows - 1)) + "\x1b[2K\x1b[G";

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
  }

  #start(): void {
    if (this.#phase.name !== "waiting") return;
    const live: Live = {
      name: "live",
      ink: undefined as unknown as Instance,
      stream: new TerminalStream(this.#options.terminal),
      timer: setInterval(() => this.#draw(), FRAME_MS).unref(),
      stopResize: this.#options.terminal.onResize(() => this.#resized()),
      drawn: "",
      notesFrom: 0,
      notesPassed: 0,
      lines: [],
      columns: 0,
    };
    this.#phase = live;
    this.#mount(live);
  }

  /** A new ink instance on a new stream of the terminal's size, drawing the current frame. */
  #mount(live: Live): void {
    live.stream = new TerminalStream(this.#options.terminal);
    live.ink = render(this.#frame(live), {
      stdout: live.stream as unknown as NodeJS.WriteStream,
      stderr: live.stream as unknown as NodeJS.WriteStream,
      stdin: new EventEmitter() as unknown as NodeJS.ReadStream,
      patchConsole: false,
      exitOnCtrlC: false,
      // ink's own limit, above ours: it must not hold back the frames the timer draws.
      maxFps: 30,
    });
  }

  #frame(live: Live): ReactElement {
    const { columns, rows } = live.stream;
    live.lines = liveLines(this.#state.view(this.#now()), { columns, rows }, this.#options.color);
    live.columns = columns;
    const notes = this.#state.view(0).notes;
    live.notesPassed = notes.length;
    return tuiFrame(notes.slice(live.notesFrom), live.lines);
  }

  /** Draws a frame if anything it shows changed since the last. */
  #draw(): void {
    const live = this.#phase;
    if (live.name !== "live") return;
    const drawn = `${this.#state.version}:${Math.floor(this.#now() / 1000)}`;
    if (drawn === live.drawn) return;
    live.drawn = drawn;
    live.ink.rerender(this.#frame(live));
  }

  /**
   * A resized terminal wraps the lines drawn anew, so ink's count of the rows
   * to erase before the next frame goes wrong (stale lines stay). Instead: let
   * go of the frame (ink keeps it), erase the rows it takes now, and draw it
   * again with a new instance for the new size (which prints only new notes).
   */
  #resized(): void {
    const live = this.#phase;
    if (live.name !== "live") return;
    live.ink.unmount();
    const { columns } = this.#options.terminal.size();
    // The frame's rows and the cursor's, below them.
    this.#options.terminal.write(eraseRows(rowsAfterResize(live.lines, live.columns, columns) + 1));
    live.notesFrom = live.notesPassed;
    this.#mount(live);
  }

  #end(event: Extract<BuildEvent, { type: "build-finished" }>): void {
    const phase = this.#phase;
    this.#phase = { name: "ended" };
    if (phase.name === "live") {
      clearInterval(phase.timer);
      phase.stopResize();
      // The last notes and no live area; ink draws that as it lets go of the terminal.
      phase.ink.rerender(tuiFrame(this.#state.view(0).notes.slice(phase.notesFrom), []));
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
