/**
 * Garbage collection, least recently used first. Actions go before the blobs
 * they reference, in their own transaction, so a crash part-way leaves blobs
 * nobody names (reclaimed next time) and never an action without its blobs.
 */
import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type Database from "better-sqlite3";
import type { Digest } from "@rbuild/hash";
import { collectImages } from "./gc-images.js";
import type { Store } from "./store.js";

export interface GcOptions {
  /** Keep the blobs under this many bytes, dropping the least recently used actions first. */
  readonly maxBytes?: number;
  /** Drop actions not used for this many days. */
  readonly maxAgeDays?: number;
  readonly now?: number;
  /** Files and unpacked images younger than this (ms) may belong to a build still running in another process, and are kept; an hour unless given. */
  readonly graceMs?: number;
}

export interface GcResult {
  readonly actionsRemoved: number;
  readonly blobsRemoved: number;
  readonly bytesFreed: number;
  readonly bytesLeft: number;
  /** Unpacked container images removed (gc-images.ts). */
  readonly imagesRemoved: number;
}

/** Blob files younger than this may belong to a build still running in another process. */
const ORPHAN_GRACE_MS = 60 * 60 * 1000;

/**
 * Collects garbage in `store`. Damage found in the index starts it over (see
 * Store.usingIndex), and gc runs again on the new one, where every blob file
 * is an orphan.
 */
export function collectGarbage(store: Store, options: GcOptions): GcResult {
  store.flush(); // Uses recorded in this process count as uses.
  return store.usingIndex((db) => collect(store, db, options));
}

/** Every layer digest some action's stack names (a transform's layers below its own). */
const STACKED = "SELECT stacked.value FROM actions, json_each(actions.stack) AS stacked WHERE actions.stack IS NOT NULL";

function collect(store: Store, db: Database.Database, options: GcOptions): GcResult {
  const now = options.now ?? Date.now();
  const graceMs = options.graceMs ?? ORPHAN_GRACE_MS;
  let actionsRemoved = 0;

  if (options.maxAgeDays !== undefined) {
    const cutoff = now - options.maxAgeDays * 24 * 60 * 60 * 1000;
    actionsRemoved += db.prepare("DELETE FROM actions WHERE last_used < ?").run(cutoff).changes;
  }

  const unreferenced = db.prepare(
    "SELECT digest, size FROM blobs WHERE digest NOT IN (SELECT layer FROM actions WHERE layer IS NOT NULL) AND digest NOT IN (SELECT log_blob FROM actions WHERE log_blob IS NOT NULL)" +
      // The log of a failed (or impure) run is kept while the history has that run: `rbuild show` reads it.
      " AND digest NOT IN (SELECT log FROM runs WHERE log IS NOT NULL)" +
      // A layer below a transform's is part of its stack: kept while the stack is.
      ` AND digest NOT IN (${STACKED})`,
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
    // Oldest first, one action at a time: a blob goes when no remaining action references it.
    let left = total();
    const oldest = db.prepare("SELECT key, layer, log_blob, stack FROM actions ORDER BY last_used ASC, key ASC").all() as {
      key: string;
      layer: Digest | null;
      log_blob: Digest | null;
      stack: string | null;
    }[];
    const removeAction = db.prepare("DELETE FROM actions WHERE key = ?");
    const stillUsed = db.prepare(`SELECT 1 FROM actions WHERE layer = ? OR log_blob = ? OR ? IN (${STACKED}) LIMIT 1`);
    const blobSize = db.prepare("SELECT size FROM blobs WHERE digest = ?");
    const removeBlob = db.prepare("DELETE FROM blobs WHERE digest = ?");
    for (const action of oldest) {
      if (left <= options.maxBytes) break;
      const freed: { digest: Digest; size: number }[] = [];
      db.transaction(() => {
        removeAction.run(action.key);
        // The layers below a transform's go with the last action that names them, its dep's or a stack's.
        const stacked = action.stack === null ? [] : (JSON.parse(action.stack) as Digest[]);
        for (const digest of [action.layer, action.log_blob, ...stacked]) {
          if (digest === null || stillUsed.get(digest, digest, digest) !== undefined) continue;
          const row = blobSize.get(digest) as { size: number } | undefined;
          removeBlob.run(digest);
          if (row !== undefined) freed.push({ digest, size: row.size });
        }
      })();
      actionsRemoved++;
      for (const blob of freed) {
        store.cas.remove(blob.digest);
        blobsRemoved++;
        bytesFreed += blob.size;
        left -= blob.size;
      }
    }
  }

  // A container task's image is known for export while its key has an action (schema.ts, `run_images`).
  db.prepare("DELETE FROM run_images WHERE key NOT IN (SELECT key FROM actions)").run();
  const imagesRemoved = collectImages(db, store.dir, now, graceMs);

  // Files that no row names: left by a crash, or by an index that was reset.
  const known = new Set((db.prepare("SELECT digest FROM blobs").raw().all() as [string][]).map(([d]) => d));
  for (const shard of safeList(store.cas.dir)) {
    const dir = join(store.cas.dir, shard);
    for (const name of safeList(dir)) {
      if (known.has(name)) continue;
      const path = join(dir, name);
      const stat = statSync(path, { throwIfNoEntry: false });
      if (stat === undefined || now - stat.mtimeMs < graceMs) continue;
      rmSync(path, { force: true });
      blobsRemoved++;
      bytesFreed += stat.size;
    }
  }
  return { actionsRemoved, blobsRemoved, bytesFreed, bytesLeft: total(), imagesRemoved };
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
