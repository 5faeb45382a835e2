/**
 * A `.gitignore` as rbuild exclude globs, for a package's default inputs: what
 * git ignores is build output or local state, not source (turbo hashes only
 * what git tracks, to the same end).
 *
 * Only what cannot make an input disappear wrongly is translated: a file with
 * a negation (`!keep.me`, which re-includes what an earlier line ignored) is
 * not used at all, since rbuild's excludes cannot be undone by a later
 * pattern; leaving it out only means more files in the key, never fewer.
 * Every glob is confined to `within` (the package's directory), so that a root
 * `.gitignore` never excludes a root file that a task names as an input.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * The pattern lines of `<dir>/.gitignore` (none when there is no such file, or
 * when it has a negation: see above).
 */
export function gitignoreLines(root: string, dir: string): string[] {
  const path = join(root, dir, ".gitignore");
  // Most directories have none: a stat is far cheaper than a read that throws.
  if (statSync(path, { throwIfNoEntry: false })?.isFile() !== true) return [];
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.replace(/(?<!\\)\s+$/, ""))
    .filter((line) => line !== "" && !line.startsWith("#"));
  return lines.some((line) => line.startsWith("!")) ? [] : lines;
}

const DOT_SEGMENT = /(?:^|\/)\.{1,2}(?:\/|$)/;

/** The exclude globs (without `!`, relative to the workspace root) of the `lines` of `<dir>/.gitignore`, confined to `within`. */
export function gitignoreGlobs(lines: readonly string[], dir: string, within: string): string[] {
  const base = dir === "" ? "" : `${dir}/`;
  const globs: string[] = [];
  for (const raw of lines) {
    const line = raw.replace(/^\\([#!])/, "$1");
    const directoryOnly = line.endsWith("/");
    const body = line.replace(/\/+$/, "");
    if (body === "" || body === "**") continue;
    // git matches paths relative to the .gitignore's directory, which never hold a `.` or `..`
    // segment: such a line ignores nothing. As a glob, rbuild would fold it into another path.
    if (DOT_SEGMENT.test(body)) continue;
    // A slash at the start or in the middle anchors the pattern to the .gitignore's directory.
    const anchored = body.includes("/");
    const path = anchored ? `${base}${body.replace(/^\/+/, "")}` : `${base}**/${body}`;
    const confined = confine(path, within);
    if (confined === undefined) continue;
    if (!directoryOnly) globs.push(confined);
    globs.push(`${confined}/**`);
  }
  return globs;
}

/** `path` when it can only match below `within`, a version that does, or undefined when it matches nothing there. */
function confine(path: string, within: string): string | undefined {
  const prefix = `${within}/`;
  if (path.startsWith(prefix)) return path;
  // An unanchored pattern of a .gitignore above the package applies inside it too.
  const globstar = path.indexOf("**/");
  if (globstar !== -1 && prefix.startsWith(path.slice(0, globstar))) return `${prefix}${path.slice(globstar)}`;
  return undefined;
}
