/**
 * Server-sent events, as Concourse writes them (vito/go-sse, reference concourse.md §2.8):
 * `id: <n>`, `event: <name>`, one `data: <line>` per line of data (a bare `data` for an empty
 * line), then a blank line. Chunks may split a message, a line or a UTF-8 character anywhere;
 * the parser keeps what is incomplete for the next chunk.
 */
import { StringDecoder } from "node:string_decoder";

export interface SseMessage {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

export class SseParser {
  readonly #decoder = new StringDecoder("utf8");
  #pending = "";
  #id: string | undefined;
  #event: string | undefined;
  #data: string[] = [];

  /** The messages `chunk` completes. */
  push(chunk: Buffer | string): SseMessage[] {
    this.#pending += typeof chunk === "string" ? chunk : this.#decoder.write(chunk);
    const messages: SseMessage[] = [];
    for (let newline = this.#pending.indexOf("\n"); newline !== -1; newline = this.#pending.indexOf("\n")) {
      const line = this.#pending.slice(0, newline).replace(/\r$/, "");
      this.#pending = this.#pending.slice(newline + 1);
      const message = this.#line(line);
      if (message !== undefined) messages.push(message);
    }
    return messages;
  }

  #line(line: string): SseMessage | undefined {
    if (line === "") {
      if (this.#event === undefined && this.#data.length === 0 && this.#id === undefined) return undefined;
      const message = { id: this.#id, event: this.#event ?? "message", data: this.#data.join("\n") };
      this.#id = undefined;
      this.#event = undefined;
      this.#data = [];
      return message;
    }
    if (line.startsWith(":")) return undefined; // A comment (a keep-alive).
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") this.#id = value;
    else if (field === "event") this.#event = value;
    else if (field === "data") this.#data.push(value);
    return undefined;
  }
}
