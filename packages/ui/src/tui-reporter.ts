/**
 * The terminal UI (`--output tui`): a live area drawn with ink while the
 * build runs (tui-lines.ts, tui-view.ts), from a model the events update (tui-state.ts).
 *
 * Frames are drawn by a timer, FRAME_MS apart and only when something shown
 * changed (an event, or a running task's elapsed second), never once per
 * event: a build of thousands of tasks costs at most 4 frames a second. When the
 * build ends the live area is cleared and what must stay is written as plain
 * text, so scrollback keeps it: each failed task's full output (as the plain
 * reporter writes it, `[task] line`), its end line, the `error:` lines and
 * the one-line summary. Info messages and each failure as it happens are
 * printed above the live area (ink's Static) with the next frame: nothing is
 * hidden. A resize draws the frame again for the new size (see tui-painter.ts).
 *
 * Frames are drawn on a thread of their own (tui-thread.ts, which loads ink
 * there): the build's main thread only keeps the model and sends each frame's
 * lines. That thread may be started before the build (startTuiThread), so
 * that ink loads while the Buildfile does; the live area is still drawn only
 * START_AFTER_MS into the build. Import this module only when the TUI is used
 * (`loadTui` in index.ts).
 */
import type { BuildEvent, Reporter, TaskResult } from "@rbuild/core";
import { formatDuration } from "./duration.js";
import type { TextSink } from "./plain-reporter.js";
import { recapText } from "./recap.js";
import type { Painter } from "./tui-painter.js";
import { TuiState, type TuiPlan } from "./tui-state.js";
import { ThreadPainter, TuiThread } from "./tui-thread.js";
import { liveLines, type FrameSize } from "./tui-lines.js";

/**
 * Time between frames: 4 a second at most. Each frame costs the TUI's thread
 * a few ms of ink's layout and string work (more while its code is still cold),
 * taken from the build's tasks on a machine with no idle core; 4 a second
 * still moves the bar smoothly, and elapsed times change once a second.
 */
export const FRAME_MS = 250;

/**
 * How long a build runs before the live area is drawn: a build done sooner
 * (a no-op, a few cached tasks) never starts ink's thread, whose start-up
 * (some 150 ms of CPU to load ink) would cost it more than it shows. A thread
 * started early (`thread`) draws nothing before it either.
 */
export const START_AFTER_MS = 250;

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
  /** Default START_AFTER_MS; 0 draws from the build's start. */
  readonly startAfterMs?: number;
  /** What draws the frames, writing to the terminal through `write`. Default: a thread of its own (tui-thread.ts). */
  readonly painter?: (write: (text: string) => void) => Painter;
  /**
   * A thread started before the build (startTuiThread), to draw on instead of
   * starting one. The reporter owns it: a build that ends before the live area
   * is drawn stops it, so it never draws.
   */
  readonly thread?: TuiThread;
}

/**
 * Starts the TUI's thread now, before there is a build to show: it loads ink
 * and warms it up on a core the main thread leaves idle while it loads the
 * Buildfile. Give it to the reporter (`thread`), or `stop` it.
 */
export function startTuiThread(): TuiThread {
  return new TuiThread({ warm: true });
}

interface Live {
  readonly name: "live";
  painter: Painter;
  readonly timer: NodeJS.Timeout;
  readonly stopResize: () => void;
  /** What the last frame showed (see #draw), and how many notes were sent. */
  drawn: string;
  notesSent: number;
  resized: boolean;
  /** The lines of the last frame sent. */
  text: string;
}

type Phase = { name: "waiting" } | { name: "starting"; timer: NodeJS.Timeout } | Live | { name: "ended"; done: Promise<void> };

export class TuiReporter implements Reporter {
  readonly #options: TuiReporterOptions;
  readonly #state: TuiState;
  readonly #now: () => number;
  #phase: Phase = { name: "waiting" };
  /** The thread started early, until a painter takes it over. */
  #thread: TuiThread | undefined;

  constructor(options: TuiReporterOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#state = new TuiState(options.plan, { stdout: options.stdout, stderr: options.stderr }, options.cwd);
    this.#thread = options.thread;
  }

  report(event: BuildEvent): void {
    // Before the live area is drawn (waiting for the build lock, or just started) a message is written at once, as plain text.
    const phase = this.#phase.name;
    if (event.type === "info" && (phase === "waiting" || phase === "starting")) return void this.#options.stderr.write(`rbuild: ${event.message}\n`);
    this.#state.apply(event, this.#now());
    if (event.type === "build-started") this.#starting();
    else if (event.type === "build-finished") this.#end(event);
  }

  /** The live area is drawn once the build has run for START_AFTER_MS: a shorter one gets only the text that stays. */
  #starting(): void {
    if (this.#phase.name !== "waiting") return;
    const after = this.#options.startAfterMs ?? START_AFTER_MS;
    if (after === 0) return this.#start();
    this.#phase = { name: "starting", timer: setTimeout(() => this.#start(), after).unref() };
  }

  /** Settles once the live area is cleared and the text that stays is written (or, for a build that never finished, once the terminal is let go). */
  close(): Promise<void> {
    if (this.#phase.name !== "ended") this.#stop();
    return (this.#phase as { done: Promise<void> }).done;
  }

  #start(): void {
    if (this.#phase.name !== "waiting" && this.#phase.name !== "starting") return;
    const write = (text: string): void => void this.#options.terminal.write(text);
    const thread = this.#options.painter === undefined ? this.#takeThread() : undefined;
    const live: Live = {
      name: "live",
      painter: this.#options.painter?.(write) ?? new ThreadPainter(write, () => this.#inHere(live, write), thread),
      timer: setInterval(() => this.#draw(), FRAME_MS).unref(),
      stopResize: this.#options.terminal.onResize(() => {
        live.resized = true;
        this.#draw(true);
      }),
      drawn: "",
      notesSent: 0,
      resized: false,
      text: "",
    };
    this.#phase = live;
    this.#draw(true);
  }

  #takeThread(): TuiThread | undefined {
    const thread = this.#thread;
    this.#thread = undefined;
    return thread;
  }

  /** The thread failed: frames are drawn here from now on (ink loads on this thread). */
  #inHere(live: Live, write: (text: string) => void): void {
    let painter: Painter | undefined;
    const queued: Parameters<Painter["frame"]>[0][] = [];
    const ready = import("./tui-painter.js").then(({ InkPainter }) => {
      painter = new InkPainter(write);
      for (const frame of queued) painter.frame(frame);
    });
    live.painter = {
      frame: (frame) => (painter === undefined ? void queued.push(frame) : painter.frame(frame)),
      end: (notes) => ready.then(() => painter!.end(notes)),
    };
    this.#draw(true);
  }

  /** Sends a frame if anything it shows changed since the last (or `always`). */
  #draw(always = false): void {
    const live = this.#phase;
    if (live.name !== "live") return;
    const drawn = `${this.#state.version}:${Math.floor(this.#now() / 1000)}`;
    if (!always && drawn === live.drawn) return;
    live.drawn = drawn;
    const size = this.#options.terminal.size();
    const notes = this.#state.notes;
    const lines = liveLines(this.#state.view(this.#now()), size, this.#options.color);
    // The same lines, no new note, no resize: nothing to draw (events of tasks the frame does not show).
    const text = lines.join("\n");
    if (!live.resized && notes.length === live.notesSent && text === live.text) return;
    live.painter.frame({ ...size, notes: notes.slice(live.notesSent), lines, resized: live.resized });
    live.notesSent = notes.length;
    live.resized = false;
    live.text = text;
  }

  #end(event: Extract<BuildEvent, { type: "build-finished" }>): void {
    const stopped = this.#stop();
    this.#phase = { name: "ended", done: stopped.then(() => this.#writeEnd(event)) };
  }

  /** Ends the live area: the last notes printed, the rest cleared. */
  #stop(): Promise<void> {
    const live = this.#phase;
    let done = Promise.resolve();
    // Never drawn on (a build shorter than START_AFTER_MS): the thread started early goes, having drawn nothing.
    void this.#takeThread()?.stop();
    if (live.name === "live") {
      clearInterval(live.timer);
      live.stopResize();
      done = live.painter.end(this.#state.notes.slice(live.notesSent));
    } else if (live.name === "starting") clearTimeout(live.timer);
    else if (live.name === "ended") done = live.done;
    this.#phase = { name: "ended", done };
    return done;
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
    const [flaky, stubbed, failedUndos] = [this.#state.flaky(), this.#state.stubbed(), this.#state.failedUndos()];
    stderr.write(recapText({ counts: this.#state.counts(), failed, ok: event.ok, interrupted: event.interrupted, durationMs: event.durationMs, cwd, style, flaky, stubbed, failedUndos }));
  }
}

function endLine(result: TaskResult, style: (name: "red" | "dim", text: string) => string): string {
  return `${style("red", "✗")} ${result.name} ${style("dim", `(${formatDuration(result.durationMs)})`)}\n`;
}
