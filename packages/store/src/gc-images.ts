/**
 * Garbage collection of unpacked container images (`<store>/images/<hex>`,
 * written by @rbuild/runners image/unpack.ts, named by the image's digest).
 * One is kept while a stored result's key was computed with it (schema.ts,
 * `run_images`), or while it was unpacked or used within the grace period
 * (a build running now may be using one whose result it has not recorded
 * yet: the runner touches the directory each time a task starts in it, every
 * few minutes while it runs, and when it ends).
 * Temporary `.unpack-*` directories older than that were left by a crash
 * (an image is renamed to one before it is removed: a gc that dies midway
 * leaves no half of it under its name).
 */
import { readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type Database from "better-sqlite3";

/** Removes the unpacked images nothing keeps (see above); returns how many went. */
export function collectImages(db: Database.Database, storeDir: string, now: number, graceMs: number): number {
  const dir = join(storeDir, "images");
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0; // No images unpacked.
  }
  const kept = new Set((db.prepare("SELECT digest FROM run_images").pluck().all() as string[]).map((digest) => digest.replace(/^sha256:/, "")));
  let removed = 0;
  for (const name of names) {
    if (kept.has(name) || !(/^[0-9a-f]{64}$/.test(name) || name.startsWith(".unpack-"))) continue;
    const stat = statSync(join(dir, name), { throwIfNoEntry: false });
    if (stat === undefined || now - stat.mtimeMs < graceMs) continue;
    if (name.startsWith(".")) rmSync(join(dir, name), { recursive: true, force: true });
    else {
      // Out of its name first: a gc killed midway leaves a leftover to remove, never part of an image a build would run in.
      const aside = join(dir, `.unpack-gc-${name}`);
      try {
        renameSync(join(dir, name), aside);
      } catch {
        continue; // Gone already (another gc).
      }
      rmSync(aside, { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}
