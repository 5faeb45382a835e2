/**
 * Draws the terminal UI's frames with ink: the notes (printed once, above)
 * and the live lines, on a terminal of a given size, through `write`. A frame
 * after a resize is drawn by a new ink instance once the rows the old frame
 * takes at the new width are erased: the terminal wraps its lines anew, so
 * ink's own count of the rows to erase would go wrong and leave stale lines.
 *
 * It runs on the TUI's own thread (tui-thread.ts) so that loading ink and
 * drawing cost the build's main thread nothing, or here (tests, and should
 * the thread fail to start).
 */
import { EventEmitter } from "node:events";
import { render, type Instance } from "ink";
import { NARROW } from "./narrow-width.js";
import { rowsAfterResize, type FrameSize } from "./tui-lines.js";
import { tuiFrame } from "./tui-view.js";

/** One frame: the notes new since the last, the live lines, and the terminal's size. */
export interface Frame extends FrameSize {
  readonly notes: readonly string[];
  readonly lines: readonly string[];
  /** The terminal was resized since the last frame. */
  readonly resized: boolean;
}

export interface Painter {
  frame(frame: Frame): void;
  /** Prints the last `notes`, clears the live area and lets go of the terminal; settles once all of it is written. */
  end(notes: readonly string[]): Promise<void>;
}

/** The stream ink writes to: a TTY of the frame's size, as wide as `layoutColumns` says. */
class TerminalStream extends EventEmitter {
  readonly isTTY = true;
  readonly #write: (text: string) => void;
  /** Read by ink as it lays out each frame. */
  columns: number;
  readonly rows: number;

  constructor(write: (text: string) => void, size: FrameSize) {
    super();
    this.#write = write;
    this.columns = size.columns;
    this.rows = size.rows;
  }

  write(text: string, done?: () => void): boolean {
    this.#write(text);
    done?.();
    return true;
  }
}

/**
 * The width ink lays a frame out at: the terminal's, or less when nothing in
 * the frame needs all of it. Ink's work for a frame grows with width x rows
 * (every column of every row is a cell, whose colour codes are compared with
 * the one before), and the live lines are mostly short. The width is an upper
 * bound of the widest text's (1 column for printable ASCII and the symbols the
 * TUI draws, 2 for anything from U+1100 on, where wide characters start), so
 * ink cuts and wraps the text exactly where the terminal's width would have.
 */
export function layoutColumns(columns: number, texts: readonly string[]): number {
  let widest = 1;
  for (const text of texts) {
    let width = 0;
    for (const char of text.replace(/\x1b\[[0-9;]*m/g, "")) width += char.codePointAt(0)! < 0x1100 || NARROW.includes(char) ? 1 : 2;
    if (width >= columns) return columns;
    widest = Math.max(widest, width);
  }
  return Math.min(columns, widest);
}

/** Erases `rows` rows: the cursor's and those above it; the cursor ends at the top one's start. */
const eraseRows = (rows: number): string => "\x1b[2K\x1b[1A".repeat(Math.max(0, rows - 1)) + "\x1b[2K\x1b[G";

export class InkPainter implements Painter {
  readonly #write: (text: string) => void;
  #ink: Instance | undefined;
  #stream: TerminalStream | undefined;
  /** Every note so far; the current instance prints those from `#notesFrom` on (an earlier one printed the rest). */
  readonly #notes: string[] = [];
  #notesFrom = 0;
  /** The last frame's lines and the width they were cut at. */
  #lines: readonly string[] = [];
  #columns = 0;

  constructor(write: (text: string) => void) {
    this.#write = write;
  }

  frame(frame: Frame): void {
    if (this.#ink !== undefined && frame.resized) {
      this.#ink.unmount();
      this.#ink = undefined;
      this.#stream = undefined;
      // The frame's rows at the new width, and the cursor's below them.
      this.#write(eraseRows(rowsAfterResize(this.#lines, this.#columns, frame.columns) + 1));
      this.#notesFrom = this.#notes.length;
    }
    this.#notes.push(...frame.notes);
    this.#lines = frame.lines;
    this.#columns = frame.columns;
    const element = tuiFrame(this.#notes.slice(this.#notesFrom), frame.lines);
    // Ink draws the notes new since its last frame (Static) and the lines.
    const columns = layoutColumns(frame.columns, [...frame.notes, ...frame.lines]);
    if (this.#ink !== undefined && this.#stream !== undefined) {
      this.#stream.columns = columns;
      return this.#ink.rerender(element);
    }
    this.#stream = new TerminalStream(this.#write, { columns, rows: frame.rows });
    const stream = this.#stream as unknown as NodeJS.WriteStream;
    this.#ink = render(element, {
      stdout: stream,
      stderr: stream,
      stdin: new EventEmitter() as unknown as NodeJS.ReadStream,
      patchConsole: false,
      exitOnCtrlC: false,
      // ink's own limit, above the reporter's: it must not hold back the frames it is given.
      maxFps: 30,
    });
  }

  async end(notes: readonly string[]): Promise<void> {
    this.#notes.push(...notes);
    if (this.#ink === undefined) return;
    // The last notes and no live area; ink draws that as it lets go of the terminal.
    if (this.#stream !== undefined) this.#stream.columns = layoutColumns(this.#columns, notes);
    this.#ink.rerender(tuiFrame(this.#notes.slice(this.#notesFrom), []));
    this.#ink.unmount();
    this.#ink = undefined;
    this.#stream = undefined;
  }
}
