/**
 * The remote cache interface that the executor uses, and its one error type.
 * Implementations: the HTTP client (http-remote.ts) and a shared directory
 * (directory-cache.ts); both pass the conformance suite.
 */
export type RemoteProblem = "unreachable" | "timeout" | "unauthorized" | "forbidden" | "status" | "corrupt" | "interrupted";

export class RemoteError extends Error {
  override readonly name = "RemoteError";
  constructor(
    readonly problem: RemoteProblem,
    message: string,
  ) {
    super(message);
  }
}

/** An action entry found by a batch lookup, with those of its blobs the remote sent along. */
export interface RemoteHit {
  readonly entry: Buffer;
  /** Blobs by digest, NOT yet verified: the caller checks each against its digest before use. */
  readonly inline: ReadonlyMap<string, Buffer>;
}

/** Blobs up to this size are asked to come inline with their entry. */
export const INLINE_BLOB_MAX = 64 * 1024;

/**
 * The largest action entry: the limit rbuild-cache-server sets on one (1 MiB).
 * A client that writes entries within it never needs to read a larger one, so a
 * larger answer is refused unread (a hostile remote could send gigabytes).
 */
export const MAX_ENTRY_BYTES = 1024 * 1024;

/**
 * The largest answer to a batch call (`ac:get`, `cas/blake3:missing`). The server
 * keeps its `ac:get` answers under 8 MiB; this leaves room for another server's
 * framing, and is small enough that holding one answer in memory is no concern.
 */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/**
 * The largest blob read from a remote (1 GiB). A blob's size comes from its
 * entry, which is the remote's word: an entry that declares 3 GiB would have
 * 3 GB written to disk before the digest could say they are wrong. A larger
 * blob is refused before a byte is read, and none is uploaded.
 */
export const MAX_BLOB_BYTES = 1024 * 1024 * 1024;

/** Why a blob of `size` bytes is not read from a remote, or undefined when it may be. */
export function blobTooLarge(size: number): string | undefined {
  if (size <= MAX_BLOB_BYTES) return undefined;
  return `${size} bytes, more than the ${MAX_BLOB_BYTES} (1 GiB) rbuild reads or shares through a remote`;
}

export interface RemoteCache {
  /** The action entry under `key`, or undefined on a miss. */
  getEntry(key: string): Promise<Buffer | undefined>;
  /** The entries of many keys (keys absent from the answer are misses), small blobs inline. */
  getEntries(keys: readonly string[]): Promise<Map<string, RemoteHit>>;
  putEntry(key: string, body: Buffer): Promise<void>;
  /** Which of `digests` the remote does not have. */
  missing(digests: readonly string[]): Promise<string[]>;
  /**
   * Downloads a blob of `size` bytes (as its entry declares) to `target`, verified; "missing" on a
   * miss, "corrupt" when the bytes are wrong. Reading stops at `size`: a longer body is corrupt.
   * A `size` over MAX_BLOB_BYTES is a RemoteError, before anything is read.
   */
  getBlob(digest: string, target: string, size: number): Promise<"ok" | "missing" | "corrupt">;
  /** Uploads a blob from a file, or from its bytes. */
  putBlob(digest: string, source: string | Buffer): Promise<void>;
  close(): Promise<void>;
}

