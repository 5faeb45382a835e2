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
 * 2. Each pair of include globs that are both simple (`pkg-N/lib/*.js`,
 *    `**\/*.map`; see segment-overlap.ts) is intersected segment by segment,
 *    exactly. When every include pair is simple and none intersects, the
 *    tasks are disjoint: excludes only take paths away. When the shortest
 *    path found is matched by both tasks' real matchers (excludes included),
 *    it is the answer, and a shortest one when every include pair was
 *    simple (the shortest of the union of the include pairs, and no exclude
 *    removes it).
 * 3. Any other pair (a glob that is not simple, or a path an exclude
 *    removes) goes to glob-automaton.ts: the globs as automata, intersected
 *    with each other's excludes complemented, searched for a shortest common
 *    path. Each task is compiled once, and only when one of its pairs gets
 *    here.
 *
 * So `path` is a shortest common path except when a pair mixes simple globs
 * with others and a simple include pair already gives a path both tasks
 * match: that proves the overlap, and is reported without a further search.
 */
import { globMatcher, matcherGlobs, splitPatterns } from "./expand-globs.js";
import { GlobAutomaton, staticBase, type CompiledOutputs } from "./glob-automaton.js";
import { segmentOverlap, simpleSegments } from "./segment-overlap.js";

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
  /** The static base with a trailing slash ("" for the root): a prefix of every path the glob matches. */
  readonly prefix: string;
}

/** Every pair of sets (by task) whose outputs can match a common path, with one such path. */
export function overlappingOutputs(sets: readonly OutputGlobs[]): Overlap[] {
  const entries: Entry[] = [];
  sets.forEach((set, index) => {
    for (const glob of splitPatterns(set.patterns).include) {
      const base = staticBase(glob);
      entries.push({ set: index, prefix: base === "" ? "" : `${base}/` });
    }
  });
  // Sorted by prefix, the entries whose prefix starts with entry i's follow it without a gap.
  entries.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
  const automaton = new GlobAutomaton();
  const compiled = new Map<number, CompiledOutputs>();
  const outputs = (set: number): CompiledOutputs => {
    let known = compiled.get(set);
    if (known === undefined) compiled.set(set, (known = automaton.compile(sets[set]!.patterns)));
    return known;
  };
  const segments = new Map<string, ReturnType<typeof simpleSegments>>();
  const segmentsOf = (glob: string): ReturnType<typeof simpleSegments> => {
    if (!segments.has(glob)) segments.set(glob, simpleSegments(glob));
    return segments.get(glob);
  };
  const includes = new Map<number, readonly string[]>();
  const includesOf = (set: number): readonly string[] => {
    let known = includes.get(set);
    if (known === undefined) includes.set(set, (known = matcherGlobs(sets[set]!.patterns).include));
    return known;
  };
  const matchers = new Map<number, (path: string) => boolean>();
  const matches = (set: number, path: string): boolean => {
    let match = matchers.get(set);
    if (match === undefined) matchers.set(set, (match = globMatcher(sets[set]!.patterns)));
    return match(path);
  };
  /** Step 2 of the header: a path, `null` for none, undefined when the automaton must decide. */
  const simplePath = (a: number, b: number): string | null | undefined => {
    let shortest: string | undefined;
    let unknown = false;
    for (const x of includesOf(a)) {
      for (const y of includesOf(b)) {
        const verdict = segmentOverlap(segmentsOf(x), segmentsOf(y));
        if (verdict.kind === "unknown") unknown = true;
        else if (verdict.kind === "path" && (shortest === undefined || verdict.path.length < shortest.length)) shortest = verdict.path;
      }
    }
    if (shortest === undefined) return unknown ? undefined : null;
    return matches(a, shortest) && matches(b, shortest) ? shortest : undefined;
  };
  const decided = new Set<string>();
  const found: Overlap[] = [];
  for (let i = 0; i < entries.length; i++) {
    const outer = entries[i]!;
    for (let j = i + 1; j < entries.length && entries[j]!.prefix.startsWith(outer.prefix); j++) {
      const inner = entries[j]!;
      if (inner.set === outer.set) continue;
      const [a, b] = outer.set < inner.set ? [outer.set, inner.set] : [inner.set, outer.set];
      const pair = `${a} ${b}`;
      if (decided.has(pair)) continue;
      decided.add(pair);
      const simple = simplePath(a, b);
      const path = simple === undefined ? automaton.commonPath(outputs(a), outputs(b)) : simple;
      if (path !== undefined && path !== null) found.push({ first: named(sets[a]!, path), second: named(sets[b]!, path), path });
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
