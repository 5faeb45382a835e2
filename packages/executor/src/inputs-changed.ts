/**
 * Whether a task's input files still hold what its key was computed from,
 * once the task has run. A file saved while the task ran (an editor, during a
 * watch build) may have been read by the task in its new form; stored under
 * the key of the old content, its result would be a wrong hit as soon as the
 * edit is undone. So a pure task whose input changed while it ran is not
 * cached (Bazel likewise refuses an action whose input changed during the
 * build). Stats first: only a file whose stat differs is hashed again, so a
 * task that rewrites an input with the same bytes is still cached.
 */
import type { Stats } from "node:fs";
import { join } from "node:path";
import { statFollowing, type Digest } from "@rbuild/hash";
import type { FileStat } from "./fresh-entry.js";

/**
 * The first of `files` (stats taken when the key was computed; size -1 for a
 * link to nothing) whose content is no longer the digest `inputs` gives it,
 * or that appeared or went; undefined when none did.
 */
export function inputChangedWhileRunning(
  root: string,
  files: readonly FileStat[],
  inputs: readonly (readonly [string, Digest])[],
  digest: (path: string, stat: Stats) => Digest,
): string | undefined {
  const digests = new Map(inputs);
  for (const [path, size, mtimeMs, ctimeMs, ino] of files) {
    const now = statFollowing(join(root, path));
    const file = now !== undefined && now !== "loop" && now.isFile() ? now : undefined;
    if (size === -1 || file === undefined) {
      if ((size === -1) !== (file === undefined)) return path;
      continue;
    }
    if (file.size === size && file.mtimeMs === mtimeMs && file.ctimeMs === ctimeMs && file.ino === ino) continue;
    if (digest(path, file) !== digests.get(path)) return path;
  }
  return undefined;
}
