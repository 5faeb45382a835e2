/**
 * Transform layers: a task with `transform: "<dep>"` starts from a copy of
 * its dep's outputs, and its layer holds only the difference, as an OCI image
 * layer does (image-spec layer.md, "Changesets"):
 *
 * - an entry that is new, or whose type, mode, content or link target changed,
 *   is in the layer whole (as in layer.ts);
 * - an entry of the dep's outputs that is gone has a whiteout: an empty file
 *   `.wh.<name>` in its directory (mode 0). Only the topmost deleted path is
 *   whited out: a deleted directory's whiteout deletes what was below it, and
 *   nothing is whited out below an entry the layer replaces (a directory that
 *   became a file). No opaque whiteouts: a directory kept is never emptied
 *   wholesale, each deleted child has its own.
 *
 * The task's own manifest is still the whole tree (what dependents' keys and
 * restores check), and its action lists the layers below its own, bottom
 * first (`stack`): applying them in order gives that tree.
 */
import { closeSync, fstatSync, lstatSync, openSync, readlinkSync, readSync } from "node:fs";
import { join } from "node:path";
import { DigestBuilder } from "@rbuild/hash";
import type { ManifestEntry } from "./layer.js";
import { scratch } from "./scratch.js";

/** The manifest entries of `paths` (relative to `root`, sorted), as writeLayer would record them, without writing a layer. */
export function scanOutputs(root: string, paths: readonly string[], dirModes?: ReadonlyMap<string, number>): { entries: ManifestEntry[]; skipped: string[] } {
  const entries: ManifestEntry[] = [];
  const skipped: string[] = [];
  const chunk = scratch();
  for (const path of paths) {
    const full = join(root, path);
    const stat = lstatSync(full, { throwIfNoEntry: false });
    if (stat === undefined) continue;
    if (stat.isSymbolicLink()) entries.push({ path, type: "symlink", target: readlinkSync(full) });
    else if (stat.isDirectory()) entries.push({ path, type: "dir", mode: dirModes?.get(path) ?? stat.mode & 0o7777 });
    else if (stat.isFile()) {
      const fd = openSync(full, "r");
      try {
        const hasher = new DigestBuilder();
        let size = 0;
        for (let n = readSync(fd, chunk, 0, chunk.length, null); n > 0; n = readSync(fd, chunk, 0, chunk.length, null)) {
          hasher.update(chunk.subarray(0, n));
          size += n;
        }
        entries.push({ path, type: "file", mode: fstatSync(fd).mode & 0o7777, size, digest: hasher.digest() });
      } finally {
        closeSync(fd);
      }
    } else skipped.push(path);
  }
  return { entries, skipped };
}

function same(a: ManifestEntry, b: ManifestEntry): boolean {
  if (a.type === "file") return b.type === "file" && a.mode === b.mode && a.digest === b.digest;
  if (a.type === "dir") return b.type === "dir" && a.mode === b.mode;
  return b.type === "symlink" && a.target === b.target;
}

/** What a transform's layer holds: the paths of `after` that differ from `before`, and the paths to white out (see the top of this file). */
export function layerDifference(before: readonly ManifestEntry[], after: readonly ManifestEntry[]): { changed: string[]; deleted: string[] } {
  const was = new Map(before.map((e) => [e.path, e]));
  const now = new Map(after.map((e) => [e.path, e]));
  const changed = after.filter((e) => !(was.has(e.path) && same(was.get(e.path)!, e))).map((e) => e.path);
  const deleted: string[] = [];
  for (const entry of before) {
    if (now.has(entry.path)) continue;
    // Below a deleted path or one that is no longer a directory, the whiteout or the new entry above says it all.
    let covered = false;
    for (let at = entry.path.indexOf("/"); at !== -1 && !covered; at = entry.path.indexOf("/", at + 1)) {
      const parent = entry.path.slice(0, at);
      covered = (was.has(parent) && !now.has(parent)) || (now.has(parent) && now.get(parent)!.type !== "dir");
    }
    if (!covered) deleted.push(entry.path);
  }
  return { changed, deleted };
}
