/**
 * Nx's self-hosted remote cache API (Nx 20.8 and later), so that nx shares this server:
 *
 *   NX_SELF_HOSTED_REMOTE_CACHE_SERVER=http://cache:9092 \
 *   NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN=<token> nx run-many -t build
 *
 *   GET  /v1/cache/<hash>   200 with the artifact (opaque bytes: nx's gzip'd tar), or 404
 *   PUT  /v1/cache/<hash>   200 once stored; 409 if <hash> is already stored (write-once)
 *
 * also below any path prefix. The status codes are the ones the real client
 * (nx 24) acts on, not the spec's: a PUT must answer exactly 200 (nx sends the
 * PUT again on a 202), 409 tells nx "already there, fine" and 403 "not stored";
 * any other answer, 401 included, fails the whole nx run. Errors are exactly
 * `text/plain`, which nx shows to the user.
 *
 * Storage: an artifact is a blob named by its SHA-256 digest (computed as it
 * streams in; the same bytes stored by another protocol are one file) plus an
 * entry in Nx's own key space (`ac/nx`, key-spaces.ts) under a key derived
 * from the hash, so Nx's decimal hashes never meet turbo's, Bazel's or rbuild's
 * keys, and artifacts share the size bound, LRU eviction, tokens and metrics.
 * An entry is never served without its blob; an evicted artifact may be stored
 * again.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { digestBytes } from "@rbuild/hash";
import { send } from "./answer.js";
import type { DiskStore } from "./disk-store.js";
import type { ProtocolContext } from "./protocol-context.js";

export const NX_ROUTE = /^(?:\/.*)?\/v1\/cache\/([^/]*)$/;

/** nx's hashes are decimal u64 strings; accept any short name that is safe in a path. */
const HASH = /^[A-Za-z0-9_.-]{1,128}$/;

/** Where Nx's entries live, and (CONTENT_OF) its artifacts: SHA-256 content. */
const SPACE = "ac/nx";
const CONTENT = "cas/sha256";

/** What the entry of an nx artifact holds (the `blobs` field is what the store checks). */
interface ArtifactEntry {
  readonly blobs: readonly [string];
  readonly nx: { readonly hash: string; readonly size: number };
}

/**
 * A plain-text answer. Exactly `text/plain`, no charset: nx shows a 401's text
 * only then, and otherwise fails with "Misconfigured remote cache endpoint:
 * Requests should respond with text/plain on 401s".
 */
function text(res: ServerResponse, status: number, message: string): number {
  send(res, status, `${message}\n`, "text/plain");
  return status;
}

/** The store key of an nx artifact: a digest, so any hash maps to a valid entry name of its own. */
function entryKey(hash: string): string {
  return digestBytes(`nx-v1\0${hash}`);
}

function readEntry(store: DiskStore, key: string): ArtifactEntry | undefined {
  const bytes = store.getAction(SPACE, key);
  if (bytes === undefined) return undefined;
  try {
    const entry = JSON.parse(bytes.toString("utf8")) as ArtifactEntry;
    return typeof entry.nx === "object" && entry.nx !== null ? entry : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads and drops a body of at most `limit` bytes before a refusal the client
 * must be able to read: nx treats a connection cut while it uploads as an error
 * that fails its run, where a 403 or 409 it reads is harmless. Only for
 * clients that hold a token; false when the body was longer (the caller cuts).
 */
async function drain(req: IncomingMessage, limit: number): Promise<boolean> {
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return false;
  }
  return true;
}

/** Answers a request under /v1/cache/; returns the status for the metrics. */
export async function handleNx(ctx: ProtocolContext, req: IncomingMessage, res: ServerResponse, hash: string): Promise<number> {
  const method = req.method ?? "GET";
  if (method !== "GET" && method !== "HEAD" && method !== "PUT") return text(res, 405, "use GET or PUT");
  const no = ctx.denied(req, method === "PUT" ? "write" : "read");
  if (no === 401) return text(res, 401, "a valid token is needed: set NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN");
  if (!HASH.test(hash)) return text(res, 400, "a cache hash is 1 to 128 letters, digits, '_', '.' or '-'");
  const key = entryKey(hash);

  if (method !== "PUT") {
    if (no !== undefined) return text(res, no, "this token may not read the cache");
    const entry = readEntry(ctx.store, key);
    if (entry === undefined) {
      ctx.metrics.miss("nx", "artifact");
      return text(res, 404, "not found");
    }
    return ctx.serveBlob(req, res, CONTENT, entry.blobs[0], ["nx", "artifact"]);
  }

  const declared = req.headers["content-length"];
  if (declared === undefined) return text(res, 411, "a PUT needs a Content-Length header");
  if (Number(declared) > ctx.maxBlobSize) return text(res, 413, `too large: this server keeps artifacts of at most ${ctx.maxBlobSize} bytes`);
  if (no !== undefined || readEntry(ctx.store, key) !== undefined) {
    if (!(await drain(req, ctx.maxBlobSize))) return (res.destroy(), 413);
    return no !== undefined ? text(res, no, "this token may only read the cache") : text(res, 409, "Cannot override an existing record");
  }
  const stored = await ctx.store.putUnnamedBlob(CONTENT, req, ctx.maxBlobSize);
  switch (stored) {
    case "too-large":
      return text(res, 413, `too large: this server keeps artifacts of at most ${ctx.maxBlobSize} bytes`);
    case "disk-full":
      return text(res, 507, "the cache's disk is full");
    case "aborted":
      res.destroy();
      return 499;
  }
  // Write-once: a concurrent PUT of the same hash that finished first wins.
  if (readEntry(ctx.store, key) !== undefined) return text(res, 409, "Cannot override an existing record");
  const entry: ArtifactEntry = { blobs: [stored.digest], nx: { hash, size: stored.size } };
  const result = ctx.store.putAction(SPACE, key, Buffer.from(JSON.stringify(entry)), entry.blobs);
  // The blob was stored a moment ago; only eviction in between can make it missing.
  if (result !== "stored") return text(res, 507, "the artifact was evicted while it was stored; the cache is too small for it");
  return text(res, 200, "stored");
}
