/**
 * Whether a task's input files are still as they were when its key was made
 * (`rbuild watch`, where edits land while tasks run): a task's outputs are
 * stored under a key made of its inputs before it ran, so if one of them was
 * written meanwhile the outputs may be of the new content and must not be
 * stored under the old key. A stat per input (the stats the key's hashing
 * took): a change of size, mtime, ctime or inode is a change. Files a glob
 * would newly match are not seen here; the watcher's cancel covers those.
 * An input that is also one of the task's declared outputs is its own to
 * write (as the watcher, which never reports a declared output).
 */
import { globMatcher, statFollowing } from "@rbuild/hash";
import type { FileStat } from "./fresh-entry.js";

/** The first of `files` (stats as the key was made), outside `outputs` (globs), whose stats are no longer the same; undefined when none. */
export function changedInput(root: string, files: readonly FileStat[], outputs: readonly string[]): string | undefined {
  const isOutput = globMatcher(outputs);
  for (const [path, size, mtimeMs, ctimeMs, ino] of files) {
    if (isOutput(path)) continue;
    const stat = statFollowing(`${root}/${path}`);
    // A link to nothing was recorded as -1s (see TaskCache.prepare): it is the same while it still reaches no file.
    if (stat === undefined || stat === "loop" || !stat.isFile()) {
      if (size !== -1) return path;
      continue;
    }
    if (stat.size !== size || stat.mtimeMs !== mtimeMs || stat.ctimeMs !== ctimeMs || stat.ino !== ino) return path;
  }
  return undefined;
}
