/**
 * The HTTP half of a remote client, shared by rbuild's protocol
 * (http-remote.ts) and a plain GET/HEAD/PUT store (plain-http-remote.ts):
 * undici loaded on first use, one deadline per exchange and the build's
 * interrupt (request-deadline.ts), error answers turned into RemoteErrors with
 * a message that says what to do, and blob downloads checked against their
 * digest while they stream to a temp file (only a verified blob is renamed
 * into place).
 */
import { createWriteStream, renameSync, rmSync } from "node:fs";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Dispatcher } from "undici";
import { DigestBuilder } from "@rbuild/hash";
import { drop, readCapped } from "./capped-body.js";
import { MAX_ANSWER_BYTES, RemoteError } from "./remote-cache.js";
import { deadlineFor, withDeadline } from "./request-deadline.js";

export interface TransportOptions {
  /** Every path is relative to this, which ends in `/`. */
  readonly base: string;
  /** Sent with every request (authorization). */
  readonly headers: Record<string, string>;
  /** Connection, headers and between-chunks timeout; a whole exchange has this plus its bytes at 1 MiB/s. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  /** What a 401 asks the user to check. */
  readonly credentials: string;
}

export interface Exchange {
  readonly method: Dispatcher.HttpMethod;
  readonly path: string;
  readonly body?: Dispatcher.DispatchOptions["body"];
  readonly headers?: Record<string, string>;
  /** The most bytes it may move, both ways: what its deadline is derived from. */
  readonly bytes: number;
}

/** What an error answer's text is read for: the message only. */
const ERROR_TEXT_BYTES = 4096;

/** A download went past the size its entry declares. */
class TooLong extends Error {}

type Client = { request: typeof import("./undici-client.js").request; dispatcher: Dispatcher };

export function problemOf(error: unknown): RemoteError {
  if (error instanceof RemoteError) return error;
  const code = (error as { code?: string }).code ?? "";
  if (code.includes("TIMEOUT")) return new RemoteError("timeout", `timed out (${code})`);
  return new RemoteError("unreachable", (error as Error).message || code || String(error));
}

/** The message of an error answer's text: an HTML page (a proxy's, nginx's) by its title. */
function errorText(bytes: Buffer): string {
  const text = bytes.toString("utf8").trim();
  const title = /^</.test(text) ? /<title>([^<]*)<\/title>/i.exec(text)?.[1]?.trim() : undefined;
  return (title ?? text).slice(0, 200);
}

export class HttpTransport {
  readonly #options: TransportOptions;
  #client: Promise<Client> | undefined;

  constructor(options: TransportOptions) {
    this.#options = options;
  }

  /** undici, loaded on the first request: builds that never reach the remote do not pay for it. */
  #connect(): Promise<Client> {
    const timeout = this.#options.timeoutMs;
    this.#client ??= import("./undici-client.js").then(({ Agent, request }) => ({
      request,
      dispatcher: new Agent({ connectTimeout: timeout, headersTimeout: timeout, bodyTimeout: timeout, connections: 16 }),
    }));
    return this.#client;
  }

  /** One request, and `use` reading its answer, within the exchange's deadline (see request-deadline.ts). */
  async exchange<T>(what: string, exchange: Exchange, use: (response: Dispatcher.ResponseData) => Promise<T>): Promise<T> {
    const { request, dispatcher } = await this.#connect();
    const { method, path, body, headers = {}, bytes } = exchange;
    const { base, signal: interrupt, timeoutMs } = this.#options;
    if (interrupt?.aborted === true && body instanceof Readable) body.destroy();
    return withDeadline(what, deadlineFor(timeoutMs, bytes + ERROR_TEXT_BYTES), interrupt, async (signal) => {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(dispatcher, `${base}${path}`, { method, body, headers: { ...this.#options.headers, ...headers }, signal });
      } catch (error) {
        if (body instanceof Readable) body.destroy(); // A file being uploaded: its descriptor with it.
        throw problemOf(error);
      }
      return use(response);
    });
  }

  /** Throws the RemoteError an unexpected answer means. */
  async fail(response: Dispatcher.ResponseData, what: string): Promise<never> {
    // An error's text is for the message only: a few KiB of it at most.
    const raw = await readCapped(response, ERROR_TEXT_BYTES, what).catch(() => Buffer.alloc(0));
    const text = errorText(raw);
    const status = response.statusCode;
    if (status === 401) throw new RemoteError("unauthorized", `${what}: 401 unauthorized (check ${this.#options.credentials})`);
    if (status === 403) throw new RemoteError("forbidden", `${what}: 403 forbidden (the token may only read)`);
    if (status === 413) {
      // A server's own words say which limit (rbuild's cache server names its --max-size); a proxy's page (nginx's) says nothing.
      const own = text !== "" && !raw.toString("utf8").trimStart().startsWith("<");
      throw new RemoteError("status", `${what}: 413, the server takes no upload this large${own ? `: ${text}` : " (nginx: raise client_max_body_size)"}`);
    }
    throw new RemoteError("status", `${what}: HTTP ${status}${text === "" ? "" : ` (${text})`}`);
  }

  /** A 200 answer's body, at most `limit` bytes. */
  async read(response: Dispatcher.ResponseData, limit: number, what: string): Promise<Buffer> {
    try {
      return await readCapped(response, limit, what);
    } catch (error) {
      throw problemOf(error);
    }
  }

  /** A 200 answer's body as JSON, at most MAX_ANSWER_BYTES. */
  async readJson(response: Dispatcher.ResponseData, what: string): Promise<Record<string, unknown>> {
    const bytes = await this.read(response, MAX_ANSWER_BYTES, what);
    try {
      const value = JSON.parse(bytes.toString("utf8")) as unknown;
      if (typeof value === "object" && value !== null) return value as Record<string, unknown>;
    } catch {
      // Reported below.
    }
    throw new RemoteError("status", `${what}: the answer is not JSON`);
  }

  /** Streams a blob's answer to a temp file beside `target`, verified, no more than `size` bytes; renames it into place when right. */
  async receiveBlob(response: Dispatcher.ResponseData, what: string, digest: string, target: string, size: number): Promise<"ok" | "missing" | "corrupt"> {
    if (response.statusCode === 404) {
      await response.body.dump();
      return "missing";
    }
    if (response.statusCode !== 200) return this.fail(response, what);
    const declared = Number(response.headers["content-length"] ?? size);
    if (declared !== size) {
      drop(response); // Not the blob the entry names: not worth a byte.
      return "corrupt";
    }
    const temp = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.part`;
    const hasher = new DigestBuilder();
    let received = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        // Stop at the declared size: a remote that sends more (3 GB for a 17-byte blob) is not read on.
        if (received > size) return callback(new TooLong());
        hasher.update(chunk);
        callback(null, chunk);
      },
    });
    try {
      await pipeline(response.body, meter, createWriteStream(temp));
    } catch (error) {
      rmSync(temp, { force: true });
      if (error instanceof TooLong) return "corrupt";
      throw problemOf(error);
    }
    if (received !== size || hasher.digest() !== digest) {
      rmSync(temp, { force: true });
      return "corrupt";
    }
    renameSync(temp, target);
    return "ok";
  }

  async close(): Promise<void> {
    if (this.#client === undefined) return;
    try {
      const { dispatcher } = await this.#client;
      // Interrupted: every exchange is aborted, and the build does not wait for their sockets.
      await (this.#options.signal?.aborted === true ? dispatcher.destroy() : dispatcher.close());
    } catch {
      // Never connected (the failure was reported when it happened): nothing to close.
    }
  }
}
