/**
 * Each task's latest recorded duration, for the terminal UI's estimate of the
 * time left: from the runs of the newest RECENT_BUILDS builds in the index
 * (read through `runs_by_build`, so a long history costs nothing more), the
 * newest run of each task that ran (or failed): how long it takes when it
 * runs. A task found cached then is done at once and leaves the estimate, so
 * the estimate errs long, never short; a task that only ever came from the
 * cache in those builds has its newest restore's duration.
 * Read-only, as history.ts: an index that is missing, of another schema
 * version or unreadable is no durations, never an error.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type Database from "better-sqlite3";
import { SCHEMA_VERSION } from "./schema.js";

const load = createRequire(import.meta.url);

/** How many of the newest builds are read. */
export const RECENT_BUILDS = 20;

export function readRecentDurations(dir: string): Map<string, number> {
  const durations = new Map<string, number>();
  const path = join(dir, "index.sqlite");
  if (!existsSync(path)) return durations;
  let db: Database.Database | undefined;
  try {
    db = new (load("better-sqlite3") as typeof Database)(path, { readonly: true, fileMustExist: true, timeout: 1_000 });
    if (db.pragma("user_version", { simple: true }) !== SCHEMA_VERSION) return durations;
    const runs = db
      .prepare(
        "SELECT task, duration_ms, status FROM runs WHERE build >= coalesce((SELECT id FROM builds ORDER BY id DESC LIMIT 1 OFFSET ?), 0) AND status != 'skipped' ORDER BY build DESC",
      )
      .raw();
    const ran = new Set<string>();
    for (const [task, durationMs, status] of runs.iterate(RECENT_BUILDS - 1) as Iterable<[string, number, string]>) {
      if (ran.has(task)) continue;
      if (status !== "cached") {
        ran.add(task);
        durations.set(task, durationMs);
      } else if (!durations.has(task)) durations.set(task, durationMs);
    }
    return durations;
  } catch {
    return new Map(); // Unreadable: no estimate, the build goes on.
  } finally {
    db?.close();
  }
}
