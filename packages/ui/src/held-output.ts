/**
 * A task's output waiting to be shown as one block (while another task's
 * output is being shown), bounded: past `limit` characters the first `limit`
 * and the last `limit` are kept and what lies between is counted, so a task
 * that prints gigabytes while it waits cannot exhaust rbuild's memory, and
 * both how it began and how it ended are still shown.
 */
import type { TextSink } from "./plain-reporter.js";

export type HeldLine = readonly [sink: TextSink, text: string];

/** Characters kept of each end of a task's held output. */
export const HELD_LIMIT = 1024 * 1024;

export class HeldOutput {
  readonly #limit: number;
  readonly #head: HeldLine[] = [];
  #headChars = 0;
  /** The tail; lines before #tailStart have been dropped (compacted now and then). */
  #tail: HeldLine[] = [];
  #tailStart = 0;
  #tailChars = 0;
  #dropped = 0;

  constructor(limit = HELD_LIMIT) {
    this.#limit = limit;
  }

  add(line: HeldLine): void {
    if (this.#tail.length === 0 && this.#headChars + line[1].length <= this.#limit) {
      this.#head.push(line);
      this.#headChars += line[1].length;
      return;
    }
    this.#tail.push(line);
    this.#tailChars += line[1].length;
    while (this.#tailChars > this.#limit && this.#tailStart < this.#tail.length - 1) {
      this.#tailChars -= this.#tail[this.#tailStart]![1].length;
      this.#tailStart++;
      this.#dropped++;
    }
    if (this.#tailStart > 1024 && this.#tailStart * 2 > this.#tail.length) {
      this.#tail = this.#tail.slice(this.#tailStart);
      this.#tailStart = 0;
    }
  }

  /** The lines kept, in order, with `gap(n)` standing for the `n` lines left out, if any. */
  lines(gap: (dropped: number) => HeldLine): HeldLine[] {
    const tail = this.#tail.slice(this.#tailStart);
    return this.#dropped === 0 ? [...this.#head, ...tail] : [...this.#head, gap(this.#dropped), ...tail];
  }
}
