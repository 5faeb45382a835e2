/**
 * The answer to `POST .../ac:get`: many entries in one response, each with
 * those of its blobs that are small enough inline, so that restoring many
 * small outputs costs one round trip per batch of tasks, not two per task.
 *
 *   {"entries": {"<key>": {"entry": "<base64>", "inline": {"<digest>": "<base64>"}}, ...},
 *    "later": ["<key>", ...]}
 *
 * The whole answer stays under MAX_ANSWER bytes: entries and inline blobs
 * alike count against it (1,000 keys of 1 MiB entries once made a 419 MB
 * answer). The keys that did not fit are listed in `later`, unanswered, and
 * the client asks for them again; the first entry always fits, so each round
 * makes progress. A key absent from both is a miss.
 *
 * The answer is streamed one entry at a time, waiting while the client is slow
 * to read, so memory holds one entry and its blobs at most, and other requests
 * (/healthz) are served between entries.
 */
import { once } from "node:events";
import type { ServerResponse } from "node:http";
import { readFileSync } from "node:fs";
import { referencedBlobs, type DiskStore } from "./disk-store.js";
import type { Metrics } from "./metrics.js";

/** Keys per request. More is a 400 that says so (a client splits its lookups into batches). */
export const MAX_GET_KEYS = 1_000;
/** Blobs up to this size may travel inline (the client asks for at most this). */
export const MAX_INLINE_BLOB = 64 * 1024;
/**
 * The bound on one answer, in bytes. Large enough for a batch of typical small
 * tasks with their layers inline; small enough that neither side needs much
 * memory for it (rbuild's client refuses an answer over 16 MiB).
 */
export const MAX_ANSWER = 8 * 1024 * 1024;
/** Room kept for the `later` list: a quoted 64-hex key and a comma each, and the framing. */
const LATER_RESERVE = 67 * MAX_GET_KEYS + 64;

const base64Length = (bytes: number): number => 4 * Math.ceil(bytes / 3);

/** Writes a chunk; when the client is slow, waits until it has read (or gone). False once it has gone. */
async function write(res: ServerResponse, chunk: string): Promise<boolean> {
  if (res.destroyed) return false;
  if (res.write(chunk)) return true;
  await Promise.race([once(res, "drain"), once(res, "close")]);
  return !res.destroyed;
}

/** Streams the answer for `keys`; returns the status for the metrics. */
export async function answerBatchGet(res: ServerResponse, store: DiskStore, metrics: Metrics, keys: readonly string[], inlineMax: number): Promise<number> {
  res.writeHead(200, { "content-type": "application/json" });
  let budget = MAX_ANSWER - LATER_RESERVE - '{"entries":{},"later":[]}'.length;
  const later: string[] = [];
  let separator = "";
  if (!(await write(res, '{"entries":{'))) return 499;
  for (const key of new Set(keys)) {
    const head = `${separator}"${key}":{"entry":"`;
    const size = store.open("ac/rbuild", key);
    if (size === undefined) {
      metrics.miss("rbuild", "ac");
      continue;
    }
    if (later.length > 0 || head.length + base64Length(size) + '","inline":{}}'.length > budget) {
      later.push(key);
      continue;
    }
    const bytes = store.getAction("ac/rbuild", key);
    if (bytes === undefined) {
      metrics.miss("rbuild", "ac");
      continue;
    }
    metrics.hit("rbuild", "ac");
    metrics.bytesOut += bytes.length;
    let piece = `${head}${bytes.toString("base64")}","inline":{`;
    budget -= piece.length + "}}".length;
    let comma = "";
    for (const digest of referencedBlobs(bytes) ?? []) {
      const blobSize = store.open("cas/blake3", digest);
      const cost = (length: number): number => `${comma}"${digest}":""`.length + base64Length(length);
      if (blobSize === undefined || blobSize > inlineMax || cost(blobSize) > budget) continue;
      let blob: Buffer;
      try {
        blob = readFileSync(store.path("cas/blake3", digest));
      } catch {
        continue; // Evicted just now: the client asks for it separately, and misses.
      }
      if (blob.length > inlineMax || cost(blob.length) > budget) continue; // Replaced since the stat.
      piece += `${comma}"${digest}":"${blob.toString("base64")}"`;
      budget -= cost(blob.length);
      comma = ",";
      metrics.hit("rbuild", "cas");
      metrics.bytesOut += blob.length;
    }
    if (!(await write(res, `${piece}}}`))) return 499;
    separator = ",";
  }
  res.end(`},"later":${JSON.stringify(later)}}`);
  return 200;
}
