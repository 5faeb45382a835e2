/**
 * The store's key spaces: one storage model under every protocol.
 *
 * Content lives once, named by its digest, in one space per digest function
 * (`cas/blake3`, `cas/sha256`): the same bytes uploaded by a Bazel client as a
 * CAS blob and by turbo as an artifact are one file, since both are SHA-256.
 * Digests of different functions never share a space, so a BLAKE3 name can
 * never be taken for a SHA-256 one (both are 64 hex).
 *
 * Each protocol (and digest function) keeps its own space of entries: its keys,
 * which the server cannot verify (action keys, turbo's hashes), mapped to
 * small records naming the blobs that hold the values. The same hex under two
 * protocols is two entries. An entry names blobs of exactly one content space,
 * its own `CONTENT_OF`.
 *
 * A space is also its directory below the store (`<dir>/<space>/<2 hex>/<name>`)
 * and its `kind` in the index, so all of them share one LRU under --max-size.
 */
import { createHash } from "node:crypto";
import { DigestBuilder } from "@rbuild/hash";

export type DigestFunction = "blake3" | "sha256";

export type ContentSpace = `cas/${DigestFunction}`;

export type EntrySpace =
  /** rbuild's action entries (JSON with "blobs"), by rbuild key. */
  | "ac/rbuild"
  /** turbo's artifacts, by a digest of team and hash. */
  | "ac/turbo"
  /** Nx's artifacts, by a digest of its hash. */
  | "ac/nx"
  /** Bazel HTTP `/ac/` values (opaque bytes), by the client's 64-hex key. */
  | "ac/bazel-sha256"
  /** The same below an instance named `.../blake3` (a client with --digest_function=blake3). */
  | "ac/bazel-blake3";

export type Space = ContentSpace | EntrySpace;

/** The content space whose blobs the entries of a space name. */
export const CONTENT_OF: Readonly<Record<EntrySpace, ContentSpace>> = {
  "ac/rbuild": "cas/blake3",
  "ac/turbo": "cas/sha256",
  "ac/nx": "cas/sha256",
  "ac/bazel-sha256": "cas/sha256",
  "ac/bazel-blake3": "cas/blake3",
};

export const CONTENT_SPACES: readonly ContentSpace[] = ["cas/blake3", "cas/sha256"];
export const ENTRY_SPACES = Object.keys(CONTENT_OF) as readonly EntrySpace[];

export function isContentSpace(space: Space): space is ContentSpace {
  return space.startsWith("cas/");
}

export interface StreamingHasher {
  update(chunk: Buffer): void;
  /** Lowercase hex. */
  digest(): string;
}

export function hasherFor(space: ContentSpace): StreamingHasher {
  if (space === "cas/blake3") {
    const builder = new DigestBuilder();
    return { update: (chunk) => void builder.update(chunk), digest: () => builder.digest() };
  }
  const hash = createHash("sha256");
  return { update: (chunk) => void hash.update(chunk), digest: () => hash.digest("hex") };
}

/** How a content space's digest is named in messages. */
export function functionName(space: ContentSpace): string {
  return space === "cas/blake3" ? "BLAKE3" : "SHA-256";
}
