/**
 * The Turborepo remote cache API (v8), so that turbo shares this server:
 *
 *   turbo run build --api http://cache:9092 --token <token> --team <team>
 *
 *   PUT       /v8/artifacts/<hash>   store an artifact (opaque bytes)  -> 202 {"urls": [...]}
 *   GET|HEAD  /v8/artifacts/<hash>   fetch it, with x-artifact-duration and x-artifact-tag
 *   POST      /v8/artifacts          {"hashes": [...]} -> {hash: null | {size, taskDurationMs, tag?}}
 *   POST      /v8/artifacts/events   usage events: accepted and dropped
 *   GET       /v8/artifacts/status   {"status": "enabled"}
 *
 * Artifacts are scoped by team (`teamId`, `slug` or `team` in the query; none
 * is a team of its own). One is stored as a blob named by its SHA-256 digest
 * (computed as it streams in; the same bytes as a Bazel CAS blob are one file)
 * plus an entry in turbo's own key space (`ac/turbo`, key-spaces.ts), under a
 * key derived from team and hash, that names the blob and keeps turbo's
 * duration and signature tag. So turbo artifacts share the one size bound, LRU
 * eviction, tokens and metrics, and an entry is never served without its blob. The server cannot verify a
 * signature tag (it lacks the client's key); it stores and returns it.
 *
 * Errors are Vercel-shaped JSON, `{"error": {"code", "message"}}`; 404 is a miss.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { digestBytes } from "@rbuild/hash";
import { send } from "./answer.js";
import type { DiskStore } from "./disk-store.js";
import type { ProtocolContext } from "./protocol-context.js";
import type { Scope } from "./tokens.js";

export const TURBO_ROUTE = /^(?:\/.*)?\/v8\/artifacts(?:\/([^/]*))?$/;

const HASH = /^[A-Za-z0-9_.-]{1,128}$/;
const MAX_QUERY = 10_000;
const MAX_EVENTS_BODY = 1024 * 1024;
/** turbo's x-artifact-tag is at most 600 characters (Vercel's API). */
const MAX_TAG = 600;

/** Where turbo's entries live, and (CONTENT_OF) its artifacts: SHA-256 content. */
const SPACE = "ac/turbo";
const CONTENT = "cas/sha256";

/** What the entry of a turbo artifact holds (the `blobs` field is what the store checks). */
interface ArtifactEntry {
  readonly blobs: readonly [string];
  readonly turbo: { readonly team: string; readonly hash: string; readonly size: number; readonly durationMs: number; readonly tag: string | null };
}

function json(res: ServerResponse, status: number, value: unknown): number {
  send(res, status, JSON.stringify(value), "application/json");
  return status;
}

function error(res: ServerResponse, status: number, code: string, message: string): number {
  return json(res, status, { error: { code, message } });
}

function teamOf(req: IncomingMessage): string {
  const query = new URL(req.url ?? "/", "http://localhost").searchParams;
  return query.get("teamId") ?? query.get("slug") ?? query.get("team") ?? "";
}

/** The store key of a team's artifact: a digest, so any team and hash map to a valid entry name. */
function entryKey(team: string, hash: string): string {
  return digestBytes(`turbo-v8\0${team}\0${hash}`);
}

function readEntry(store: DiskStore, key: string): ArtifactEntry | undefined {
  const bytes = store.getAction(SPACE, key);
  if (bytes === undefined) return undefined;
  try {
    const entry = JSON.parse(bytes.toString("utf8")) as ArtifactEntry;
    return typeof entry.turbo === "object" && entry.turbo !== null ? entry : undefined;
  } catch {
    return undefined;
  }
}

/** Answers a request under /v8/artifacts; returns the status for the metrics. */
export async function handleTurbo(ctx: ProtocolContext, req: IncomingMessage, res: ServerResponse, name: string | undefined): Promise<number> {
  const method = req.method ?? "GET";
  const need: Scope = method === "PUT" ? "write" : "read";
  const no = ctx.denied(req, need);
  if (no !== undefined) {
    return no === 403
      ? error(res, 403, "forbidden", "this token may only read")
      : error(res, 401, "unauthorized", "a token is needed: pass turbo --token (or TURBO_TOKEN)");
  }

  if (name === "status") {
    if (method !== "GET") return error(res, 405, "method_not_allowed", "use GET");
    return json(res, 200, { status: "enabled" });
  }
  if (name === "events") {
    if (method !== "POST") return error(res, 405, "method_not_allowed", "use POST");
    await ctx.readBody(req, MAX_EVENTS_BODY);
    return json(res, 200, {});
  }
  if (name === undefined || name === "") {
    if (method !== "POST") return error(res, 405, "method_not_allowed", "use POST with {\"hashes\": [...]}");
    return query(ctx, req, res);
  }
  if (!HASH.test(name)) return error(res, 400, "bad_request", "an artifact hash is 1 to 128 letters, digits, '_', '.' or '-'");

  const team = teamOf(req);
  const key = entryKey(team, name);
  if (method === "GET" || method === "HEAD") {
    const entry = readEntry(ctx.store, key);
    if (entry === undefined) {
      ctx.metrics.miss("turbo", "artifact");
      return error(res, 404, "not_found", "Artifact not found");
    }
    const headers: Record<string, string> = { "x-artifact-duration": String(entry.turbo.durationMs) };
    if (entry.turbo.tag !== null) headers["x-artifact-tag"] = entry.turbo.tag;
    return ctx.serveBlob(req, res, CONTENT, entry.blobs[0], ["turbo", "artifact"], headers);
  }
  if (method !== "PUT") return error(res, 405, "method_not_allowed", "use GET, HEAD or PUT");

  const duration = Number(req.headers["x-artifact-duration"] ?? 0);
  const tagHeader = req.headers["x-artifact-tag"];
  const tag = typeof tagHeader === "string" && tagHeader !== "" ? tagHeader : null;
  if (!Number.isSafeInteger(duration) || duration < 0) {
    return error(res, 400, "bad_request", "x-artifact-duration must be a whole number of milliseconds");
  }
  if (tag !== null && tag.length > MAX_TAG) {
    return error(res, 400, "bad_request", `x-artifact-tag is longer than ${MAX_TAG} characters`);
  }
  const declared = Number(req.headers["content-length"] ?? Number.NaN);
  if (declared > ctx.maxBlobSize) {
    return error(res, 413, "too_large", `too large: at most ${ctx.maxBlobSize} bytes`);
  }
  const stored = await ctx.store.putUnnamedBlob(CONTENT, req, ctx.maxBlobSize);
  switch (stored) {
    case "too-large":
      return error(res, 413, "too_large", `too large: at most ${ctx.maxBlobSize} bytes`);
    case "disk-full":
      // Not 5xx: turbo retries those, and a full disk stays full.
      return error(res, 412, "disk_full", "the cache's disk is full");
    case "aborted":
      res.destroy();
      return 499;
  }
  const entry: ArtifactEntry = { blobs: [stored.digest], turbo: { team, hash: name, size: stored.size, durationMs: duration, tag } };
  const result = ctx.store.putAction(SPACE, key, Buffer.from(JSON.stringify(entry)), entry.blobs);
  // The blob was stored a moment ago; only eviction in between can make it missing.
  if (result !== "stored") return error(res, 412, "evicted", "the artifact was evicted while it was stored; try again");
  return json(res, 202, { urls: [`${team === "" ? "" : `${team}/`}${name}`] });
}

/** POST /v8/artifacts: which of these hashes the team has, with their size, duration and tag. */
async function query(ctx: ProtocolContext, req: IncomingMessage, res: ServerResponse): Promise<number> {
  const body = await ctx.readBody(req, 256 * MAX_QUERY);
  let hashes: unknown;
  try {
    hashes = body === undefined ? undefined : (JSON.parse(body.toString("utf8")) as { hashes?: unknown }).hashes;
  } catch {
    hashes = undefined;
  }
  if (!Array.isArray(hashes) || hashes.length > MAX_QUERY || !hashes.every((h) => typeof h === "string" && HASH.test(h))) {
    return error(res, 400, "bad_request", `expected {"hashes": [...]} with at most ${MAX_QUERY} artifact hashes`);
  }
  const team = teamOf(req);
  const answer: Record<string, { size: number; taskDurationMs: number; tag?: string } | null> = {};
  for (const hash of hashes as string[]) {
    const entry = readEntry(ctx.store, entryKey(team, hash));
    answer[hash] =
      entry === undefined
        ? null
        : { size: entry.turbo.size, taskDurationMs: entry.turbo.durationMs, ...(entry.turbo.tag === null ? {} : { tag: entry.turbo.tag }) };
  }
  return json(res, 200, answer);
}
