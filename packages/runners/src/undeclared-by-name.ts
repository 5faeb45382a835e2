/**
 * Undeclared reads named the way the task's tools name them, not as paths
 * from its directory: a compiler says `greet.h: No such file or directory`
 * for `#include "greet.h"` found through `-Iinclude`. A name that is not a
 * workspace path from the task's directory is looked for in the workspace:
 * the one file (not in the sandbox) whose path ends with it is the read;
 * two or more, and none is named (a guess between them could be wrong).
 * Only after a failed run that said something was missing, and only for
 * words that look like file names (a dot or a slash in them); the walk skips
 * `.rbuild`, `.git` and `node_modules` and stops after WALK_LIMIT entries.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";

/** How many workspace entries the search looks at, at most. */
export const WALK_LIMIT = 20_000;

const SKIPPED = new Set([".rbuild", ".git", "node_modules"]);

/** Whether a word of an error message may be a file's name or relative path. */
export function looksLikeFileName(word: string): boolean {
  return !word.startsWith("/") && !word.startsWith("-") && /[./]/.test(word) && /[A-Za-z0-9_]/.test(word) && !word.split("/").includes("..");
}

/** For each of `names`, the one workspace file (relative to `root`) whose path ends with `/name` and that `inSandbox` says is missing there. */
export function undeclaredByName(root: string, names: ReadonlySet<string>, inSandbox: (path: string) => boolean): string[] {
  if (names.size === 0) return [];
  const matches = new Map<string, string[]>();
  let seen = 0;
  const walk = (dir: string, prefix: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // Unreadable: nothing the task could have read either.
    }
    for (const entry of entries) {
      if (++seen > WALK_LIMIT) return;
      const path = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!SKIPPED.has(entry.name)) walk(join(dir, entry.name), path);
        continue;
      }
      for (const name of names) if (path === name || path.endsWith(`/${name}`)) matches.set(name, [...(matches.get(name) ?? []), path]);
    }
  };
  walk(root, "");
  const found: string[] = [];
  for (const paths of matches.values()) if (paths.length === 1 && !inSandbox(paths[0]!)) found.push(paths[0]!);
  return found;
}
