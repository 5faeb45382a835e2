/**
 * rbuild's own remote cache protocol over HTTP (see cache-server/README.md):
 * entries and blobs by path, plus the batch calls `ac:get` and
 * `cas/blake3:missing`. The server checks what it stores (a blob against its
 * digest, an entry against its blobs); the client checks every download
 * (http-transport.ts). Errors are thrown as RemoteError; the caller decides
 * that a remote is best effort.
 */
import { createReadStream, statSync } from "node:fs";
import { blobTooLarge, INLINE_BLOB_MAX, MAX_ANSWER_BYTES, MAX_ENTRY_BYTES, RemoteError, type RemoteCache, type RemoteHit } from "./remote-cache.js";
import { HttpTransport, type Exchange } from "./http-transport.js";

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

/** What a batch call answered with 404 or 405 means: not rbuild's server, or one older than the call. */
function noBatchCalls(what: string, status: number): RemoteError {
  return new RemoteError(
    "status",
    `${what}: HTTP ${status}, the server does not answer rbuild's batch calls; if it is a plain HTTP store (GET, HEAD and PUT only, such as nginx's WebDAV module), use --remote webdav+http://... (or webdav+https://)`,
  );
}

export class HttpRemoteCache implements RemoteCache {
  readonly #http: HttpTransport;
  /** False once the server answered the batch lookup with 404 (a server older than `ac:get`). */
  #batches = true;

  constructor(options: HttpRemoteOptions) {
    this.#http = new HttpTransport({
      base: `${options.url.replace(/\/+$/, "")}/rbuild/v1/`,
      headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` },
      timeoutMs: options.timeoutMs ?? 10_000,
      signal: options.signal,
      credentials: "--token or RBUILD_TOKEN",
    });
  }

  async getEntry(key: string): Promise<Buffer | undefined> {
    const what = `reading entry ${key.slice(0, 12)}`;
    return this.#http.exchange(what, { method: "GET", path: `ac/${key}`, bytes: MAX_ENTRY_BYTES }, async (response) => {
      if (response.statusCode === 404) {
        await response.body.dump();
        return undefined;
      }
      if (response.statusCode !== 200) return this.#http.fail(response, what);
      return this.#http.read(response, MAX_ENTRY_BYTES, what);
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
    const answer = await this.#http.exchange(what, exchange, async (response) => {
      if (response.statusCode === 404 || response.statusCode === 405) {
        await response.body.dump();
        return undefined;
      }
      if (response.statusCode !== 200) return this.#http.fail(response, what);
      return this.#http.readJson(response, what);
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
    await this.#http.exchange(what, { method: "PUT", path: `ac/${key}`, body, headers: { "content-type": "application/json" }, bytes: body.length }, async (response) => {
      if (response.statusCode !== 200) return this.#http.fail(response, what);
      await response.body.dump();
    });
  }

  async missing(digests: readonly string[]): Promise<string[]> {
    if (digests.length === 0) return [];
    const what = "asking which blobs are missing";
    const body = JSON.stringify({ digests });
    const exchange: Exchange = { method: "POST", path: "cas/blake3:missing", body, headers: { "content-type": "application/json" }, bytes: body.length + MAX_ANSWER_BYTES };
    const answer = await this.#http.exchange(what, exchange, async (response) => {
      if (response.statusCode === 404 || response.statusCode === 405) {
        await response.body.dump();
        throw noBatchCalls(what, response.statusCode);
      }
      if (response.statusCode !== 200) return this.#http.fail(response, what);
      return this.#http.readJson(response, what);
    });
    if (!Array.isArray(answer.missing)) throw new RemoteError("status", `${what}: the answer has no \`missing\` list`);
    return answer.missing.filter((d): d is string => typeof d === "string");
  }

  async getBlob(digest: string, target: string, size: number): Promise<"ok" | "missing" | "corrupt"> {
    const what = `reading blob ${digest.slice(0, 12)}`;
    const tooLarge = blobTooLarge(size);
    if (tooLarge !== undefined) throw new RemoteError("status", `${what}: it is ${tooLarge}`);
    return this.#http.exchange(what, { method: "GET", path: `cas/blake3/${digest}`, bytes: size }, (response) => this.#http.receiveBlob(response, what, digest, target, size));
  }

  async putBlob(digest: string, source: string | Buffer): Promise<void> {
    const size = typeof source === "string" ? statSync(source).size : source.length;
    const what = `storing blob ${digest.slice(0, 12)}`;
    const tooLarge = blobTooLarge(size);
    if (tooLarge !== undefined) throw new RemoteError("status", `${what}: it is ${tooLarge}`);
    const headers = { "content-type": "application/octet-stream", "content-length": String(size) };
    const body = typeof source === "string" ? createReadStream(source) : source;
    await this.#http.exchange(what, { method: "PUT", path: `cas/blake3/${digest}`, body, headers, bytes: size }, async (response) => {
      if (response.statusCode !== 200) return this.#http.fail(response, what);
      await response.body.dump();
    });
  }

  close(): Promise<void> {
    return this.#http.close();
  }
}
