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
 * answer is "unknown" (it may be `.` or `..`, which is not a path, and the
 * automaton knows the next shortest). Where a free character is chosen it is
 * `x`, as in the automaton. "unknown" also when a glob is not simple.
 *
 * The property tests in segment-overlap.test.ts hold this against the
 * automaton, which reads picomatch's own regex.
 */

/** A segment as wildcard tokens: a literal character, `?` or `*`; or `**`, whole. */
type Segment = { readonly kind: "globstar" } | { readonly kind: "pattern"; readonly tokens: string };

export type SegmentVerdict = { readonly kind: "none" } | { readonly kind: "path"; readonly path: string } | { readonly kind: "unknown" };

const SIMPLE_SEGMENT = /^[A-Za-z0-9_.~*?-]+$/;
const GLOBSTAR: Segment = { kind: "globstar" };
/** What `**` is when it takes a single segment: any one segment. */
const ANY_SEGMENT = "*";
const FREE = "x";
/** Whole globs picomatch compiles by a fast path that wants a character after the last `.` (`*.*` does not match `a.`). */
const FASTPATH_QUIRKS = new Set(["*.*", "**/*.*"]);

/** The glob's segments, or undefined when it is not simple (see the header). */
export function simpleSegments(glob: string): readonly Segment[] | undefined {
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
  return segments;
}

/** A shortest path two simple globs both match, none, or unknown (see the header). */
export function segmentOverlap(a: readonly Segment[] | undefined, b: readonly Segment[] | undefined): SegmentVerdict {
  if (a === undefined || b === undefined) return { kind: "unknown" };
  const visible = shortestPath(a, b, true);
  if (visible !== undefined) return { kind: "path", path: visible };
  // None without a hidden segment: one with, if any, is the automaton's to find (it may be `.` or `..`, not a path).
  return shortestPath(a, b, false) === undefined ? { kind: "none" } : { kind: "unknown" };
}

/** A shortest path both match, its segments not starting with `.` when `visible`: Dijkstra over alignments. */
function shortestPath(a: readonly Segment[], b: readonly Segment[], visible: boolean): string | undefined {
  // States: (segments of a used, segments of b used, whether a segment was written). Tiny graphs.
  const key = (i: number, j: number, started: boolean): number => (i * (b.length + 1) + j) * 2 + (started ? 1 : 0);
  const best = new Map<number, number>([[key(0, 0, false), 0]]);
  const open: { i: number; j: number; started: boolean; cost: number; path: string }[] = [{ i: 0, j: 0, started: false, cost: 0, path: "" }];
  const push = (i: number, j: number, started: boolean, cost: number, path: string): void => {
    const known = best.get(key(i, j, started));
    if (known === undefined || cost < known) {
      best.set(key(i, j, started), cost);
      open.push({ i, j, started, cost, path });
    }
  };
  while (open.length > 0) {
    let at = 0;
    for (let k = 1; k < open.length; k++) if (open[k]!.cost < open[at]!.cost) at = k;
    const { i, j, started, cost, path } = open.splice(at, 1)[0]!;
    if (best.get(key(i, j, started))! < cost) continue;
    if (i === a.length && j === b.length && started) return path;
    const x = a[i];
    const y = b[j];
    // `**` taking no segment.
    if (x?.kind === "globstar") push(i + 1, j, started, cost, path);
    if (y?.kind === "globstar") push(i, j + 1, started, cost, path);
    if (x === undefined || y === undefined) continue;
    // One segment, taken by a pattern (which moves on) or by `**` (which may take more). Both `**` staying is never shorter.
    const moves: [number, number][] = [[i + 1, j + 1]];
    if (x.kind === "globstar") moves.push([i, j + 1]);
    if (y.kind === "globstar") moves.push([i + 1, j]);
    const segment = commonSegment(x.kind === "globstar" ? ANY_SEGMENT : x.tokens, y.kind === "globstar" ? ANY_SEGMENT : y.tokens, visible);
    if (segment === undefined) continue;
    const next = started ? `${path}/${segment}` : segment;
    for (const [ni, nj] of moves) push(ni, nj, true, cost + segment.length + (started ? 1 : 0), next);
  }
  return undefined;
}

/**
 * A shortest non-empty string two wildcard patterns both match (`*`, `?` and
 * literals, no `/`), not starting with `.` when `visible`, or undefined when
 * there is none: a breadth-first search over positions in the two patterns,
 * a `*` passed over for free.
 */
export function commonSegment(p: string, q: string, visible: boolean): string | undefined {
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
