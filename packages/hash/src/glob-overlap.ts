/**
 * Whether two tasks' output globs can match the same path. Before a task runs
 * rbuild removes whatever its outputs match, and after it stores what they
 * match: two tasks whose outputs overlap delete and store each other's files.
 *
 * Decided exactly by glob-automaton.ts (the globs as automata, intersected
 * with each other's excludes complemented, searched for a shortest common
 * path), but only for pairs that could overlap at all: one task's include
 * glob has a static base that is the other's, or above it. That pre-filter
 * is a sort of the bases, no glob compiled, so a thousand tasks with
 * `pkg-N/dist/**` compare nothing; it is sound because every path a glob
 * matches lies at or below its static base.
 */
import { globMatcher, splitPatterns } from "./expand-globs.js";
import { GlobAutomaton, staticBase, type CompiledOutputs } from "./glob-automaton.js";

export interface OutputGlobs {
  readonly task: string;
  readonly patterns: readonly string[];
}

export interface Overlap {
  /** The two tasks, in the order given, and the pattern of each that matches `path`. */
  readonly first: { readonly task: string; readonly glob: string };
  readonly second: { readonly task: string; readonly glob: string };
  /** A path both tasks' outputs match: a shortest one. */
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
      const path = automaton.commonPath(outputs(a), outputs(b));
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
