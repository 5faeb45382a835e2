/**
 * What a task wrote, found from modification times: used only to tell a user
 * whose declared outputs matched nothing where the task's files went instead
 * ("it wrote build/, not out/"). A bounded walk of the task's directory, never
 * on the path of a build whose outputs are where they were declared.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** Directories that are never where a task's outputs are meant to go. */
const SKIPPED = new Set([".git", ".rbuild", "node_modules"]);
const MAX_DEPTH = 4;
const MAX_ENTRIES = 10_000;
/** Timestamps of a file system may lag the clock by a tick. */
const SLACK_MS = 20;

/**
 * Up to `limit` paths below `dir` (shown relative to `root`, a directory with a
 * trailing `/`) changed since `since`: the topmost ones, so a new directory of
 * a thousand files is one entry.
 */
export function writtenSince(root: string, dir: string, since: number, limit = 3): string[] {
  const found: string[] = [];
  let seen = 0;
  const relativeTo = (path: string): string => (path === root ? "" : path.slice(root.length + 1));
  const walk = (path: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(path).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (found.length >= limit || ++seen > MAX_ENTRIES) return;
      if (SKIPPED.has(name)) continue;
      const full = join(path, name);
      const stat = statSync(full, { throwIfNoEntry: false });
      if (stat === undefined) continue;
      const changed = stat.mtimeMs >= since - SLACK_MS;
      // A directory's time changes when an entry is added directly in it: one made now is reported whole.
      if (stat.isDirectory()) {
        if (changed && stat.birthtimeMs >= since - SLACK_MS) found.push(`${relativeTo(full)}/`);
        else if (depth < MAX_DEPTH) walk(full, depth + 1);
      } else if (changed) found.push(relativeTo(full));
    }
  };
  walk(dir, 0);
  return found;
}
