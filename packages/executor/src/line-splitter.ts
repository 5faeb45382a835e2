import { StringDecoder } from "node:string_decoder";

/** Longest line kept in memory before it is passed on in pieces. */
const MAX_LINE = 64 * 1024;

/**
 * Turns a byte stream into whole lines, so that output from parallel tasks is
 * never interleaved mid-line. Decodes UTF-8 across chunk boundaries; a final
 * line without a newline is passed on by `end()`.
 */
export class LineSplitter {
  readonly #decoder = new StringDecoder("utf8");
  readonly #emit: (line: string) => void;
  #partial = "";

  constructor(emit: (line: string) => void) {
    this.#emit = emit;
  }

  write(chunk: Buffer | string): void {
    let text = this.#partial + (typeof chunk === "string" ? chunk : this.#decoder.write(chunk));
    let newline = text.indexOf("\n");
    while (newline !== -1) {
      this.#emit(text.slice(0, newline > 0 && text[newline - 1] === "\r" ? newline - 1 : newline));
      text = text.slice(newline + 1);
      newline = text.indexOf("\n");
    }
    while (text.length > MAX_LINE) {
      this.#emit(text.slice(0, MAX_LINE));
      text = text.slice(MAX_LINE);
    }
    this.#partial = text;
  }

  end(): void {
    const rest = this.#partial + this.#decoder.end();
    this.#partial = "";
    if (rest !== "") this.#emit(rest);
  }
}
