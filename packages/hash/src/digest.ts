/**
 * BLAKE3 digests, as 64 lowercase hex characters. `Digest` is a branded
 * string so that a digest cannot be confused with a path or a task name.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { createRequire } from "node:module";

// Required, not imported: Node scans a CommonJS module imported from ESM for its export names
// with a JavaScript lexer, 17 KB here, on the main thread (and TurboFan then compiles the lexer).
const { Blake3Hasher } = createRequire(import.meta.url)("@napi-rs/blake-hash") as typeof import("@napi-rs/blake-hash");

export type Digest = string & { readonly __brand: "Digest" };

const DIGEST = /^[0-9a-f]{64}$/;

export function isDigest(value: unknown): value is Digest {
  return typeof value === "string" && DIGEST.test(value);
}

/**
 * One hasher, reset after each use: `blake3()` returns its digest as a Buffer
 * the addon allocates outside V8's heap, which took 3 us a call against 1.2 us
 * here, and left finalizers for the next scavenge.
 */
const oneShot = new Blake3Hasher();

export function digestBytes(bytes: Uint8Array | string): Digest {
  try {
    return oneShot.update(bytes).digest("hex") as Digest;
  } finally {
    oneShot.reset();
  }
}

const CHUNK = 1024 * 1024;
let chunk: Buffer | undefined;

/** The digest of a file's contents, read in chunks so memory stays flat for large files. */
export function digestFile(path: string): Digest {
  const fd = openSync(path, "r");
  try {
    chunk ??= Buffer.allocUnsafe(CHUNK);
    const first = readSync(fd, chunk, 0, CHUNK, null);
    if (first < CHUNK) return digestBytes(chunk.subarray(0, first));
    const hasher = new Blake3Hasher();
    hasher.update(chunk.subarray(0, first));
    for (let n = readSync(fd, chunk, 0, CHUNK, null); n > 0; n = readSync(fd, chunk, 0, CHUNK, null)) {
      hasher.update(chunk.subarray(0, n));
    }
    return hasher.digest("hex") as Digest;
  } finally {
    closeSync(fd);
  }
}

/** A streaming BLAKE3 digest. */
export class DigestBuilder {
  readonly #hasher = new Blake3Hasher();
  update(bytes: Uint8Array | string): this {
    this.#hasher.update(bytes);
    return this;
  }
  digest(): Digest {
    return this.#hasher.digest("hex") as Digest;
  }
}
