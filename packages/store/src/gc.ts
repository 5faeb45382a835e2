/**
 * Garbage collection, least recently used first. Actions go before the blobs
 * they reference, in their own transaction, so a crash part-way leaves blobs
 * nobody names (reclaimed next time) and never an action without its blobs.
 */
import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Digest } from "@rbuild/hash";
import type { Store } from "./store.js";

export interface GcOptions {
  /** Keep the blobs under this many bytes, dropping the least recently used actions first. */
  readonly maxBytes?: number;
  /** Drop actions not used for this many days. */
  readonly maxAgeDays?: number;
  readonly now?: number;
}

export interface GcResult {
  readonly actionsRemoved: number;
  readonly blobsRemoved: number;
  readonly bytesFreed: number;
  readonly bytesLeft: number;
}

/** Blob files younger than this may belong to a build still running in another process. */
const ORPHAN_GRACE_MS = 60 * 60 * 1000;

export function collectGarbage(store: Store, options: GcOptions): GcResult {
  const db = store.database;
  const now = options.now ?? Date.now();
  let actionsRemoved = 0;

  if (options.maxAgeDays !== undefined) {
    const cutoff = now - options.maxAgeDays * 24 * 60 * 60 * 1000;
    actionsRemoved += db.prepare("DELETE FROM actions WHERE last_used < ?").run(cutoff).changes;
  }

  const unreferenced = db.prepare(
    "SELECT digest, size FROM blobs WHERE digest NOT IN (SELECT layer FROM actions WHERE layer IS NOT NULL) AND digest NOT IN (SELECT log_blob FROM actions WHERE log_blob IS NOT NULL)",
  );
  const total = (): number => (db.prepare("SELECT coalesce(sum(size), 0) AS n FROM blobs").get() as { n: number }).n;

  let blobsRemoved = 0;
  let bytesFreed = 0;
  const dropUnreferenced = (): void => {
    const rows = unreferenced.all() as { digest: Digest; size: number }[];
    const remove = db.prepare("DELETE FROM blobs WHERE digest = ?");
    db.transaction(() => {
      for (const row of rows) remove.run(row.digest);
    })();
    for (const row of rows) {
      store.cas.remove(row.digest);
      blobsRemoved++;
      bytesFreed += row.size;
    }
  };
  dropUnreferenced();

  if (options.maxBytes !== undefined) {
    const oldest = db.prepare("SELECT key FROM actions ORDER BY last_used ASC, key ASC LIMIT 64");
    const remove = db.prepare("DELETE FROM actions WHERE key = ?");
    while (total() > options.maxBytes) {
      const keys = oldest.all() as { key: string }[];
      if (keys.length === 0) break;
      db.transaction(() => {
        for (const { key } of keys) actionsRemoved += remove.run(key).changes;
      })();
      dropUnreferenced();
    }
  }

  // Files that no row names: left by a crash, or by an index that was reset.
  const known = new Set((db.prepare("SELECT digest FROM blobs").raw().all() as [string][]).map(([d]) => d));
  for (const shard of safeList(store.cas.dir)) {
    const dir = join(store.cas.dir, shard);
    for (const name of safeList(dir)) {
      if (known.has(name)) continue;
      const path = join(dir, name);
      const stat = statSync(path, { throwIfNoEntry: false });
      if (stat === undefined || now - stat.mtimeMs < ORPHAN_GRACE_MS) continue;
      rmSync(path, { force: true });
      blobsRemoved++;
      bytesFreed += stat.size;
    }
  }
  return { actionsRemoved, blobsRemoved, bytesFreed, bytesLeft: total() };
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
