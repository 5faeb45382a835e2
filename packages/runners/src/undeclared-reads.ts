/**
 * Which undeclared workspace files a failed sandboxed run read, as far as
 * its error output tells.
 *
 * No tracer: a run that fails is looked at afterwards. A line of its stderr
 * that says something was missing (`No such file or directory`, `ENOENT`,
 * `cannot open`, `not found`, ...) is split into words; a word that names a
 * path (taken relative to the task's directory, as the task would) under the
 * workspace that exists there but not in the sandbox is a file the task
 * read without declaring it; so is a program sh did not find that the task's
 * PATH would find in the workspace (`node_modules/.bin/tsc`). What this cannot see: a read the task survives
 * (`cat x 2>/dev/null || echo default`), or an error that names no path;
 * those run, or fail, as they do without the sandbox.
 *
 * Writes: a write outside the writable directories fails with EROFS, "Read-only
 * file system"; the path such a line names (quoted, or the word just before
 * `: Read-only`, as sh, coreutils, Python and Node print it) is a write the
 * task did not declare.
 */
import { existsSync, lstatSync, realpathSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { isBelow } from "./sandbox-tree.js";
import { looksLikeFileName, undeclaredByName } from "./undeclared-by-name.js";

/** How much of a run's stderr is kept to look at: its end. */
export const STDERR_KEPT = 64 * 1024;

const SAYS_MISSING = /no such file|enoent|not found|cannot (?:open|access|stat|find|read)|can't (?:open|stat|read|find)|could not (?:open|find|read)|does not exist|doesn't exist|unable to (?:open|read|find)/i;

/** Words: what lies between blanks, quotes, colons, commas, brackets. */
const WORD = /[^\s'"`:,;()[\]{}<>]+/g;

/** The words of such messages themselves: never taken for a file of the same name. */
const MESSAGE_WORDS = new Set("no such file or directory not found cannot can't could unable to open access stat find read does doesn't exist error enoent command sh bash line".split(" "));

/**
 * The workspace paths (relative to `root`, sorted) that `stderr` says were
 * missing and that exist outside the sandbox, where `inSandbox` says no.
 */
export function undeclaredReads(stderr: string, root: string, cwd: string, inSandbox: (path: string) => boolean, path = ""): string[] {
  const found = new Set<string>();
  // A program "not found" may be one the task's PATH finds in the workspace (node_modules/.bin/tsc).
  const pathDirs = path.split(":").filter((dir) => dir.startsWith("/") && isBelow(root, dir) && dir !== root);
  const consider = (absolute: string): void => {
    if (!isBelow(root, absolute) || absolute === root) return;
    const file = relative(root, absolute);
    if (file.startsWith(".rbuild/") || file === ".rbuild" || !existsSync(absolute)) return;
    if (!inSandbox(file)) {
      found.add(file);
      return;
    }
    // In the sandbox as a link whose target is not: the target is what was missing (node_modules/.bin/tsc -> ../typescript/bin/tsc).
    if (!lstatSync(absolute).isSymbolicLink()) return;
    const target = realpathSync(absolute);
    if (isBelow(root, target) && target !== root && !inSandbox(relative(root, target))) found.add(relative(root, target));
  };
  const byName = new Set<string>();
  for (const line of stderr.split("\n")) {
    if (!SAYS_MISSING.test(line)) continue;
    // A compiler names the including file first (`src/main.c:2:10: fatal error: ../include/greet.h: No such
    // file or directory`), and looked for the missing one relative to it: a name is also taken from such a file's directory.
    const beside: string[] = [];
    for (const [raw] of line.matchAll(WORD)) {
      const word = raw.replace(/[.]+$/, "");
      if (word === "" || word === "." || MESSAGE_WORDS.has(word.toLowerCase()) || !/[A-Za-z0-9_]/.test(word)) continue;
      const absolute = resolve(cwd, word);
      consider(absolute);
      for (const dir of beside) consider(resolve(dir, word));
      if (isBelow(root, absolute) && absolute !== root && inSandbox(relative(root, absolute))) beside.push(dirname(absolute));
      if (!word.includes("/")) for (const dir of pathDirs) consider(resolve(dir, word));
      if (!existsSync(resolve(cwd, word)) && looksLikeFileName(word)) byName.add(word);
    }
  }
  // None named as a path: perhaps as a tool found it (undeclared-by-name.ts).
  if (found.size === 0) for (const file of undeclaredByName(root, byName, inSandbox)) found.add(file);
  return [...found].sort();
}

const SAYS_READ_ONLY = /read-only file system|EROFS/i;

/** What a sandbox makes fresh: never a host path it lacks. */
const FRESH = ["/proc", "/dev", "/tmp", "/sys"];

/**
 * The host paths outside the workspace (absolute, sorted) that `stderr` says
 * were missing, that exist on the host, and that the sandbox does not hold
 * (`holds` says no): a tool's own files it could not reach.
 */
export function hiddenHostPaths(stderr: string, root: string, holds: (absolute: string) => boolean): string[] {
  const found = new Set<string>();
  for (const line of stderr.split("\n")) {
    if (!SAYS_MISSING.test(line)) continue;
    for (const [raw] of line.matchAll(WORD)) {
      const word = raw.replace(/[.]+$/, "");
      if (!word.startsWith("/") || word === "/" || isBelow(root, word) || FRESH.some((dir) => isBelow(dir, word))) continue;
      if (!holds(word) && existsSync(word)) found.add(word);
    }
  }
  return [...found].sort();
}

/** The workspace paths (relative to `root`, sorted) that `stderr` says could not be written: the sandbox holds them read-only. */
export function readOnlyWrites(stderr: string, root: string, cwd: string): string[] {
  const found = new Set<string>();
  for (const line of stderr.split("\n")) {
    if (!SAYS_READ_ONLY.test(line)) continue;
    const named = [...line.matchAll(/'([^']+)'|"([^"]+)"|`([^`]+)'|(\S+): Read-only/gi)].map((m) => m[1] ?? m[2] ?? m[3] ?? m[4] ?? "");
    for (const word of named) {
      if (word === "") continue;
      const absolute = resolve(cwd, word);
      if (!isBelow(root, absolute) || absolute === root) continue;
      found.add(relative(root, absolute));
    }
  }
  return [...found].sort();
}
