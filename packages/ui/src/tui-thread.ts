/**
 * The TUI's painter on a thread of its own: loading ink (React, yoga's
 * WebAssembly: some 150 ms) and drawing each frame (a few ms of layout and
 * string widths) happen there, beside the build's main thread, which only
 * sends each frame's lines and writes what comes back. A frame is sent only
 * once the thread has drawn the one before, so a busy thread draws less
 * often instead of falling behind; notes and resizes are never dropped.
 *
 * The thread runs this very module (as input-warmer.ts does): started with
 * ROLE in its workerData, the module serves. If the thread cannot start or
 * fails, frames are drawn here instead (see TuiReporter).
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import type { Frame, Painter } from "./tui-painter.js";

const ROLE = "rbuild-tui";

type ToThread = { type: "frame"; frame: Frame } | { type: "end"; notes: readonly string[] };
type FromThread = { type: "write"; text: string } | { type: "drawn" } | { type: "ended" };

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

  /** `failed` is called once if the thread fails (it then draws nothing more). */
  constructor(write: (text: string) => void, failed: (error: unknown) => void) {
    this.#write = write;
    this.#failed = failed;
    this.#worker = new Worker(new URL(import.meta.url), { workerData: { role: ROLE } });
    this.#worker.unref();
    this.#worker.on("message", (message: FromThread) => {
      if (message.type === "write") {
        this.#wrote = true;
        this.#write(message.text);
      }
      else if (message.type === "ended") this.#ended?.();
      else {
        this.#drawing = false;
        this.#sendPending();
      }
    });
    this.#worker.on("error", (error) => {
      this.#worker.removeAllListeners("message");
      this.#ended?.();
      this.#failed(error);
    });
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
async function serve(): Promise<void> {
  const port = parentPort!;
  const send = (message: FromThread): void => port.postMessage(message);
  const { InkPainter } = await import("./tui-painter.js");
  const painter = new InkPainter((text) => send({ type: "write", text }));
  port.on("message", (message: ToThread) => {
    if (message.type === "frame") {
      painter.frame(message.frame);
      send({ type: "drawn" });
    } else void painter.end(message.notes).then(() => send({ type: "ended" }));
  });
}

if (!isMainThread && (workerData as { role?: string } | undefined)?.role === ROLE) void serve();
