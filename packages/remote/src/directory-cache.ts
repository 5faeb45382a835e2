/**
 * The remote cache protocol on a directory instead of a server: for a cache
 * shared over a network filesystem (`--remote file:///mnt/cache`), and the
 * "local" member of the conformance suite. Same layout and rules as
 * rbuild-cache-server: blobs verified and renamed into place, an entry stored
 * only with its blobs, an entry whose blobs are gone is a miss.
 */
import { createReadStream, createWriteStream, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DigestBuilder } from "@rbuild/hash";
import { blobsOf } from "./entry-blobs.js";
import { blobTooLarge, INLINE_BLOB_MAX, MAX_ENTRY_BYTES, RemoteError, type RemoteCache, type RemoteHit } from "./remote-cache.js";

export class DirectoryCache implements RemoteCache {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  #blob(digest: string): string {
    return join(this.#dir, "cas", "blake3", digest.slice(0, 2), digest);
  }

  #entry(key: string): string {
    return join(this.#dir, "ac", key.slice(0, 2), key);
  }

  #temp(): string {
    const tmp = join(this.#dir, "tmp");
    mkdirSync(tmp, { recursive: true });
    return join(tmp, `${process.pid}-${Math.random().toString(36).slice(2)}`);
  }

  #place(temp: string, target: string): void {
    mkdirSync(dirname(target), { recursive: true });
    renameSync(temp, target);
  }

  async getEntry(key: string): Promise<Buffer | undefined> {
    const size = statSync(this.#entry(key), { throwIfNoEntry: false })?.size;
    if (size === undefined) return undefined;
    if (size > MAX_ENTRY_BYTES) throw new RemoteError("status", `reading entry ${key.slice(0, 12)}: it is larger than ${MAX_ENTRY_BYTES} bytes, more than any rbuild writes`);
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.#entry(key));
    } catch {
      return undefined;
    }
    const blobs = blobsOf(bytes);
    if (blobs === undefined || (await this.missing(blobs)).length > 0) return undefined;
    return bytes;
  }

  async getEntries(keys: readonly string[]): Promise<Map<string, RemoteHit>> {
    const found = new Map<string, RemoteHit>();
    for (const key of keys) {
      const entry = await this.getEntry(key);
      if (entry === undefined) continue;
      const inline = new Map<string, Buffer>();
      for (const digest of blobsOf(entry) ?? []) {
        const path = this.#blob(digest);
        if ((statSync(path, { throwIfNoEntry: false })?.size ?? Infinity) > INLINE_BLOB_MAX) continue;
        try {
          inline.set(digest, readFileSync(path));
        } catch {
          // Gone since the entry was read: the caller fetches it separately, and misses.
        }
      }
      found.set(key, { entry, inline });
    }
    return found;
  }

  async putEntry(key: string, body: Buffer): Promise<void> {
    const blobs = blobsOf(body);
    if (blobs === undefined) throw new RemoteError("status", `storing entry ${key.slice(0, 12)}: not a JSON object with "blobs"`);
    const missing = await this.missing(blobs);
    if (missing.length > 0) throw new RemoteError("status", `storing entry ${key.slice(0, 12)}: upload these blobs first: ${missing.join(", ")}`);
    const temp = this.#temp();
    writeFileSync(temp, body);
    this.#place(temp, this.#entry(key));
  }

  async missing(digests: readonly string[]): Promise<string[]> {
    return digests.filter((digest) => statSync(this.#blob(digest), { throwIfNoEntry: false }) === undefined);
  }

  /** Copies `source` to a temp file beside the cache while hashing it; returns the temp path and digest. */
  async #copy(source: string | Buffer, temp: string): Promise<string> {
    const hasher = new DigestBuilder();
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hasher.update(chunk);
        callback(null, chunk);
      },
    });
    await pipeline(typeof source === "string" ? createReadStream(source) : Readable.from([source]), meter, createWriteStream(temp));
    return hasher.digest();
  }

  async getBlob(digest: string, target: string, size: number): Promise<"ok" | "missing" | "corrupt"> {
    const tooLarge = blobTooLarge(size);
    if (tooLarge !== undefined) throw new RemoteError("status", `reading blob ${digest.slice(0, 12)}: it is ${tooLarge}`);
    const source = this.#blob(digest);
    const stored = statSync(source, { throwIfNoEntry: false })?.size;
    if (stored === undefined) return "missing";
    if (stored !== size) return "corrupt"; // Not the blob the entry names: not worth reading.
    const temp = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.part`;
    try {
      if ((await this.#copy(source, temp)) !== digest) {
        rmSync(temp, { force: true });
        return "corrupt";
      }
    } catch (error) {
      rmSync(temp, { force: true });
      throw new RemoteError("unreachable", `reading blob ${digest.slice(0, 12)}: ${(error as Error).message}`);
    }
    renameSync(temp, target);
    return "ok";
  }

  async putBlob(digest: string, source: string | Buffer): Promise<void> {
    const temp = this.#temp();
    try {
      if ((await this.#copy(source, temp)) !== digest) throw new RemoteError("status", `storing blob ${digest.slice(0, 12)}: its bytes do not match its digest`);
      this.#place(temp, this.#blob(digest));
    } catch (error) {
      rmSync(temp, { force: true });
      if (error instanceof RemoteError) throw error;
      throw new RemoteError("unreachable", `storing blob ${digest.slice(0, 12)}: ${(error as Error).message}`);
    }
  }

  async close(): Promise<void> {}
}
