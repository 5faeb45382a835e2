/**
 * The TUI's painter on a thread of its own: loading ink (React, yoga's
 * WebAssembly: some 100 ms of CPU) and drawing each frame (a few ms of layout
 * and string widths) happen there, beside the build's main thread, which only
 * sends each frame's lines and writes what comes back. A frame is sent only
 * once the thread has drawn the one before, so a busy thread draws less
 * often instead of falling behind; notes and resizes are never dropped.
 *
 * The thread can start before the build (`TuiThread`, see startTuiThread in
 * tui-reporter.ts): it then loads ink and draws a frame to nowhere (the first
 * frame's one-time costs: yoga's set-up, the string width tables, the JIT)
 * while the main thread loads the Buildfile, and waits to be given a painter.
 * It runs below the build's tasks (10 nicer: on Linux, this thread only), so
 * on a busy machine the TUI draws less often rather than slowing the build.
 *
 * The thread runs this very module (as input-warmer.ts does): started with
 * ROLE in its workerData, the module serves. If the thread cannot start or
 * fails, frames are drawn here instead (see TuiReporter).
 */
import { getPriority, setPriority } from "node:os";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Frame, Painter } from "./tui-painter.js";
import { loadPainterScript, warmUp } from "./tui-script.js";

const ROLE = "rbuild-tui";

/**
 * The painter as one script with its code cache (tui-script.ts), where the
 * bundled CLI has it: dist/, beside the chunks/ this module is bundled into.
 * Elsewhere (the workspace's own dist/, in tests) the module is imported.
 */
const PAINTER_SCRIPT = "../tui-painter.cjs";

/** Ink and the painter, from the script when there is one (see PAINTER_SCRIPT). */
function loadInk(): Promise<typeof import("./tui-painter.js")> {
  const script = fileURLToPath(new URL(PAINTER_SCRIPT, import.meta.url));
  return existsSync(script) ? Promise.resolve(loadPainterScript(script).painter) : import("./tui-painter.js");
}

/** How much nicer the thread is than rbuild (whose tasks run at rbuild's own niceness). */
const THREAD_NICER = 10;

type ToThread = { type: "frame"; frame: Frame } | { type: "end"; notes: readonly string[] };
type FromThread = { type: "write"; text: string } | { type: "drawn" } | { type: "ended" } | { type: "ready" };

interface ThreadData {
  readonly role: typeof ROLE;
  /** Whether to draw a frame to nowhere once ink is loaded (a thread started early, on a core that idles). */
  readonly warm: boolean;
}

/**
 * The TUI's thread, started (ink loading) before there is anything to draw.
 * A ThreadPainter takes it over; one never taken over is stopped with `stop`.
 */
export class TuiThread {
  readonly worker: Worker;
  /** Settles once ink is loaded there (and the warm-up frame drawn); false if the thread failed first. */
  readonly ready: Promise<boolean>;
  /** The thread's error, if it failed before a painter took it over. */
  error: unknown;

  constructor(options: { warm: boolean }) {
    const data: ThreadData = { role: ROLE, warm: options.warm };
    this.worker = new Worker(new URL(import.meta.url), { workerData: data });
    this.worker.unref();
    this.ready = new Promise((resolve) => {
      this.worker.on("message", (message: FromThread) => message.type === "ready" && resolve(true));
      this.worker.on("error", (error) => {
        this.error ??= error;
        resolve(false);
      });
      this.worker.on("exit", () => resolve(false));
    });
  }

  /** Ends the thread (nothing it drew reached the terminal). */
  stop(): Promise<void> {
    this.worker.removeAllListeners("message");
    return this.worker.terminate().then(() => {});
  }
}

export class ThreadPainter implements Painter {
  readonly #worker: Worker;
  readonly #write: (text: string) => void;
  /** Whether a frame was sent and not drawn yet. */
  #drawing = false;
  /** What waits for the thread: notes and a resize not sent yet, the latest frame. */
  #pending: Frame | undefined;
  #ended: (() => void) | undefined;
  /** Whether the thread has written anything to the terminal yet; until it has, the notes sent to it. */
  #wrote = false;
  #notesSent: string[] = [];
  readonly #failed: (error: unknown) => void;

  /**
   * Draws on `thread` (one started early), or on a thread of its own. `failed`
   * is called once, never before the constructor returns, if the thread fails
   * (it then draws nothing more).
   */
  constructor(write: (text: string) => void, failed: (error: unknown) => void, thread: TuiThread = new TuiThread({ warm: false })) {
    this.#write = write;
    this.#failed = failed;
    this.#worker = thread.worker;
    this.#worker.on("message", (message: FromThread) => {
      if (message.type === "write") {
        this.#wrote = true;
        this.#write(message.text);
      } else if (message.type === "ended") this.#ended?.();
      else if (message.type === "drawn") {
        this.#drawing = false;
        this.#sendPending();
      }
    });
    const fail = (error: unknown): void => {
      this.#worker.removeAllListeners("message");
      this.#ended?.();
      this.#failed(error);
    };
    if (thread.error !== undefined) queueMicrotask(() => fail(thread.error));
    else this.#worker.on("error", fail);
  }

  frame(frame: Frame): void {
    const pending = this.#pending;
    // Notes and a resize carry over into the frame that replaces a pending one.
    this.#pending = pending === undefined ? frame : { ...frame, notes: [...pending.notes, ...frame.notes], resized: pending.resized || frame.resized };
    this.#sendPending();
  }

  #sendPending(): void {
    if (this.#drawing || this.#pending === undefined) return;
    this.#drawing = true;
    this.#post({ type: "frame", frame: this.#pending });
    if (!this.#wrote) this.#notesSent.push(...this.#pending.notes);
    this.#pending = undefined;
  }

  #post(message: ToThread): void {
    this.#worker.postMessage(message);
  }

  end(notes: readonly string[]): Promise<void> {
    if (!this.#wrote) {
      // A build shorter than ink's load: nothing is on the terminal to clear, so the thread is not waited for.
      // What it may still send is dropped (it never reached the terminal); the notes are written as they are.
      this.#worker.removeAllListeners("message");
      void this.#worker.terminate();
      for (const note of [...this.#notesSent, ...(this.#pending?.notes ?? []), ...notes]) this.#write(`${note}\n`);
      return Promise.resolve();
    }
    const ended = new Promise<void>((resolve) => (this.#ended = resolve));
    // A pending frame is not drawn (the live area goes), but its notes are printed.
    this.#post({ type: "end", notes: [...(this.#pending?.notes ?? []), ...notes] });
    this.#pending = undefined;
    return ended.then(() => void this.#worker.terminate());
  }
}

/** The thread's side: an InkPainter whose writes are sent back. */
async function serve(data: ThreadData): Promise<void> {
  const port = parentPort!;
  const send = (message: FromThread): void => port.postMessage(message);
  try {
    // Relative to rbuild's own (a `nice rbuild` stays below the rest too), and never above it, even for root.
    setPriority(0, Math.min(19, getPriority(0) + THREAD_NICER));
  } catch {
    // Not allowed here: the thread runs at the build's priority, as it would without this.
  }
  // yoga (ink's layout) asks `typeof fetch` as its WebAssembly loads, and in Node that loads undici (tens of
  // ms and dozens of internal modules). This thread never fetches: its global has no fetch.
  Object.defineProperty(globalThis, "fetch", { value: undefined, writable: true, configurable: true });
  const ink = await loadInk();
  const { InkPainter } = ink;
  if (data.warm) await warmUp(ink);
  // Ink writes a frame in a few pieces (cursor, erase, lines): they go to the main thread as one message, sent
  // before word that the frame is drawn, or at the end of the turn for what ink draws from a timer of its own.
  let written = "";
  const flush = (): void => {
    if (written !== "") send({ type: "write", text: written });
    written = "";
  };
  const painter = new InkPainter((text) => {
    if (written === "") queueMicrotask(flush);
    written += text;
  });
  port.on("message", (message: ToThread) => {
    if (message.type === "frame") {
      painter.frame(message.frame);
      flush();
      send({ type: "drawn" });
    } else
      void painter.end(message.notes).then(() => {
        flush();
        send({ type: "ended" });
      });
  });
  send({ type: "ready" });
}

if (!isMainThread && (workerData as { role?: string } | undefined)?.role === ROLE) void serve(workerData as ThreadData);
