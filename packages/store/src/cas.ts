/**
 * Content-addressed blobs: `cas/<first two hex>/<BLAKE3 hex>`. A blob is
 * written to `cas/tmp/` and renamed into place once complete and hashed, so a
 * reader never sees a partial blob under a digest name. Readers verify what
 * they read; a blob whose bytes do not match its name is removed.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { DigestBuilder, digestBytes, type Digest } from "@rbuild/hash";
import { scratch } from "./scratch.js";

export type BlobCheck = "ok" | "missing" | "corrupt";

export class Cas {
  readonly dir: string;
  readonly #tmp: string;
  #made = new Set<string>();

  constructor(dir: string) {
    this.dir = dir;
    this.#tmp = join(dir, "tmp");
  }

  path(digest: Digest): string {
    return join(this.dir, digest.slice(0, 2), digest);
  }

  has(digest: Digest): boolean {
    return existsSync(this.path(digest));
  }

  /** A fresh path in the temp directory, for a blob being written. */
  tempPath(): string {
    this.#mkdir(this.#tmp);
    return join(this.#tmp, `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`);
  }

  /** Moves a complete temp file into place as the blob `digest`. */
  commit(temp: string, digest: Digest): void {
    const shard = join(this.dir, digest.slice(0, 2));
    this.#mkdir(shard);
    renameSync(temp, this.path(digest));
  }

  /** Reads a blob whole and checks its bytes; a corrupt blob is removed. */
  read(digest: Digest): { check: "ok"; bytes: Buffer } | { check: "missing" | "corrupt" } {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.path(digest));
    } catch {
      return { check: "missing" };
    }
    if (digestBytes(bytes) !== digest) {
      this.remove(digest);
      return { check: "corrupt" };
    }
    return { check: "ok", bytes };
  }

  /** Hashes a blob in chunks (memory stays flat) and checks it; a corrupt blob is removed. */
  verify(digest: Digest): BlobCheck {
    let fd: number;
    try {
      fd = openSync(this.path(digest), "r");
    } catch {
      return "missing";
    }
    const hasher = new DigestBuilder();
    const chunk = scratch();
    try {
      for (let n = readSync(fd, chunk, 0, chunk.length, null); n > 0; n = readSync(fd, chunk, 0, chunk.length, null)) {
        hasher.update(chunk.subarray(0, n));
      }
    } finally {
      closeSync(fd);
    }
    if (hasher.digest() !== digest) {
      this.remove(digest);
      return "corrupt";
    }
    return "ok";
  }

  size(digest: Digest): number | undefined {
    return statSync(this.path(digest), { throwIfNoEntry: false })?.size;
  }

  remove(digest: Digest): void {
    try {
      unlinkSync(this.path(digest));
    } catch {
      // Already gone.
    }
  }

  #mkdir(dir: string): void {
    if (this.#made.has(dir)) return;
    mkdirSync(dir, { recursive: true });
    this.#made.add(dir);
  }
}
