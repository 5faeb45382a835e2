/**
 * A shortest common path of two *simple* globs, found segment by segment in
 * microseconds, so that the exact automaton (glob-automaton.ts) is only
 * needed for the rest. The overlap check runs at every Buildfile load, and
 * nearly every output glob is simple: `pkg-N/dist/**`, `*.log`, `**\/*.map`.
 *
 * Simple: non-empty `/`-separated segments, each either exactly `**` or made
 * of the characters `A-Z a-z 0-9 _ . ~ -` and the wildcards `*` and `?`, none
 * `.` or `..`. For such a glob (as globMatcher compiles it: after
 * matcherGlobs), a path of the universe (non-empty segments, none `.` or
 * `..`) matches exactly when its segments can be aligned with the glob's:
 * `**` takes zero or more whole segments, any other glob segment takes one
 * segment, which it matches as a wildcard pattern (`*` any run of characters
 * other than `/`, `?` one such character, the rest themselves). That is how
 * each of globShape's matchers reads these globs:
 *
 * - `**` (everything): any path; `plain`: itself; `<plain>/**` (under): the
 *   base itself or anything below it (`**` taking zero or more segments);
 * - picomatch (`dot: true`, version 4): `*` is `[^/]*?` (after a guard
 *   against `.` and `..` segments, which the universe never has), `?` is
 *   `[^/]`, a whole `**` segment is zero or more segments (`a/**` matches
 *   `a`, `**\/b` matches `b`, `a/**\/b` matches `a/b`; `**\/**` is `**`),
 *   the other characters of the set are literals, and the optional trailing
 *   `\/?` it appends meets only paths outside the universe. Its first test,
 *   the path equal to the glob text, adds nothing: the text matches its own
 *   pattern. Two quirks are modelled: a last `**` right after a segment that
 *   ends in `*` takes one segment or more (`b*\/**` does not match `bx`, its
 *   regex is `b[^/]*?\/…` with no `|$`), written here as `b*\/*\/**`; and
 *   the whole globs `*.*` and `**\/*.*` are compiled by fast paths that want
 *   a character after the `.` (`*.*` does not match `a.`), so they are not
 *   simple. Nor is a `**` inside a segment (`**.js` matches `a/b.js`), nor any
 *   other glob syntax (classes, braces, extglobs, escapes, a leading `!`).
 *
 * So the intersection of two simple globs is decided exactly by aligning the
 * two segment lists (a small shortest-path search, `**` against `**`
 * included) with each pair of aligned segments intersected as wildcard
 * patterns (another, over positions in the two patterns). Path lengths add
 * up segment by segment, so a shortest string per aligned pair gives a
 * shortest path, and the search is over every alignment, so "none" is a
 * proof that no path matches both. As the automaton does, it prefers a path
 * with no hidden segment (none starting with `.`): the search runs first
 * with segments not allowed to start with `.`, which also rules out `.` and
 * `..`. Only when that finds nothing is it run again without the rule: if
 * that finds nothing either, the answer is "none"; if it finds a path, the
 * answer is "hidden" (it may be `.` or `..`, which is not a path, and the
 * automaton knows the next shortest). Where a free character is chosen it is
 * `x`, as in the automaton. The answer is "unknown" when a glob is not simple.
 *
 * The property tests in segment-overlap.test.ts hold this against the
 * automaton, which reads picomatch's own regex.
 */

/** A segment as wildcard tokens: a literal character, `?` or `*`; or `**`, whole. */
type Segment = { readonly kind: "globstar" } | { readonly kind: "pattern"; readonly tokens: string };

/** A simple glob, with what the quick disproofs read (see segmentOverlap). */
export interface SimpleGlob {
  readonly segments: readonly Segment[];
  /** How many segments a path it matches has: at least `min`, at most `max`. */
  readonly min: number;
  readonly max: number;
  /** When the last segment is a pattern: the literal text before its first wildcard and after its last. */
  readonly tail: { readonly prefix: string; readonly suffix: string } | undefined;
}

/**
 * `path`: a shortest common path with no hidden segment; `none`: no common
 * path at all; `hidden`: none without a hidden segment, and maybe some with
 * (the automaton's to find: it may be `.` or `..`, which is not a path);
 * `unknown`: a glob is not simple.
 */
export type SegmentVerdict =
  | { readonly kind: "none" }
  | { readonly kind: "path"; readonly path: string }
  | { readonly kind: "hidden" }
  | { readonly kind: "unknown" };

const SIMPLE_SEGMENT = /^[A-Za-z0-9_.~*?-]+$/;
const GLOBSTAR: Segment = { kind: "globstar" };
/** What `**` is when it takes a single segment: any one segment. */
const ANY_SEGMENT = "*";
const FREE = "x";
/** Whole globs picomatch compiles by a fast path that wants a character after the last `.` (`*.*` does not match `a.`). */
const FASTPATH_QUIRKS = new Set(["*.*", "**/*.*"]);

/** The glob read as simple, or undefined when it is not (see the header). */
export function simpleGlob(glob: string): SimpleGlob | undefined {
  if (FASTPATH_QUIRKS.has(glob)) return undefined;
  const segments: Segment[] = [];
  for (const text of glob.split("/")) {
    if (text === "**") {
      // `**/**` is `**`, as picomatch strips the second.
      if (segments[segments.length - 1] !== GLOBSTAR) segments.push(GLOBSTAR);
    } else if (!SIMPLE_SEGMENT.test(text) || text.includes("**") || text === "." || text === "..") return undefined;
    else segments.push({ kind: "pattern", tokens: text });
  }
  // A last `**` after a segment that ends in `*` takes at least one segment (picomatch writes no `|$` for it).
  const before = segments[segments.length - 2];
  if (segments[segments.length - 1] === GLOBSTAR && before?.kind === "pattern" && before.tokens.endsWith("*")) {
    segments.splice(segments.length - 1, 0, { kind: "pattern", tokens: ANY_SEGMENT });
  }
  const patterns = segments.filter((segment) => segment.kind === "pattern").length;
  const last = segments[segments.length - 1]!;
  const tail = last.kind === "pattern" ? { prefix: /^[^*?]*/.exec(last.tokens)![0], suffix: /[^*?]*$/.exec(last.tokens)![0] } : undefined;
  return { segments, min: patterns, max: patterns < segments.length ? Infinity : patterns, tail };
}

const NONE: SegmentVerdict = { kind: "none" };
const UNKNOWN: SegmentVerdict = { kind: "unknown" };
const HIDDEN: SegmentVerdict = { kind: "hidden" };

/**
 * A shortest path two simple globs both match, none, or unknown (see the
 * header). Two quick disproofs come first, as most pairs a workspace has are
 * disjoint: the numbers of segments the two globs allow do not meet (`*.log`
 * has one, `pkg-1/dist/**` two or more); or both end in a pattern, and the
 * literal starts or ends of those patterns are not one a prefix (suffix) of
 * the other (`*.map` and `*.js`). Both are sound: a common path has one
 * number of segments, which both globs allow; and its last segment is
 * matched by both last patterns (a pattern is last only when no `**`
 * follows it), so it starts with both literal starts and ends with both
 * literal ends, which must then be a prefix (suffix) of one another.
 */
export function segmentOverlap(a: SimpleGlob | undefined, b: SimpleGlob | undefined): SegmentVerdict {
  if (a === undefined || b === undefined) return UNKNOWN;
  if (a.max < b.min || b.max < a.min) return NONE;
  if (a.tail !== undefined && b.tail !== undefined && !(comparable(a.tail.prefix, b.tail.prefix, "startsWith") && comparable(a.tail.suffix, b.tail.suffix, "endsWith"))) {
    return NONE;
  }
  const visible = shortestPath(a.segments, b.segments, true);
  if (visible !== undefined) return { kind: "path", path: visible };
  return shortestPath(a.segments, b.segments, false) === undefined ? NONE : HIDDEN;
}

function comparable(x: string, y: string, how: "startsWith" | "endsWith"): boolean {
  return x.length < y.length ? y[how](x) : x[how](y);
}

/**
 * A shortest path both match, its segments not starting with `.` when
 * `visible`. A state is (segments of a used, of b used, whether a segment
 * was written), and every move uses up a segment of a, of b, or of both, so
 * the states in order of segments used are a topological order: one pass
 * relaxes every move, no queue needed.
 */
function shortestPath(a: readonly Segment[], b: readonly Segment[], visible: boolean): string | undefined {
  const width = b.length + 1;
  const index = (i: number, j: number, written: boolean): number => (i * width + j) * 2 + (written ? 1 : 0);
  const states = (a.length + 1) * width * 2;
  const cost: number[] = new Array<number>(states).fill(Infinity);
  const from: number[] = new Array<number>(states).fill(-1);
  /** The segment written on the way in, or undefined when a `**` took none. */
  const wrote: (string | undefined)[] = new Array<string | undefined>(states);
  const reach = (state: number, to: number, added: number, segment: string | undefined): void => {
    if (cost[state]! + added < cost[to]!) {
      cost[to] = cost[state]! + added;
      from[to] = state;
      wrote[to] = segment;
    }
  };
  cost[0] = 0;
  for (let used = 0; used <= a.length + b.length; used++) {
    for (let i = Math.max(0, used - b.length); i <= Math.min(a.length, used); i++) {
      const j = used - i;
      const x = a[i];
      const y = b[j];
      // commonSegment of x and y: asked once, whether a segment was written yet or not.
      let segment: string | undefined;
      let asked = false;
      for (const started of [false, true]) {
        const state = index(i, j, started);
        if (cost[state] === Infinity) continue;
        // `**` taking no segment.
        if (x?.kind === "globstar") reach(state, index(i + 1, j, started), 0, undefined);
        if (y?.kind === "globstar") reach(state, index(i, j + 1, started), 0, undefined);
        if (x === undefined || y === undefined) continue;
        if (!asked) segment = commonSegment(x.kind === "globstar" ? ANY_SEGMENT : x.tokens, y.kind === "globstar" ? ANY_SEGMENT : y.tokens, visible);
        asked = true;
        if (segment === undefined) continue;
        // One segment, taken by a pattern (which moves on) or by `**` (which may take more). Both `**` staying is never shorter.
        const added = segment.length + (started ? 1 : 0);
        reach(state, index(i + 1, j + 1, true), added, segment);
        if (x.kind === "globstar") reach(state, index(i, j + 1, true), added, segment);
        if (y.kind === "globstar") reach(state, index(i + 1, j, true), added, segment);
      }
    }
  }
  const accept = index(a.length, b.length, true);
  return cost[accept] === Infinity ? undefined : pathTo(accept, from, wrote);
}

function pathTo(state: number, from: readonly number[], wrote: readonly (string | undefined)[]): string {
  const segments: string[] = [];
  for (let at = state; at > 0; at = from[at]!) if (wrote[at] !== undefined) segments.push(wrote[at]!);
  return segments.reverse().join("/");
}

/**
 * A shortest non-empty string two wildcard patterns both match (`*`, `?` and
 * literals, no `/`), not starting with `.` when `visible`, or undefined when
 * there is none: a breadth-first search over positions in the two patterns,
 * a `*` passed over for free.
 */
export function commonSegment(p: string, q: string, visible: boolean): string | undefined {
  // The commonest case, a name against a pattern (`pkg-1` against `*`): the name, if it matches.
  const name = WILDCARD.test(p) ? (WILDCARD.test(q) ? undefined : q) : p;
  if (name !== undefined) return (visible && name.startsWith(".")) || !wildcardMatch(name === p ? q : p, name) ? undefined : name;
  // Next, a pattern against any segment (what `**` takes): the pattern's own shortest.
  if (p === ANY_SEGMENT || q === ANY_SEGMENT) return shortestOf(p === ANY_SEGMENT ? q : p, visible);
  const key = (i: number, j: number, started: boolean): number => (i * (q.length + 1) + j) * 2 + (started ? 1 : 0);
  const seen = new Set<number>();
  // 0-1 breadth-first: a `*` passed over costs nothing (front), a character one (back).
  const queue: { i: number; j: number; started: boolean; text: string }[] = [{ i: 0, j: 0, started: false, text: "" }];
  while (queue.length > 0) {
    const { i, j, started, text } = queue.shift()!;
    const id = key(i, j, started);
    if (seen.has(id)) continue;
    seen.add(id);
    if (i === p.length && j === q.length && started) return text;
    const s = p[i];
    const t = q[j];
    if (s === "*") queue.unshift({ i: i + 1, j, started, text });
    if (t === "*") queue.unshift({ i, j: j + 1, started, text });
    if (s === undefined || t === undefined) continue;
    const char = s === "*" || s === "?" ? (t === "*" || t === "?" ? FREE : t) : t === "*" || t === "?" || t === s ? s : undefined;
    if (char === undefined || (visible && !started && char === ".")) continue;
    queue.push({ i: s === "*" ? i : i + 1, j: t === "*" ? j : j + 1, started: true, text: text + char });
  }
  return undefined;
}

const WILDCARD = /[*?]/;

/**
 * A shortest non-empty string the pattern matches, not starting with `.`
 * when `visible`. Every `*` empty and every `?` an `x` gives the shortest
 * (or, if that is empty, `x`). When it starts with a `.` that must stay
 * (the pattern starts with a literal `.`) there is no visible one; when the
 * pattern starts with `*` that `*` can take an `x` first, one longer.
 */
function shortestOf(pattern: string, visible: boolean): string | undefined {
  const shortest = pattern.replaceAll("*", "").replaceAll("?", FREE);
  if (shortest === "") return FREE;
  if (!visible || !shortest.startsWith(".")) return shortest;
  return pattern.startsWith("*") ? FREE + shortest : undefined;
}

/** Whether `text` (no wildcards) matches the wildcard pattern: the classic scan, going back to the last `*` on a mismatch. */
function wildcardMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === "?" || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      resume = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resume;
    } else return false;
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}
