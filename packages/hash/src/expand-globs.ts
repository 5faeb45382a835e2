/**
 * Glob expansion for task inputs and outputs. Patterns are relative to the
 * workspace root; a leading `!` excludes; a pattern naming a directory means
 * everything below it. Symbolic links are listed as entries, never followed.
 * The cache directory and `.git` are never matched. Results are relative
 * POSIX paths in code-unit order, the same on every machine.
 *
 * Each pattern is split into its static base and its glob part: only the
 * base is crawled, and the glob part is matched relative to it (picomatch).
 * Globs are compiled once per distinct glob part, so a thousand tasks with
 * `pkg-N/src/**\/*.ts` compile one matcher, and `base/**` needs none.
 */
import { readdirSync, statSync, type Stats } from "node:fs";
import { join, posix } from "node:path";
import { createRequire } from "node:module";
import type Picomatch from "picomatch";
import { linkTarget, lstatIfThere, walkBelowRoot, type LinkCrossing } from "./symlink-rule.js";

/** The matcher, loaded on first use: a no-op build expands no glob. */
const load = createRequire(import.meta.url);
function picomatch(): typeof Picomatch {
  // require's own cache makes every call after the first a lookup.
  return load("picomatch") as typeof Picomatch;
}

const ALWAYS_IGNORED = [".rbuild/**", ".git/**"];

export interface ExpandOptions {
  /** Also return directories that match (outputs may be empty directories). Default: files only. */
  readonly directories?: boolean;
  /** More patterns to leave out, e.g. a custom cache directory inside the workspace. */
  readonly ignore?: readonly string[];
  /**
   * Collects every directory whose listing decided the result (relative, `""`
   * for the root): the directories crawled, and for a pattern whose base does
   * not exist (or is a file where the pattern needs a directory), the nearest
   * existing directory above it. A file named outright adds nothing: it is in
   * the result, and its own stat shows any change.
   * While none of them changes, the expansion cannot change either.
   */
  readonly visited?: Set<string>;
  /**
   * Collects the entries the patterns match whose names are not valid UTF-8
   * (shown with `\xNN` for the bytes that are not), which are not in the
   * result: rbuild keys, stores and restores paths as UTF-8 strings, so such a
   * file can be neither hashed nor stored exactly. The caller refuses the task
   * rather than leave them out silently. Each is listed once, and counts as a
   * match: a pattern that matches only such names is not in `unmatched`.
   */
  readonly undecodable?: string[];
  /** Collects the patterns (without `!`) that matched nothing: a typo, or outputs the task did not write. */
  readonly unmatched?: string[];
  /**
   * Collects the patterns whose directory part passes through a symbolic link
   * below the root (see symlink-rule.ts). Such a pattern is never crawled, so it
   * matches nothing whether or not this is given; the caller refuses the task.
   */
  readonly crossings?: LinkCrossing[];
  /**
   * Collects the links to directories a crawl passes over where its pattern
   * could match below them (`src/lnk` for a `src/**` glob of `.ts` files): a crawl never
   * follows a link, so nothing below one is listed, and for inputs an edit
   * there would go unseen. The caller refuses the task (the symlink rule).
   */
  readonly passedLinks?: LinkCrossing[];
}

type Matcher = (path: string) => boolean;
/**
 * Compiled globs, by glob: a memo, so its contents never change a result. A
 * daemon sees the globs of every Buildfile version it loads, so the memo is
 * emptied when it reaches MATCHERS_KEPT (a big workspace has about 25,000).
 */
const matchers = new Map<string, Matcher>();
const MATCHERS_KEPT = 100_000;

/** A `.` or `..` segment anywhere in a path. */
const DOT_SEGMENT = /(?:^|\/)\.{1,2}(?:\/|$)/;

function hasDotSegment(path: string): boolean {
  return DOT_SEGMENT.test(path);
}

/** A plain path: no glob syntax, nothing picomatch would normalise. */
function isPlainPath(text: string): boolean {
  return /^[A-Za-z0-9_.\-]+(?:\/[A-Za-z0-9_.\-]+)*$/.test(text) && !hasDotSegment(text);
}

/**
 * How `matcher` matches a glob: `**`, a plain path and `<plain path>/**` directly,
 * anything else with picomatch. glob-automaton models each shape exactly, so
 * both read this one decision.
 */
export type GlobShape = { readonly kind: "everything" } | { readonly kind: "plain" } | { readonly kind: "under"; readonly base: string } | { readonly kind: "picomatch" };

export function globShape(glob: string): GlobShape {
  const base = glob.endsWith("/**") ? glob.slice(0, -3) : undefined;
  if (glob === "**") return { kind: "everything" };
  if (isPlainPath(glob)) return { kind: "plain" };
  if (base !== undefined && isPlainPath(base)) return { kind: "under", base };
  return { kind: "picomatch" };
}

const PICOMATCH_OPTIONS = { dot: true } as const;

/**
 * The regular expression picomatch tests a path with for `glob` (after
 * comparing the path with the glob itself: a path equal to it matches too).
 */
export function picomatchRegex(glob: string): RegExp {
  return picomatch().makeRe(glob, PICOMATCH_OPTIONS);
}

/**
 * A compiled glob, matching exactly as picomatch does with `dot: true`. The
 * commonest shapes, a plain path and `<plain path>/**`, are matched directly:
 * compiling thousands of per-package globs with picomatch is a visible share
 * of a restore or cold build.
 */
function matcher(glob: string): Matcher {
  let match = matchers.get(glob);
  if (match === undefined) {
    const shape = globShape(glob);
    if (shape.kind === "everything") match = (path) => path !== "" && !hasDotSegment(path);
    else if (shape.kind === "plain") match = (path) => path === glob;
    else if (shape.kind === "under") {
      const { base } = shape;
      const prefix = `${base}/`;
      // `**` matches any depth, zero included, but never across a `.` or `..` segment.
      match = (path) => path === base || (path.startsWith(prefix) && !hasDotSegment(path.slice(prefix.length)));
    } else match = picomatch()(glob, PICOMATCH_OPTIONS);
    if (matchers.size >= MATCHERS_KEPT) matchers.clear();
    matchers.set(glob, match);
  }
  return match;
}

function anyOf(patterns: readonly string[]): Matcher {
  const compiled = patterns.map(matcher);
  if (compiled.length === 0) return () => false;
  return (path) => compiled.some((match) => match(path));
}

export function splitPatterns(patterns: readonly string[]): { include: string[]; exclude: string[] } {
  const include: string[] = [];
  const exclude: string[] = [];
  for (const pattern of patterns) {
    if (pattern.startsWith("!")) exclude.push(pattern.slice(1));
    else include.push(pattern);
  }
  return { include, exclude };
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `./a/b/` → `a/b`; `.` and `./` → `` (the crawl root itself). */
function trimSlashes(path: string): string {
  const trimmed = path.replace(/^\.\/+/, "").replace(/\/+$/, "");
  return trimmed === "." ? "" : trimmed;
}

/**
 * Adds the entries below `base` (relative) that `glob` matches (relative to base).
 * A plain recursive readdir: a cold build crawls one small tree per task, and
 * fdir's per-crawl set-up made that three times slower. Links are entries, never
 * followed; an excluded directory is neither listed nor entered.
 */
/** Returns how many entries matched (some may have been in `found` already). */
function crawl(root: string, base: string, glob: Matcher, excluded: Matcher, options: ExpandOptions, found: Set<string>, pattern: string, globText: string): number {
  // Whether the glob could match a path below `relative` (of that many segments): `**` anywhere, or more segments.
  const segments = globText.split("/").length;
  const reachesBelow = (relative: string): boolean => globText.includes("**") || segments > relative.split("/").length;
  const { directories = false, visited, undecodable } = options;
  const prefix = base === "" ? "" : `${base}/`;
  let matched = 0;
  visited?.add(base);
  const walk = (below: string): void => {
    const dir = below === "" ? join(root, base) : join(root, prefix + below);
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      // Removed (or replaced by a file) while crawling: as if it had not been there.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return;
      throw error;
    }
    let badNames: Map<string, string[]> | undefined;
    for (const entry of entries) {
      const relative = below === "" ? entry.name : `${below}/${entry.name}`;
      const path = prefix + relative;
      // Node decodes names as UTF-8 and puts U+FFFD for bytes that are not: such a name names no file.
      if (entry.name.includes("\uFFFD")) {
        badNames ??= undecodableNames(dir);
        const shown = badNames.get(entry.name)?.shift();
        if (shown !== undefined) {
          const matches = entry.isDirectory() ? !excluded(path) : glob(relative) && !excluded(path);
          if (matches) {
            // A match all the same: the pattern is not "unmatched", the task is refused for it instead.
            matched++;
            const named = `${below === "" ? prefix : `${prefix}${below}/`}${shown}`;
            // Two patterns that reach one file name it once.
            if (undecodable !== undefined && !undecodable.includes(named)) undecodable.push(named);
          }
          continue;
        }
      }
      if (entry.isDirectory()) {
        if (excluded(path)) continue;
        visited?.add(path);
        if (directories && glob(relative)) {
          found.add(path);
          matched++;
        }
        walk(relative);
      } else {
        if (glob(relative) && !excluded(path)) {
          found.add(path);
          matched++;
        } else if (options.passedLinks !== undefined && entry.isSymbolicLink() && !excluded(path) && reachesBelow(relative)) {
          // (A link the glob matches is the caller's to judge, as a match.)
          if (isDirectoryBehind(join(dir, entry.name))) options.passedLinks.push({ glob: pattern, link: path, target: linkTarget(root, path), kind: "through" });
        }
      }
    }
  };
  walk("");
  return matched;
}

/** Whether a link leads to a directory (a dangling link or a loop leads nowhere). */
function isDirectoryBehind(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The names in `dir` that are not valid UTF-8, by the name Node gives them, each shown with `\xNN` escapes. */
function undecodableNames(dir: string): Map<string, string[]> {
  const names = new Map<string, string[]>();
  for (const raw of readdirSync(dir, { encoding: "buffer" })) {
    const name = raw.toString();
    if (Buffer.from(name).equals(raw)) continue;
    names.set(name, [...(names.get(name) ?? []), showBytes(raw)]);
  }
  return names;
}

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });

/** A file name's bytes as text: valid UTF-8 as it is, every other byte as `\xNN`. */
export function showBytes(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; ) {
    let char: string | undefined;
    let length = 1;
    for (; length <= 4 && i + length <= bytes.length && char === undefined; length++) {
      try {
        char = STRICT_UTF8.decode(bytes.subarray(i, i + length));
      } catch {
        // Not a whole character yet (or never one).
      }
    }
    if (char === undefined) {
      text += `\\x${bytes[i]!.toString(16).padStart(2, "0")}`;
      i += 1;
    } else {
      text += char;
      i += length - 1;
    }
  }
  return text;
}

function nearestDirectory(root: string, path: string): string {
  for (let dir = posix.dirname(path); ; dir = posix.dirname(dir)) {
    const relative = dir === "." ? "" : dir;
    if (relative === "" || lstatIfThere(join(root, relative))?.isDirectory() === true) return relative;
  }
}

export function expandGlobs(root: string, patterns: readonly string[], options: ExpandOptions = {}): string[] {
  const { include, exclude } = splitPatterns(patterns);
  if (include.length === 0) return [];
  const excluded = anyOf([...exclude, ...ALWAYS_IGNORED, ...(options.ignore ?? [])]);
  const found = new Set<string>();
  const visited = options.visited;
  const seen = new Map<string, Stats | undefined>();
  for (const pattern of include) {
    const scan = picomatch().scan(trimSlashes(pattern));
    const base = trimSlashes(scan.base);
    if (excluded(base)) {
      options.unmatched?.push(pattern);
      continue;
    }
    // A glob's base is crawled: it and every directory above it must be a real directory (the symlink rule).
    const walk = walkBelowRoot(root, base, scan.isGlob, seen);
    if (walk.link !== undefined) {
      options.crossings?.push({ glob: pattern, link: walk.link, target: linkTarget(root, walk.link), kind: "through" });
      // Replacing the link by a directory changes the listing it is in.
      visited?.add(posix.dirname(walk.link) === "." ? "" : posix.dirname(walk.link));
      continue;
    }
    const stat = walk.stat;
    if (stat === undefined || !stat.isDirectory()) {
      if (stat !== undefined && !scan.isGlob) found.add(base);
      else options.unmatched?.push(pattern);
      // A regular file named outright: its own stat shows every change (edited, removed, replaced).
      // Otherwise (nothing yet, a link, a file where a glob needs a directory) its directory's listing can.
      if (visited !== undefined && (stat === undefined || scan.isGlob || !stat.isFile())) visited.add(nearestDirectory(root, base));
      continue;
    }
    let matched: number;
    if (scan.isGlob) {
      matched = crawl(root, base, matcher(scan.glob), excluded, options, found, pattern, scan.glob);
    } else {
      // A directory named without a glob: everything below it (and itself, when directories are wanted).
      const itself = options.directories === true && base !== "";
      if (itself) found.add(base);
      matched = crawl(root, base, matcher("**"), excluded, options, found, pattern, "**") + (itself ? 1 : 0);
    }
    if (matched === 0) options.unmatched?.push(pattern);
  }
  return [...found].sort(byCodeUnit);
}

/**
 * The include patterns whose directory part passes through a symbolic link
 * below `root` (see symlink-rule.ts), found without crawling anything: what a
 * task's outputs are checked with before anything of them is cleared or restored.
 */
export function globCrossings(root: string, patterns: readonly string[]): LinkCrossing[] {
  const crossings: LinkCrossing[] = [];
  const seen = new Map<string, Stats | undefined>();
  for (const pattern of splitPatterns(patterns).include) {
    const scan = picomatch().scan(trimSlashes(pattern));
    const walk = walkBelowRoot(root, trimSlashes(scan.base), scan.isGlob, seen);
    if (walk.link !== undefined) crossings.push({ glob: pattern, link: walk.link, target: linkTarget(root, walk.link), kind: "through" });
  }
  return crossings;
}

/**
 * The globs globMatcher compiles for these patterns: each trimmed of `./` and
 * trailing slashes, a pattern that is not a glob widened with `<it>/**`, and
 * the excludes with `.rbuild/**` and `.git/**`. A path matches when some
 * include glob matches it and no exclude glob does.
 */
export function matcherGlobs(patterns: readonly string[]): { include: string[]; exclude: string[] } {
  const { include, exclude } = splitPatterns(patterns);
  return { include: include.flatMap(widenedGlobs), exclude: [...exclude.flatMap(widenedGlobs), ...ALWAYS_IGNORED] };
}

/** The globs globMatcher compiles for one pattern (without its `!`): trimmed, and widened with `<it>/**` when it is not a glob. */
export function widenedGlobs(pattern: string): string[] {
  const trimmed = trimSlashes(pattern);
  return isGlob(trimmed) ? [trimmed] : [trimmed, `${trimmed}/**`];
}

/** Names, `/`, and the wildcards `*` and `?`: no escapes, classes or braces, nothing else picomatch's scan looks at. */
const WILDCARDS_ONLY = /^[A-Za-z0-9_.~/*?-]*[*?][A-Za-z0-9_.~/*?-]*$/;

/** Whether picomatch's scan calls the pattern a glob; the commonest answers without loading picomatch. */
function isGlob(pattern: string): boolean {
  if (isPlainPath(pattern)) return false;
  if (WILDCARDS_ONLY.test(pattern)) return true;
  return picomatch().scan(pattern).isGlob;
}

/** Whether `path` matches any of these globs, each as globMatcher matches it (as matcherGlobs gives them: no widening, no `!`). */
export function anyGlobMatcher(globs: readonly string[]): (path: string) => boolean {
  return anyOf(globs);
}

/**
 * A predicate for "does `path` fall under these globs" with the same rules as
 * expandGlobs: `!` excludes, a pattern naming a directory covers what is below it.
 */
export function globMatcher(patterns: readonly string[]): (path: string) => boolean {
  const globs = matcherGlobs(patterns);
  const included = anyOf(globs.include);
  const excluded = anyOf(globs.exclude);
  return (path) => included(path) && !excluded(path);
}

/**
 * Whether `expandGlobs(root, patterns, { ignore })` would list the file
 * `path` (relative, POSIX) were it there, decided from the path alone: some
 * include's static base holds it (or is it) and the include's glob part
 * matches the rest, it is not excluded, and no directory between that base
 * and it is excluded either (expandGlobs never enters an excluded directory,
 * so `!**\/dist` leaves out `a/dist/x.js`). What `--since` asks of a path git
 * says changed, deleted ones included. Symbolic links on the way are not
 * looked at: a glob through one is refused when its task is hashed.
 */
export function expansionMatcher(patterns: readonly string[], ignore: readonly string[] = []): (path: string) => boolean {
  const { include, exclude } = splitPatterns(patterns);
  const excluded = anyOf([...exclude, ...ALWAYS_IGNORED, ...ignore]);
  const bases = include.map((pattern) => {
    const scan = picomatch().scan(trimSlashes(pattern));
    const base = trimSlashes(scan.base);
    // A pattern that is no glob names a file, or a directory and everything below it.
    return { base, prefix: base === "" ? "" : `${base}/`, isGlob: scan.isGlob, glob: matcher(scan.isGlob ? scan.glob : "**") };
  });
  const enters = (path: string, from: number): boolean => {
    for (let cut = path.indexOf("/", from); cut !== -1; cut = path.indexOf("/", cut + 1)) if (excluded(path.slice(0, cut))) return false;
    return true;
  };
  return (path) => {
    if (excluded(path)) return false;
    return bases.some(({ base, prefix, isGlob, glob }) => {
      if (!isGlob && path === base) return true;
      if (!path.startsWith(prefix) || excluded(base)) return false;
      return glob(path.slice(prefix.length)) && enters(path, prefix.length);
    });
  };
}
