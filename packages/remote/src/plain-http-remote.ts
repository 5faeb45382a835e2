/**
 * The remote cache on a plain HTTP store that only answers GET, HEAD and PUT
 * on paths: nginx with its WebDAV module (`dav_methods PUT`), Apache mod_dav,
 * any server Bazel's or Gradle's HTTP cache would use. `--remote
 * webdav+http://host/path/` (or webdav+https) chooses it; the scheme is the
 * user's word, never guessed, since a server that answers a batch call with
 * 404 may just be misrouted.
 *
 * Layout under the base URL, as rbuild-cache-server's:
 *
 *   rbuild/v1/ac/<key>                an entry (JSON, names its `blobs`)
 *   rbuild/v1/cas/blake3/<digest>     a blob, its BLAKE3 digest in hex
 *
 * Such a store checks nothing, so the client keeps the rules the server would:
 * a blob is hashed before it is uploaded (wrong bytes are never sent); an
 * entry is uploaded only once HEAD finds each of its blobs, and read as a miss
 * when one is gone or when the body is not an entry at all (an HTML page);
 * every download is verified against its digest (http-transport.ts). A blob
 * found corrupt is listed as missing for the rest of the build, so the task's
 * rerun uploads it again and mends the store (a plain store has no DELETE).
 */
import { createReadStream, statSync } from "node:fs";
import { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import { digestBytes, DigestBuilder } from "@rbuild/hash";
import { blobsOf } from "./entry-blobs.js";
import { HttpTransport } from "./http-transport.js";
import { blobTooLarge, INLINE_BLOB_MAX, MAX_ENTRY_BYTES, RemoteError, type RemoteCache, type RemoteHit } from "./remote-cache.js";

export interface PlainHttpRemoteOptions {
  /** The store's base URL, http(s)://; a user and password in it are sent as Basic credentials. */
  readonly url: string;
  /** Sent as a Bearer token instead, when the URL has no user. */
  readonly token?: string;
  /** As HttpRemoteOptions.timeoutMs (default 10 s). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** What a PUT may answer when it stored the body: nginx says 201 for a new file, 204 for a replaced one. */
const STORED = new Set([200, 201, 204]);

async function digestOf(source: string | Buffer): Promise<string> {
  const hasher = new DigestBuilder();
  for await (const chunk of typeof source === "string" ? createReadStream(source) : Readable.from([source])) hasher.update(chunk as Buffer);
  return hasher.digest();
}

function authorization(url: URL, token: string | undefined): Record<string, string> {
  if (url.username !== "") {
    const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    return { authorization: `Basic ${Buffer.from(credentials).toString("base64")}` };
  }
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

export class PlainHttpRemote implements RemoteCache {
  readonly #http: HttpTransport;
  /** Blobs whose download did not match their digest: missing, to be uploaded again. */
  readonly #corrupt = new Set<string>();

  constructor(options: PlainHttpRemoteOptions) {
    const url = new URL(options.url);
    this.#http = new HttpTransport({
      base: `${url.origin}${url.pathname.replace(/\/+$/, "")}/rbuild/v1/`,
      headers: authorization(url, options.token),
      timeoutMs: options.timeoutMs ?? 10_000,
      signal: options.signal,
      credentials: "the user and password in the --remote URL, or --token",
    });
  }

  /** The stored size of a blob (NaN when the store does not say), or undefined when it is not stored. */
  async #size(digest: string): Promise<number | undefined> {
    const what = `looking for blob ${digest.slice(0, 12)}`;
    return this.#http.exchange(what, { method: "HEAD", path: `cas/blake3/${digest}`, bytes: 0 }, async (response) => {
      if (response.statusCode !== 200 && response.statusCode !== 404) return this.#http.fail(response, what);
      await response.body.dump();
      return response.statusCode === 404 ? undefined : Number(response.headers["content-length"] ?? Number.NaN);
    });
  }

  /** GET of an entry or a small blob: its bytes, at most `limit`, or undefined on a miss. */
  async #get(what: string, path: string, limit: number): Promise<Buffer | undefined> {
    return this.#http.exchange(what, { method: "GET", path, bytes: limit }, async (response) => {
      if (response.statusCode === 404) {
        await response.body.dump();
        return undefined;
      }
      if (response.statusCode !== 200) return this.#http.fail(response, what);
      return this.#http.read(response, limit, what);
    });
  }

  async #put(what: string, path: string, body: Dispatcher.DispatchOptions["body"], size: number, type: string): Promise<void> {
    const headers = { "content-type": type, "content-length": String(size) };
    await this.#http.exchange(what, { method: "PUT", path, body, headers, bytes: size }, async (response) => {
      if (!STORED.has(response.statusCode)) return this.#http.fail(response, what);
      await response.body.dump();
    });
  }

  /** The entry under `key` with the sizes of its blobs, or undefined when it is not whole. */
  async #entry(key: string): Promise<{ entry: Buffer; sizes: Map<string, number> } | undefined> {
    const entry = await this.#get(`reading entry ${key.slice(0, 12)}`, `ac/${key}`, MAX_ENTRY_BYTES);
    const blobs = entry === undefined ? undefined : blobsOf(entry);
    if (entry === undefined || blobs === undefined) return undefined;
    const sizes = new Map<string, number>();
    for (const [digest, size] of await Promise.all(blobs.map(async (d) => [d, await this.#size(d)] as const))) {
      if (size === undefined) return undefined;
      sizes.set(digest, size);
    }
    return { entry, sizes };
  }

  async getEntry(key: string): Promise<Buffer | undefined> {
    return (await this.#entry(key))?.entry;
  }

  /** One lookup per key (a plain store has no batch call); blobs the store says are small come along. */
  async getEntries(keys: readonly string[]): Promise<Map<string, RemoteHit>> {
    const found = new Map<string, RemoteHit>();
    await Promise.all(
      [...new Set(keys)].map(async (key) => {
        const whole = await this.#entry(key);
        if (whole === undefined) return;
        const inline = new Map<string, Buffer>();
        for (const [digest, size] of whole.sizes) {
          if (!(size <= INLINE_BLOB_MAX)) continue;
          const bytes = await this.#get(`reading blob ${digest.slice(0, 12)}`, `cas/blake3/${digest}`, INLINE_BLOB_MAX);
          if (bytes === undefined) return; // Gone since the HEAD: not whole.
          // Checked here too (the caller checks every inline blob), to know the store needs it again;
          // left out, so that the caller's getBlob reports it.
          if (digestBytes(bytes) === digest) inline.set(digest, bytes);
          else this.#corrupt.add(digest);
        }
        found.set(key, { entry: whole.entry, inline });
      }),
    );
    return found;
  }

  async putEntry(key: string, body: Buffer): Promise<void> {
    const what = `storing entry ${key.slice(0, 12)}`;
    const blobs = blobsOf(body);
    if (blobs === undefined) throw new RemoteError("status", `${what}: not a JSON object with "blobs"`);
    const missing = await this.missing(blobs);
    if (missing.length > 0) throw new RemoteError("status", `${what}: upload these blobs first: ${missing.join(", ")}`);
    await this.#put(what, `ac/${key}`, body, body.length, "application/json");
  }

  async missing(digests: readonly string[]): Promise<string[]> {
    const unique = [...new Set(digests)];
    const sizes = await Promise.all(unique.map((digest) => (this.#corrupt.has(digest) ? undefined : this.#size(digest))));
    return unique.filter((_, i) => sizes[i] === undefined);
  }

  async getBlob(digest: string, target: string, size: number): Promise<"ok" | "missing" | "corrupt"> {
    const what = `reading blob ${digest.slice(0, 12)}`;
    const tooLarge = blobTooLarge(size);
    if (tooLarge !== undefined) throw new RemoteError("status", `${what}: it is ${tooLarge}`);
    const got = await this.#http.exchange(what, { method: "GET", path: `cas/blake3/${digest}`, bytes: size }, (response) =>
      this.#http.receiveBlob(response, what, digest, target, size),
    );
    if (got === "corrupt") this.#corrupt.add(digest);
    return got;
  }

  async putBlob(digest: string, source: string | Buffer): Promise<void> {
    const size = typeof source === "string" ? statSync(source).size : source.length;
    const what = `storing blob ${digest.slice(0, 12)}`;
    const tooLarge = blobTooLarge(size);
    if (tooLarge !== undefined) throw new RemoteError("status", `${what}: it is ${tooLarge}`);
    // The store would keep any bytes under any name: only the right ones are sent.
    if ((await digestOf(source)) !== digest) throw new RemoteError("status", `${what}: its bytes do not match its digest; not uploaded`);
    await this.#put(what, `cas/blake3/${digest}`, typeof source === "string" ? createReadStream(source) : source, size, "application/octet-stream");
    this.#corrupt.delete(digest);
  }

  close(): Promise<void> {
    return this.#http.close();
  }
}
