/**
 * Where one side's globs can meet the other's (a task's inputs against other
 * tasks' outputs, for `rbuild graph`'s hints), found by witnesses: sample
 * paths built from the patterns, checked against both sides' real matchers.
 * A witness is proof of a crossing; a pair without one is taken as apart.
 * That is a heuristic, right for hints and wrong for a gate: the planner's
 * overlap check (glob-overlap.ts) is exact.
 */
import { globMatcher, splitPatterns } from "./expand-globs.js";
import { staticBase as findStaticBase } from "./glob-automaton.js";
import type { OutputGlobs, Overlap } from "./glob-overlap.js";

/**
 * staticBase remembered by pattern for one search: package scripts' tasks
 * repeat each package's patterns in the inputs of all its dependents
 * (100,000 patterns, 2,000 distinct, in a 1,000-package workspace).
 */
function rememberedBases(): (pattern: string) => string {
  const bases = new Map<string, string>();
  return (pattern) => {
    let base = bases.get(pattern);
    if (base === undefined) bases.set(pattern, (base = findStaticBase(pattern)));
    return base;
  };
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

/**
 * Every path a glob matches lies under its static base, so only the excludes
 * whose base is the glob's own, below it or above it can take a path from
 * it: a matcher of the glob with just those is the same for its paths, and
 * far smaller (a package's dependents each exclude every package's outputs).
 * Returns, for a set of excludes (without `!`), a lookup of those that touch
 * a glob: a binary search for the ones below, one map lookup per ancestor.
 */
export function excludesTouching(excludes: readonly string[]): (glob: string) => string[] {
  const staticBase = rememberedBases();
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

function entriesOf(sets: readonly OutputGlobs[], staticBase: (pattern: string) => string): SideEntry[] {
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
  const staticBase = rememberedBases();
  const rights = entriesOf(right, staticBase);
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
  for (const outer of entriesOf(left, staticBase)) {
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
