/**
 * What the daemon's client sends while its build runs (see daemon.ts): "I"
 * for each interrupt, and "W<columns>,<rows>;" when its terminal is resized
 * (SIGWINCH). The bytes may arrive split anywhere; anything else is ignored.
 */
export type ClientMessage = { type: "interrupt" } | { type: "resize"; columns: number; rows: number };

export class ClientInput {
  /** A resize message begun and not yet ended by ";". */
  #partial: string | undefined;

  /** The messages `chunk` completes. */
  feed(chunk: Buffer): ClientMessage[] {
    const messages: ClientMessage[] = [];
    for (const char of chunk.toString("latin1")) {
      if (this.#partial !== undefined) {
        if (char !== ";") {
          this.#partial += char;
          if (this.#partial.length > 32) this.#partial = undefined; // Not a size: dropped.
          continue;
        }
        const size = /^(\d{1,5}),(\d{1,5})$/.exec(this.#partial);
        this.#partial = undefined;
        if (size !== null) messages.push({ type: "resize", columns: Number(size[1]), rows: Number(size[2]) });
      } else if (char === "I") messages.push({ type: "interrupt" });
      else if (char === "W") this.#partial = "";
    }
    return messages;
  }
}

/** The client's terminal size in its request's terminal field: "1 <columns>x<rows>" (or "1" when unknown, "0": not a terminal). */
export function requestSize(field: string): { columns: number; rows: number } | undefined {
  const size = /^1 (\d{1,5})x(\d{1,5})$/.exec(field);
  return size === null ? undefined : { columns: Number(size[1]), rows: Number(size[2]) };
}
