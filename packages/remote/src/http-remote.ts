/**
 * rbuild's own remote cache protocol over HTTP (see cache-server/README.md),
 * with undici. Every download is checked against its digest while it streams
 * to a temp file; only a verified blob is renamed into place. Errors are
 * thrown as RemoteError; the caller decides that a remote is best effort.
 * Every exchange has a deadline for the whole of it, and stops when the build
 * is interrupted (request-deadline.ts).
 */
import { createReadStream, createWriteStream, renameSync, rmSync, statSync } from "node:fs";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Dispatcher } from "undici";
import { DigestBuilder } from "@rbuild/hash";
import { drop, readCapped } from "./capped-body.js";
import { blobTooLarge, INLINE_BLOB_MAX, MAX_ANSWER_BYTES, MAX_ENTRY_BYTES, RemoteError, type RemoteCache, type RemoteHit } from "./remote-cache.js";
import { deadlineFor, withDeadline } from "./request-deadline.js";

export interface HttpRemoteOptions {
  /** Base URL; the protocol lives under `<base>/rbuild/v1/`. */
  readonly url: string;
  readonly token?: string;
  /**
   * How long to wait for a connection and response headers, and between body chunks; a whole
   * exchange has this plus the time its bytes take at 1 MiB/s (default 10 s).
   */
  readonly timeoutMs?: number;
  /** The build's interrupt: aborts every exchange in flight, and refuses new ones. */
  readonly signal?: AbortSignal;
}

/** What an error answer's text is read for: the message only. */
const ERROR_TEXT_BYTES = 4096;

interface Exchange {
  readonly method: Dispatcher.HttpMethod;
  readonly path: string;
  readonly body?: Dispatcher.DispatchOptions["body"];
  readonly headers?: Record<string, string>;
  /** The most bytes it may move, both ways: what its deadline is derived from. */
  readonly bytes: number;
}

/** A download went past the size its entry declares. */
class TooLong extends Error {}

function problemOf(error: unknown): RemoteError {
  if (error instanceof RemoteError) return error;
  const code = (error as { code?: string }).code ?? "";
  if (code.includes("TIMEOUT")) return new RemoteError("timeout", `timed out (${code})`);
  return new RemoteError("unreachable", (error as Error).message || code || String(error));
}

export class HttpRemoteCache implements RemoteCache {
  readonly #base: string;
  readonly #headers: Record<string, string>;
  readonly #timeout: number;
  readonly #signal: AbortSignal | undefined;
  /** False once the server answered the batch lookup with 404 (a server older than `ac:get`). */
  #batches = true;
  #client: Promise<{ request: typeof import("./undici-client.js").request; dispatcher: Dispatcher }> | undefined;

  constructor(options: HttpRemoteOptions) {
    this.#base = `${options.url.replace(/\/+$/, "")}/rbuild/v1/`;
    this.#headers = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };
    this.#timeout = options.timeoutMs ?? 10_000;
    this.#signal = options.signal;
  }

  /** undici, loaded on the first request: builds that never reach the remote do not pay for it. */
  #connect(): Promise<{ request: typeof import("./undici-client.js").request; dispatcher: Dispatcher }> {
    this.#client ??= import("./undici-client.js").then(({ Agent, request }) => ({
      request,
      dispatcher: new Agent({
        connectTimeout: this.#timeout,
        headersTimeout: this.#timeout,
        bodyTimeout: this.#timeout,
        connections: 16,
      }),
    }));
    return this.#client;
  }

  /** One request, and `use` reading its answer, within the exchange's deadline (see request-deadline.ts). */
  async #exchange<T>(what: string, exchange: Exchange, use: (response: Dispatcher.ResponseData) => Promise<T>): Promise<T> {
    const { request, dispatcher } = await this.#connect();
    const { method, path, body, headers = {}, bytes } = exchange;
    if (this.#signal?.aborted === true && body instanceof Readable) body.destroy();
    return withDeadline(what, deadlineFor(this.#timeout, bytes + ERROR_TEXT_BYTES), this.#signal, async (signal) => {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(dispatcher, `${this.#base}${path}`, { method, body, headers: { ...this.#headers, ...headers }, signal });
      } catch (error) {
        if (body instanceof Readable) body.destroy(); // A file being uploaded: its descriptor with it.
        throw problemOf(error);
      }
      return use(response);
    });
  }

  async #fail(response: Dispatcher.ResponseData, what: string): Promise<never> {
    // An error's text is for the message only: a few KiB of it at most.
    const text = (await readCapped(response, ERROR_TEXT_BYTES, what).catch(() => Buffer.alloc(0))).toString("utf8").trim().slice(0, 200);
    const status = response.statusCode;
    if (status === 401) throw new RemoteError("unauthorized", `${what}: 401 unauthorized (check --token or RBUILD_TOKEN)`);
    if (status === 403) throw new RemoteError("forbidden", `${what}: 403 forbidden (the token may only read)`);
    throw new RemoteError("status", `${what}: HTTP ${status}${text === "" ? "" : ` (${text})`}`);
  }

  /** A 200 answer's body, at most `limit` bytes. */
  async #read(response: Dispatcher.ResponseData, limit: number, what: string): Promise<Buffer> {
    try {
      return await readCapped(response, limit, what);
    } catch (error) {
      throw problemOf(error);
    }
  }

  /** A 200 answer's body as JSON, at most MAX_ANSWER_BYTES. */
  async #readJson(response: Dispatcher.ResponseData, what: string): Promise<Record<string, unknown>> {
    const bytes = await this.#read(response, MAX_ANSWER_BYTES, what);
    try {
      const value = JSON.parse(bytes.toString("utf8")) as unknown;
      if (typeof value === "object" && value !== null) return value as Record<string, unknown>;
    } catch {
      // Reported below.
    }
    throw new RemoteError("status", `${what}: the answer is not JSON`);
  }

  async getEntry(key: string): Promise<Buffer | undefined> {
    const what = `reading entry ${key.slice(0, 12)}`;
    return this.#exchange(what, { method: "GET", path: `ac/${key}`, bytes: MAX_ENTRY_BYTES }, async (response) => {
      if (response.statusCode === 404) {
        await response.body.dump();
        return undefined;
      }
      if (response.statusCode !== 200) return this.#fail(response, what);
      return this.#read(response, MAX_ENTRY_BYTES, what);
    });
  }

  /**
   * The entries of `keys`, in as many `ac:get` rounds as the server needs: it
   * answers what fits in one bounded answer and lists the rest as `later`.
   */
  async getEntries(keys: readonly string[]): Promise<Map<string, RemoteHit>> {
    const found = new Map<string, RemoteHit>();
    let asked = [...new Set(keys)];
    while (asked.length > 0) {
      if (!this.#batches) {
        for (const [key, hit] of await this.#getEntriesOneByOne(asked)) found.set(key, hit);
        return found;
      }
      const later = await this.#getBatch(asked, found);
      // Each round must leave fewer keys, or a server that defers everything would loop us forever.
      if (this.#batches && later.length >= asked.length) throw new RemoteError("status", `reading ${asked.length} entries: the server answered none of them`);
      asked = later;
    }
    return found;
  }

  /** One `ac:get`: adds the hits to `found`; returns the keys the server left for later. */
  async #getBatch(keys: readonly string[], found: Map<string, RemoteHit>): Promise<string[]> {
    const what = `reading ${keys.length} entries`;
    const body = JSON.stringify({ keys, inlineMax: INLINE_BLOB_MAX });
    const exchange: Exchange = { method: "POST", path: "ac:get", body, headers: { "content-type": "application/json" }, bytes: body.length + MAX_ANSWER_BYTES };
    const answer = await this.#exchange(what, exchange, async (response) => {
      if (response.statusCode === 404 || response.statusCode === 405) {
        await response.body.dump();
        return undefined;
      }
      if (response.statusCode !== 200) return this.#fail(response, what);
      return this.#readJson(response, what);
    });
    if (answer === undefined) {
      this.#batches = false;
      return [...keys];
    }
    const entries = answer.entries;
    if (typeof entries !== "object" || entries === null) throw new RemoteError("status", `${what}: the answer has no \`entries\``);
    const asked = new Set(keys);
    for (const [key, value] of Object.entries(entries as Record<string, unknown>)) {
      const hit = value as { entry?: unknown; inline?: unknown } | null;
      if (!asked.has(key) || typeof hit?.entry !== "string") continue;
      const inline = new Map<string, Buffer>();
      if (typeof hit.inline === "object" && hit.inline !== null) {
        for (const [digest, bytes] of Object.entries(hit.inline as Record<string, unknown>)) {
          if (typeof bytes === "string") inline.set(digest, Buffer.from(bytes, "base64"));
        }
      }
      found.set(key, { entry: Buffer.from(hit.entry, "base64"), inline });
    }
    const later = new Set(Array.isArray(answer.later) ? answer.later : []);
    return keys.filter((key) => !found.has(key) && later.has(key));
  }

  async #getEntriesOneByOne(keys: readonly string[]): Promise<Map<string, RemoteHit>> {
    const found = new Map<string, RemoteHit>();
    await Promise.all(
      keys.map(async (key) => {
        const entry = await this.getEntry(key);
        if (entry !== undefined) found.set(key, { entry, inline: new Map() });
      }),
    );
    return found;
  }

  async putEntry(key: string, body: Buffer): Promise<void> {
    const what = `storing entry ${key.slice(0, 12)}`;
    await this.#exchange(what, { method: "PUT", path: `ac/${key}`, body, headers: { "content-type": "application/json" }, bytes: body.length }, async (response) => {
      if (response.statusCode !== 200) return this.#fail(response, what);
      await response.body.dump();
    });
  }

  async missing(digests: readonly string[]): Promise<string[]> {
    if (digests.length === 0) return [];
    const what = "asking which blobs are missing";
    const body = JSON.stringify({ digests });
    const exchange: Exchange = { method: "POST", path: "cas/blake3:missing", body, headers: { "content-type": "application/json" }, bytes: body.length + MAX_ANSWER_BYTES };
    const answer = await this.#exchange(what, exchange, async (response) => {
      if (response.statusCode !== 200) return this.#fail(response, what);
      return this.#readJson(response, what);
    });
    if (!Array.isArray(answer.missing)) throw new RemoteError("status", `${what}: the answer has no \`missing\` list`);
    return answer.missing.filter((d): d is string => typeof d === "string");
  }

  async getBlob(digest: string, target: string, size: number): Promise<"ok" | "missing" | "corrupt"> {
    const what = `reading blob ${digest.slice(0, 12)}`;
    const tooLarge = blobTooLarge(size);
    if (tooLarge !== undefined) throw new RemoteError("status", `${what}: it is ${tooLarge}`);
    return this.#exchange(what, { method: "GET", path: `cas/blake3/${digest}`, bytes: size }, (response) => this.#receiveBlob(response, what, digest, target, size));
  }

  /** Streams a blob's answer to a temp file beside `target`, verified, no more than `size` bytes; renames it into place when right. */
  async #receiveBlob(response: Dispatcher.ResponseData, what: string, digest: string, target: string, size: number): Promise<"ok" | "missing" | "corrupt"> {
    if (response.statusCode === 404) {
      await response.body.dump();
      return "missing";
    }
    if (response.statusCode !== 200) return this.#fail(response, what);
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

  async putBlob(digest: string, source: string | Buffer): Promise<void> {
    const size = typeof source === "string" ? statSync(source).size : source.length;
    const what = `storing blob ${digest.slice(0, 12)}`;
    const tooLarge = blobTooLarge(size);
    if (tooLarge !== undefined) throw new RemoteError("status", `${what}: it is ${tooLarge}`);
    const headers = { "content-type": "application/octet-stream", "content-length": String(size) };
    await this.#exchange(what, { method: "PUT", path: `cas/blake3/${digest}`, body: typeof source === "string" ? createReadStream(source) : source, headers, bytes: size }, async (response) => {
      if (response.statusCode !== 200) return this.#fail(response, what);
      await response.body.dump();
    });
  }

  async close(): Promise<void> {
    if (this.#client === undefined) return;
    try {
      const { dispatcher } = await this.#client;
      // Interrupted: every exchange is aborted, and the build does not wait for their sockets.
      await (this.#signal?.aborted === true ? dispatcher.destroy() : dispatcher.close());
    } catch {
      // Never connected (the failure was reported when it happened): nothing to close.
    }
  }
}
