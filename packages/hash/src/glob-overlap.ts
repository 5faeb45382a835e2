/**
 * Whether two tasks' output globs can match the same path. Before a task runs
 * rbuild removes whatever its outputs match, and after it stores what they
 * match: two tasks whose outputs overlap delete and store each other's files.
 *
 * Deciding that two globs intersect is hard in general, so this works by
 * witnesses: for each pair of patterns that could overlap at all (one's static
 * base is the other's, or above it: a cheap sort, no glob compiled), it builds
 * sample paths from each pattern (wildcards filled in) and asks both tasks'
 * full matchers, excludes included, whether they match the sample. A witness
 * is proof; a pair without one is taken as disjoint. That catches what users
 * write (`dist/**` against `dist/b.txt`, `out` against `out/*.js`) and never
 * rejects globs that cannot overlap.
 */
import { globMatcher, splitPatterns } from "./expand-globs.js";

export interface OutputGlobs {
  readonly task: string;
  readonly patterns: readonly string[];
}

export interface Overlap {
  /** The two tasks, in the order given, and the pattern of each that matches `path`. */
  readonly first: { readonly task: string; readonly glob: string };
  readonly second: { readonly task: string; readonly glob: string };
  /** A path both tasks' outputs match. */
  readonly path: string;
}

/** Characters that make a path segment a glob rather than a name. */
const GLOB_CHAR = /[*?[\]{}()!+@\\]/;

/**
 * Static bases already found, by pattern: a pure function's cache, like the
 * compiled matchers of expand-globs.ts. Package scripts' tasks repeat each
 * package's patterns in the inputs of all its dependents (100,000 patterns,
 * 2,000 distinct, in a 1,000-package workspace).
 */
const bases = new Map<string, string>();

/** The leading segments of a pattern that have no glob syntax: no path it matches lies outside them. */
export function staticBase(pattern: string): string {
  let base = bases.get(pattern);
  if (base === undefined) bases.set(pattern, (base = findStaticBase(pattern)));
  return base;
}

function findStaticBase(pattern: string): string {
  const segments = pattern.replace(/^\.\/+/, "").replace(/\/+$/, "").split("/");
  const plain: string[] = [];
  for (const segment of segments) {
    if (GLOB_CHAR.test(segment)) break;
    if (segment !== "" && segment !== ".") plain.push(segment);
  }
  return plain.join("/");
}

/**
 * Paths the pattern could match, its wildcards filled in (with no segment, and with one, for `**`;
 * also with `deeper`, the segments by which another pattern's base lies below this one's).
 */
function samples(pattern: string, deeper = ""): string[] {
  const filled = (globstar: string): string =>
    pattern
      .replace(/^\.\/+/, "")
      .replace(/\/+$/, "")
      .replace(/[@!+*?]\(([^|)]*)[^)]*\)/g, "$1") // extglobs: their first alternative
      .replace(/\{([^{},]*)[^{}]*\}/g, "$1") // braces: the first alternative
      .replace(/\[[!^][^\]]*\]/g, "~") // a negated class: something unlikely to be in it
      .replace(/\[([^\]])[^\]]*\]/g, "$1") // a class: its first character
      .replace(/(^|\/)\*\*(\/|$)/g, (_, before: string, after: string) => (globstar !== "" ? `${before}${globstar}${after}` : before !== "" && after !== "" ? "/" : ""))
      .replace(/\*\*|\*|\?/g, "x");
  const paths = new Set([filled(""), filled("x"), filled("x/x"), ...(deeper === "" ? [] : [filled(deeper), filled(`${deeper}/x`)])]);
  // A pattern that names a directory covers everything below it.
  for (const path of [...paths]) paths.add(path === "" ? "x" : `${path}/x`);
  paths.delete("");
  return [...paths];
}

interface Entry {
  readonly set: number;
  readonly glob: string;
  /** The static base with a trailing slash ("" for the root): a prefix of every path the glob matches. */
  readonly prefix: string;
}

/** Every pair of sets (by task) whose outputs can match a common path, with one such path. */
export function overlappingOutputs(sets: readonly OutputGlobs[]): Overlap[] {
  const entries: Entry[] = [];
  sets.forEach((set, index) => {
    for (const glob of splitPatterns(set.patterns).include) {
      const base = staticBase(glob);
      entries.push({ set: index, glob, prefix: base === "" ? "" : `${base}/` });
    }
  });
  // Sorted by prefix, the entries whose prefix starts with entry i's follow it without a gap.
  entries.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
  const matchers = new Map<number, (path: string) => boolean>();
  const matches = (set: number, path: string): boolean => {
    let match = matchers.get(set);
    if (match === undefined) matchers.set(set, (match = globMatcher(sets[set]!.patterns)));
    return match(path);
  };
  const found = new Map<string, Overlap>();
  for (let i = 0; i < entries.length; i++) {
    const outer = entries[i]!;
    for (let j = i + 1; j < entries.length && entries[j]!.prefix.startsWith(outer.prefix); j++) {
      const inner = entries[j]!;
      if (inner.set === outer.set) continue;
      const [a, b] = outer.set < inner.set ? [outer, inner] : [inner, outer];
      const pair = `${a.set} ${b.set}`;
      if (found.has(pair)) continue;
      const witness = [...samples(inner.glob), ...samples(outer.glob)].find((path) => matches(a.set, path) && matches(b.set, path));
      if (witness !== undefined) {
        found.set(pair, { first: { task: sets[a.set]!.task, glob: a.glob }, second: { task: sets[b.set]!.task, glob: b.glob }, path: witness });
      }
    }
  }
  return [...found.values()];
}

/**
 * Every path a glob matches lies under its static base, so only the excludes
 * whose base is the glob's own, below it or above it can take a path from
 * it: a matcher of the glob with just those is the same for its paths, and
 * far smaller (a package's dependents each exclude every package's outputs).
 * Returns, for a set of excludes (without `!`), a lookup of those that touch
 * a glob: a binary search for the ones below, one map lookup per ancestor.
 */
export function excludesTouching(excludes: readonly string[]): (glob: string) => string[] {
  const entries = excludes.map((glob) => {
    const base = staticBase(glob);
    return { glob, prefix: base === "" ? "" : `${base}/` };
  });
  entries.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
  const byPrefix = new Map<string, string[]>();
  for (const entry of entries) byPrefix.set(entry.prefix, [...(byPrefix.get(entry.prefix) ?? []), entry.glob]);
  return (glob) => {
    const base = staticBase(glob);
    const prefix = base === "" ? "" : `${base}/`;
    const found: string[] = [];
    let low = 0;
    for (let high = entries.length; low < high; ) {
      const mid = (low + high) >>> 1;
      if (entries[mid]!.prefix < prefix) low = mid + 1;
      else high = mid;
    }
    for (let j = low; j < entries.length && entries[j]!.prefix.startsWith(prefix); j++) found.push(entries[j]!.glob);
    for (let cut = prefix.lastIndexOf("/", prefix.length - 2); ; cut = prefix.lastIndexOf("/", cut - 1)) {
      const above = cut < 0 ? "" : prefix.slice(0, cut + 1);
      if (above !== prefix) found.push(...(byPrefix.get(above) ?? []));
      if (cut < 0) break;
    }
    return found;
  };
}

/** A pattern of one side of `crossingGlobs`, with its static base as a prefix (see Entry). */
interface SideEntry {
  readonly set: number;
  readonly glob: string;
  readonly prefix: string;
}

function entriesOf(sets: readonly OutputGlobs[]): SideEntry[] {
  const entries: SideEntry[] = [];
  sets.forEach((set, index) => {
    for (const glob of splitPatterns(set.patterns).include) {
      const base = staticBase(glob);
      entries.push({ set: index, glob, prefix: base === "" ? "" : `${base}/` });
    }
  });
  return entries.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
}

/**
 * Every pair of one set of `left` and one of `right` whose globs can match a
 * common path, with one such path, found by witnesses as overlappingOutputs
 * does. Pairs within one side are never compared, so a thousand tasks that
 * all read `tsconfig.json` cost nothing: for each left pattern only the right
 * patterns whose static base is its own, below it or above it are tried
 * (a binary search and one lookup per ancestor). `first` is the left set's.
 * Two sets with the same task name are compared too (a task's inputs against
 * its own outputs).
 *
 * With `covering`, only witnesses made from a right glob alone count (its
 * wildcards filled with plain names, no extension): the left set then reads
 * whatever the right one writes there, whatever it names its files. Without,
 * `**\/*.ts` against `dist/**` overlaps at `dist/x.ts`, which a build that
 * writes only `.js` there never makes.
 */
export function crossingGlobs(left: readonly OutputGlobs[], right: readonly OutputGlobs[], options: { readonly covering?: boolean } = {}): Overlap[] {
  const rights = entriesOf(right);
  const byPrefix = new Map<string, SideEntry[]>();
  for (const entry of rights) byPrefix.set(entry.prefix, [...(byPrefix.get(entry.prefix) ?? []), entry]);
  // Each pattern with only the excludes of its set that can touch it: a set may hold a hundred globs.
  const matchers = new Map<string, (path: string) => boolean>();
  const excludes = new Map<string, (glob: string) => string[]>();
  const matches = (side: "l" | "r", entry: SideEntry, path: string): boolean => {
    const id = `${side}${entry.set}\0${entry.glob}`;
    let match = matchers.get(id);
    if (match === undefined) {
      let touching = excludes.get(`${side}${entry.set}`);
      if (touching === undefined) {
        touching = excludesTouching(splitPatterns((side === "l" ? left : right)[entry.set]!.patterns).exclude);
        excludes.set(`${side}${entry.set}`, touching);
      }
      // Compiled once per distinct pattern and excludes: a package's glob stands in every dependent's inputs.
      const patterns = [entry.glob, ...touching(entry.glob).map((glob) => `!${glob}`)];
      const key = patterns.join("\0");
      match = matchers.get(key) ?? globMatcher(patterns);
      matchers.set(key, match);
      matchers.set(id, match);
    }
    return match(path);
  };
  // A package's globs stand in the inputs of each of its dependents: each glob's samples are made once.
  const made = new Map<string, string[]>();
  const sampled = (glob: string, deeper: string): string[] => {
    const id = `${glob}\0${deeper}`;
    let paths = made.get(id);
    if (paths === undefined) made.set(id, (paths = samples(glob, deeper)));
    return paths;
  };
  const found = new Map<string, Overlap>();
  for (const outer of entriesOf(left)) {
    const candidates: SideEntry[] = [];
    // Right patterns whose base is this one's or below it: a run of the sorted list.
    let low = 0;
    for (let high = rights.length; low < high; ) {
      const mid = (low + high) >>> 1;
      if (rights[mid]!.prefix < outer.prefix) low = mid + 1;
      else high = mid;
    }
    for (let j = low; j < rights.length && rights[j]!.prefix.startsWith(outer.prefix); j++) candidates.push(rights[j]!);
    // Right patterns whose base lies strictly above this one's.
    for (let cut = outer.prefix.lastIndexOf("/", outer.prefix.length - 2); ; cut = outer.prefix.lastIndexOf("/", cut - 1)) {
      const above = cut < 0 ? "" : outer.prefix.slice(0, cut + 1);
      if (above !== outer.prefix) candidates.push(...(byPrefix.get(above) ?? []));
      if (cut < 0) break;
    }
    for (const inner of candidates) {
      const pair = `${outer.set} ${inner.set}`;
      if (found.has(pair)) continue;
      // The shallower pattern is also filled in with the deeper one's base (`src/**/*.ts` against `src/gen/**`: src/gen/x.ts).
      const [deep, shallow] = inner.prefix.length >= outer.prefix.length ? [inner, outer] : [outer, inner];
      const deeper = deep.prefix.slice(shallow.prefix.length, -1);
      // The right side (outputs) is tried first: its sets are small, a left set may hold a hundred globs.
      const tried = options.covering === true ? sampled(inner.glob, "") : [...sampled(inner.glob, inner === shallow ? deeper : ""), ...sampled(outer.glob, outer === shallow ? deeper : "")];
      const both = tried.filter(
        (path) => matches("r", inner, path) && matches("l", outer, path),
      );
      // A file named outright is the best witness; else a path below the deeper base says more than that directory.
      const witness = both.find((path) => path === inner.glob || path === outer.glob) ?? both.find((path) => `${path}/` !== deep.prefix) ?? both[0];
      if (witness !== undefined) {
        found.set(pair, { first: { task: left[outer.set]!.task, glob: outer.glob }, second: { task: right[inner.set]!.task, glob: inner.glob }, path: witness });
      }
    }
  }
  return [...found.values()];
}
