/**
 * Whether two tasks' output globs can match the same path. Before a task runs
 * rbuild removes whatever its outputs match, and after it stores what they
 * match: two tasks whose outputs overlap delete and store each other's files.
 *
 * Decided exactly, and cheaply where it can be: the check runs at every
 * Buildfile load, no-op builds included. Three steps, each sound:
 *
 * 1. Only pairs that could overlap at all are looked at: one task's include
 *    glob has a static base that is the other's, or above it. That is a sort
 *    of the bases, no glob compiled, so a thousand tasks with `pkg-N/dist/**`
 *    compare nothing; every path a glob matches lies at or below its base.
 *    So only those pairs of include patterns need deciding: any other pair
 *    matches no common path. Nor does a pair where one pattern's paths have
 *    at most k segments (a simple glob with no `**`, below) and the other's
 *    base has more: those paths have at least as many segments as the base.
 *    That is checked from the base alone, so a root-level `*.log` skips a
 *    thousand `pkg-N/...` patterns without reading them.
 * 2. Each such pair of patterns that are both simple (`pkg-N/lib/*.js`,
 *    `**\/*.map`; see segment-overlap.ts) is intersected segment by segment,
 *    exactly, with its quick disproofs first; a pattern `out` that is no glob
 *    is read as the `out/**` it is widened to, which also matches `out`.
 *    When every pair of two tasks is simple and none intersects, the tasks
 *    are disjoint: excludes only take paths away. When the shortest path
 *    found (it has no hidden segment) is excluded by neither task (both
 *    patterns match it, as that intersection is exact), it is the answer,
 *    and the automaton's answer up to ties when every pair was simple: the
 *    shortest path with no hidden segment of the union of the pairs (a pair
 *    that has only hidden ones adds none), and no exclude removes it. Until
 *    then no task is looked at beyond its patterns' text.
 * 3. Any other pair (a glob that is not simple, a path an exclude removes,
 *    or common paths only with a hidden segment) goes to glob-automaton.ts:
 *    the globs as automata, intersected with each other's excludes
 *    complemented, searched for a shortest common path. Each task is
 *    compiled once, and only when one of its pairs gets here.
 *
 * So `path` is a shortest common path except when a pair mixes simple globs
 * with others and a simple include pair already gives a path both tasks
 * match: that proves the overlap, and is reported without a further search.
 */
import { anyGlobMatcher, globMatcher, matcherGlobs, splitPatterns, widenedGlobs } from "./expand-globs.js";
import { GlobAutomaton, staticBase, type CompiledOutputs } from "./glob-automaton.js";
import { segmentOverlap, simpleGlob, type SimpleGlob } from "./segment-overlap.js";

export interface OutputGlobs {
  readonly task: string;
  readonly patterns: readonly string[];
}

export interface Overlap {
  /** The two tasks, in the order given, and the pattern of each that matches `path`. */
  readonly first: { readonly task: string; readonly glob: string };
  readonly second: { readonly task: string; readonly glob: string };
  /** A path both tasks' outputs match: a shortest one, but see the header. */
  readonly path: string;
}

interface Entry {
  readonly set: number;
  /** An include pattern, as written. */
  readonly pattern: string;
  /** The static base with a trailing slash ("" for the root): a prefix of every path the glob matches. */
  readonly prefix: string;
  /** The base's number of segments: every path the glob matches has at least as many. */
  readonly depth: number;
}

/** What steps 1 and 2 found for two tasks: the shortest path of their simple pairs, and whether some pair was not simple. */
interface Pair {
  readonly a: number;
  readonly b: number;
  /** The shortest path, with the pattern of a and of b that gave it. */
  shortest: { readonly path: string; readonly patterns: readonly [string, string] } | undefined;
  /** Some pair has common paths only with a hidden segment, if any. */
  hidden: boolean;
  /** Some pair is not simple. */
  unknown: boolean;
}

/** Every pair of sets (by task) whose outputs can match a common path, with one such path. */
export function overlappingOutputs(sets: readonly OutputGlobs[]): Overlap[] {
  const entries: Entry[] = [];
  sets.forEach((set, index) => {
    for (const pattern of splitPatterns(set.patterns).include) {
      const base = staticBase(pattern);
      let depth = base === "" ? 0 : 1;
      for (let at = base.indexOf("/"); at >= 0; at = base.indexOf("/", at + 1)) depth++;
      entries.push({ set: index, pattern, prefix: base === "" ? "" : `${base}/`, depth });
    }
  });
  // Sorted by prefix, the entries whose prefix starts with entry i's follow it without a gap.
  entries.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
  const simpleGlobs = new Map<string, SimpleGlob | undefined>();
  const simpleOf = (pattern: string): SimpleGlob | undefined => {
    if (!simpleGlobs.has(pattern)) {
      // `out` is matched as `out` and `out/**`: the second alone says the same.
      const globs = widenedGlobs(pattern);
      simpleGlobs.set(pattern, simpleGlob(globs[globs.length - 1]!));
    }
    return simpleGlobs.get(pattern);
  };
  const pairs = new Map<string, Pair>();
  for (let i = 0; i < entries.length; i++) {
    const outer = entries[i]!;
    // How deep a path of outer's can be, read only once it has a pair: a root-level `*.log` then skips every deeper base unread.
    let outerMax: number | undefined;
    for (let j = i + 1; j < entries.length && entries[j]!.prefix.startsWith(outer.prefix); j++) {
      const inner = entries[j]!;
      if (inner.set === outer.set) continue;
      outerMax ??= simpleOf(outer.pattern)?.max ?? Infinity;
      if (outerMax < inner.depth) continue;
      const [a, b] = outer.set < inner.set ? [outer.set, inner.set] : [inner.set, outer.set];
      const key = `${a} ${b}`;
      let pair = pairs.get(key);
      if (pair === undefined) pairs.set(key, (pair = { a, b, shortest: undefined, hidden: false, unknown: false }));
      const verdict = segmentOverlap(simpleOf(outer.pattern), simpleOf(inner.pattern));
      if (verdict.kind === "unknown") pair.unknown = true;
      else if (verdict.kind === "hidden") pair.hidden = true;
      else if (verdict.kind === "path" && (pair.shortest === undefined || verdict.path.length < pair.shortest.path.length)) {
        pair.shortest = { path: verdict.path, patterns: outer.set === a ? [outer.pattern, inner.pattern] : [inner.pattern, outer.pattern] };
      }
    }
  }

  // Step 3, each built on first use: most workspaces need no automaton at all.
  let built: GlobAutomaton | undefined;
  const automaton = (): GlobAutomaton => (built ??= new GlobAutomaton());
  const compiled = new Map<number, CompiledOutputs>();
  const outputs = (set: number): CompiledOutputs => {
    let known = compiled.get(set);
    if (known === undefined) compiled.set(set, (known = automaton().compile(sets[set]!.patterns)));
    return known;
  };
  const excluders = new Map<number, (path: string) => boolean>();
  const excluded = (set: number, path: string): boolean => {
    let excluder = excluders.get(set);
    if (excluder === undefined) excluders.set(set, (excluder = anyGlobMatcher(matcherGlobs(sets[set]!.patterns).exclude)));
    return excluder(path);
  };
  const found: Overlap[] = [];
  for (const { a, b, shortest, hidden, unknown } of pairs.values()) {
    if (shortest !== undefined && !excluded(a, shortest.path) && !excluded(b, shortest.path)) {
      const [first, second] = shortest.patterns;
      found.push({ first: { task: sets[a]!.task, glob: first }, second: { task: sets[b]!.task, glob: second }, path: shortest.path });
    } else if (unknown || hidden || shortest !== undefined) {
      const path = automaton().commonPath(outputs(a), outputs(b));
      if (path !== undefined) found.push({ first: named(sets[a]!, path), second: named(sets[b]!, path), path });
    }
  }
  return found;
}

/** The task and its first include pattern that matches `path` (its excludes do not: the whole set matches it). */
function named(set: OutputGlobs, path: string): { task: string; glob: string } {
  const { include } = splitPatterns(set.patterns);
  const glob = include.find((pattern) => globMatcher([pattern])(path)) ?? include[0]!;
  return { task: set.task, glob };
}
