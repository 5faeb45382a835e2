/**
 * What a transform (`transform: "<dep>"`, see diff-layer.ts in @rbuild/store)
 * needs beyond an ordinary task's cache step:
 *
 * - Its output area starts as a copy of the dep's outputs. The dep's outputs
 *   are the same paths (the transform's outputs globs must match every one of
 *   them, or the task fails naming the first that is not), so starting from
 *   them means: remove what the outputs globs match beyond the dep's manifest
 *   (what an earlier run of the transform added), and restore from the dep's
 *   layer stack whatever differs (what it changed or deleted).
 * - A hit is restored the same way from its own stack: deletions are part of
 *   what it did, so what its outputs match beyond its manifest goes too.
 * - Its layer is the difference from the dep's manifest; its action's stack is
 *   the dep's stack with the dep's layer on top.
 * - So it needs the dep's stored result, not only its outputs in the
 *   workspace: a dep that is up to date (its freshness entry holds) but whose
 *   result is gone from the store (`rbuild cache gc`) is not taken as up to
 *   date; it is restored (from the remote cache) or run again, unless every
 *   transform of it is up to date too (then nothing starts from it).
 * - Its freshness entry leaves the outputs its transform took over to that
 *   transform: see covered-outputs.ts.
 */
import { lstatSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import type { Digest } from "@rbuild/hash";
import type { GraphTask } from "@rbuild/planner";
import { removeOpeningUp, removeTree, type ActionEntry, type ManifestEntry } from "@rbuild/store";
import { expandOpeningUp } from "./clear-outputs.js";

/** The layers to apply, bottom first, for `entry`'s outputs: also the stack a transform of it records below its own layer. */
export function layersOf(entry: Pick<ActionEntry, "layer" | "stack">): Digest[] {
  return [...(entry.stack ?? []), ...(entry.layer === null ? [] : [entry.layer])];
}

/** The tasks some task of `tasks` is a transform of, each with its transforms: their stored results are needed, not only their outputs. */
export function transformBases(tasks: ReadonlyMap<string, GraphTask>): ReadonlyMap<string, readonly string[]> {
  const bases = new Map<string, string[]>();
  for (const task of tasks.values()) {
    if (task.transform === undefined) continue;
    const transforms = bases.get(task.transform);
    if (transforms === undefined) bases.set(task.transform, [task.name]);
    else transforms.push(task.name);
  }
  return bases;
}

/** The first path of `manifest` that `covered` does not match (a dep's output outside its transform's outputs). */
export function firstUncovered(manifest: readonly ManifestEntry[], covered: (path: string) => boolean): string | undefined {
  return manifest.find((e) => !covered(e.path))?.path;
}

/**
 * Removes what `outputs` match under `root` that `manifest` does not list;
 * a directory only once nothing is left in it. Returns how many entries went.
 */
export function removeBeyond(root: string, outputs: readonly string[], ignore: readonly string[], manifest: readonly ManifestEntry[]): number {
  const keep = new Set(manifest.map((e) => e.path));
  const directories: string[] = [];
  let removed = 0;
  for (const path of expandOpeningUp(root, outputs, { directories: true, ignore })) {
    if (keep.has(path)) continue;
    const full = join(root, path);
    const stat = lstatSync(full, { throwIfNoEntry: false });
    if (stat === undefined) continue;
    if (stat.isDirectory()) directories.push(full);
    else {
      removeTree(full);
      removed++;
    }
  }
  for (const dir of directories.reverse()) {
    try {
      removeOpeningUp(dir, rmdirSync);
      removed++;
    } catch {
      // Not empty: it holds something kept, or something that is not an output.
    }
  }
  return removed;
}
