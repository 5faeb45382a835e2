/**
 * Exactly which paths a task's output globs match, as an automaton, so that
 * whether two tasks' outputs can match a common path is decided, not
 * sampled, and a shortest such path is found.
 *
 * The real matcher is globMatcher (expand-globs.ts): a path matches when
 * some include glob matches and no exclude glob does, after the patterns are
 * trimmed of `./` and trailing slashes, a non-glob pattern `out` is widened
 * with `out/**`, and `.rbuild/**` and `.git/**` are excluded. matcherGlobs()
 * gives those globs and globShape() how each is matched, so this reads the
 * same decisions rather than repeating them:
 *
 * - `**`, a plain path and `<plain path>/**` are matched directly there, and
 *   written here as the regular expressions they are;
 * - every other glob is matched by picomatch, which compares the path with
 *   the glob text and otherwise runs a JavaScript regex. This parses that very
 *   regex (regex-syntax.ts), so braces, classes, `?`, `*`, `**`, POSIX
 *   classes, every extglob (`!(…)` included: picomatch writes it as a negative
 *   lookahead, and lookaheads are modelled) and picomatch's own quirks (`[!a]`
 *   is a class of `!` and `a`; a leading `!` negates the glob) are exact by
 *   construction.
 *
 * Paths are taken to be what a crawl can produce: non-empty `/`-separated
 * segments, none empty, `.` or `..` (the universe below). So the matcher's
 * `.`/`..` guards never decide anything here, and `**` against a dot segment
 * needs no model. Alphabet: JavaScript code units, split into atoms at every
 * boundary any character set of the two tasks' expressions (and the
 * universe's, where `/` stands alone) mentions; each atom is read by one
 * representative, readable when it can be (`x` for "any other").
 *
 * The intersection (A's includes, not A's excludes, B's includes, not B's
 * excludes, in the universe) is one formula of boolean-automaton.ts, searched
 * breadth-first: a first accepted string is a shortest common path. One with
 * a hidden segment (`out/.js`) is replaced by a shortest one without, if any
 * (`out/x.js` reads better). Every answer is checked against both real
 * matchers: a disagreement is a bug in this model, and throws.
 *
 * Conservative corner: a glob whose regex uses what picomatch writes only
 * when the glob spells regex syntax itself (a lookbehind `(?<=`, `\b`, a
 * backreference) is over-approximated by its static base (`base/**`). For a
 * pair with such a glob, the candidates are tried shortest first until both
 * real matchers accept one; if none does, the first is reported anyway: an
 * overlap may be claimed that does not exist, never missed.
 */
import { BooleanAutomaton, type Formula } from "./boolean-automaton.js";
import { ANY } from "./char-set.js";
import { globMatcher, globShape, matcherGlobs, picomatchRegex } from "./expand-globs.js";
import { literal, parseRegex, UnsupportedRegex, type Regex } from "./regex-syntax.js";

/** One task's outputs: the paths some include matches and no exclude does. */
export interface CompiledOutputs {
  readonly patterns: readonly string[];
  /** Its includes, and NOT its excludes: a path matches when both accept it. */
  readonly formulas: readonly [Formula, Formula];
  readonly cuts: readonly number[];
  /** Whether some glob was over-approximated (see the header). */
  readonly approximate: boolean;
  readonly matches: (path: string) => boolean;
}

/** Real paths: segments that are not empty, `.` or `..`. */
const UNIVERSE = String.raw`^(?!\.\.?(?:\/|$))[^/]+(?:\/(?!\.\.?(?:\/|$))[^/]+)*$`;
/** Real paths with no hidden segment: the witnesses preferred. */
const VISIBLE = String.raw`^[^/.][^/]*(?:\/[^/.][^/]*)*$`;
const HIDDEN_SEGMENT = /(?:^|\/)\./;

/** Representatives by preference: an atom is read by the first of these it holds. */
const READABLE = "xabcdefghijklmnopqrstuvwyz0123456789/ABCDEFGHIJKLMNOPQRSTUVWXYZ_-.";

/** Characters that make a path segment a glob rather than a name. */
const GLOB_CHAR = /[*?[\]{}()!+@\\]/;

/** The leading segments of a pattern that have no glob syntax: no path it matches lies outside them. */
export function staticBase(pattern: string): string {
  const segments = pattern.replace(/^\.\/+/, "").replace(/\/+$/, "").split("/");
  const plain: string[] = [];
  for (const segment of segments) {
    if (GLOB_CHAR.test(segment)) break;
    if (segment !== "" && segment !== ".") plain.push(segment);
  }
  return plain.join("/");
}

const anchored = (regex: Regex): Regex => ({ kind: "seq", items: [{ kind: "start" }, regex, { kind: "end" }] });
const anyRun = (min: number): Regex => ({ kind: "repeat", item: { kind: "set", set: ANY }, min, max: Infinity });

/** `regex.exec(path)`: a match may start anywhere, unless the regex opens with `^`. */
function searched(regex: Regex): Regex {
  const opensAnchored = regex.kind === "seq" && regex.items[0]?.kind === "start";
  return opensAnchored ? regex : { kind: "seq", items: [anyRun(0), regex] };
}

/** What `matcher(glob)` in expand-globs accepts, as a regex over the whole path; approximate when picomatch's regex cannot be read. */
function globRegex(glob: string): { regex: Regex; approximate: boolean } {
  const shape = globShape(glob);
  switch (shape.kind) {
    case "everything":
      return { regex: anchored(anyRun(1)), approximate: false };
    case "plain":
      return { regex: anchored(literal(glob)), approximate: false };
    case "under": {
      const below: Regex = { kind: "seq", items: [literal(`${shape.base}/`), anyRun(0)] };
      return { regex: anchored({ kind: "alt", items: [literal(shape.base), below] }), approximate: false };
    }
    case "picomatch": {
      const compiled = picomatchRegex(glob);
      try {
        if (compiled.flags !== "") throw new UnsupportedRegex(`flags ${compiled.flags}`);
        return { regex: { kind: "alt", items: [anchored(literal(glob)), searched(parseRegex(compiled.source))] }, approximate: false };
      } catch (error) {
        if (!(error instanceof UnsupportedRegex)) throw error;
        const base = staticBase(glob);
        if (base === "") return { regex: anchored(anyRun(1)), approximate: true };
        const below: Regex = { kind: "seq", items: [literal(`${base}/`), anyRun(1)] };
        return { regex: anchored({ kind: "alt", items: [literal(base), below] }), approximate: true };
      }
    }
  }
}

/** One representative per atom between consecutive cuts, readable first. */
function atoms(cuts: readonly number[]): number[] {
  const bounds = [...new Set([0, ...cuts, 0x10000])].filter((cut) => cut <= 0x10000).sort((a, b) => a - b);
  const chosen: number[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) chosen.push(representative(bounds[i]!, bounds[i + 1]! - 1));
  const rank = (code: number): number => {
    const readable = READABLE.indexOf(String.fromCharCode(code));
    return readable >= 0 ? readable : code > 0x20 && code < 0x7f ? 100 + code : 1000 + code;
  };
  return chosen.sort((a, b) => rank(a) - rank(b));
}

function representative(lo: number, hi: number): number {
  for (const char of READABLE) {
    const code = char.charCodeAt(0);
    if (code >= lo && code <= hi) return code;
  }
  // Printable ASCII, then a space, then a character that is neither a control nor half a surrogate pair.
  for (const [from, to] of [[0x21, 0x7e], [0x20, 0x20], [0xa1, 0xd7ff], [0xe000, 0xfffd]] as const) {
    if (lo <= to && hi >= from) return Math.max(lo, from);
  }
  return lo;
}

/** Compiles task outputs and decides their overlaps; one per planning run (it memoises states). */
export class GlobAutomaton {
  readonly #engine = new BooleanAutomaton();
  readonly #universe = this.#engine.compile(parseRegex(UNIVERSE));
  readonly #visible = this.#engine.compile(parseRegex(VISIBLE));
  readonly #globs = new Map<string, { formula: Formula; cuts: readonly number[]; approximate: boolean }>();

  compile(patterns: readonly string[]): CompiledOutputs {
    const globs = matcherGlobs(patterns);
    const cuts = new Set<number>();
    let approximate = false;
    const anyOf = (list: readonly string[]): Formula => {
      const formulas = list.map((glob) => {
        const compiled = this.#glob(glob);
        for (const cut of compiled.cuts) cuts.add(cut);
        approximate ||= compiled.approximate;
        return compiled.formula;
      });
      return this.#engine.or(...formulas);
    };
    const include = anyOf(globs.include);
    const exclude = anyOf(globs.exclude);
    let matcher: ((path: string) => boolean) | undefined;
    // Built on first use: only a pair that overlaps needs it.
    const matches = (path: string): boolean => (matcher ??= globMatcher(patterns))(path);
    return { patterns, formulas: [include, this.#engine.not(exclude)], cuts: [...cuts], approximate, matches };
  }

  /** One glob, compiled once however many tasks name it (`.git/**` is in every set). */
  #glob(glob: string): { formula: Formula; cuts: readonly number[]; approximate: boolean } {
    let compiled = this.#globs.get(glob);
    if (compiled === undefined) {
      const { regex, approximate } = globRegex(glob);
      compiled = { ...this.#engine.compile(regex), approximate };
      this.#globs.set(glob, compiled);
    }
    return compiled;
  }

  /** A shortest path both outputs match (one without a hidden segment if there is one), or undefined when there is none. */
  commonPath(a: CompiledOutputs, b: CompiledOutputs): string | undefined {
    const alphabet = atoms([...a.cuts, ...b.cuts, ...this.#universe.cuts, ...this.#visible.cuts]);
    const search = (universe: Formula): { real?: string; first?: string } => {
      let first: string | undefined;
      for (const path of this.#engine.accepted([universe, ...a.formulas, ...b.formulas], alphabet)) {
        if (a.matches(path) && b.matches(path)) return { real: path, first: first ?? path };
        if (!a.approximate && !b.approximate) {
          throw new Error(`glob automaton: ${JSON.stringify(path)} matches ${JSON.stringify(a.patterns)} and ${JSON.stringify(b.patterns)} in the model but not by globMatcher`);
        }
        first ??= path;
      }
      return { first };
    };
    const found = search(this.#universe.formula);
    if (found.real !== undefined && HIDDEN_SEGMENT.test(found.real)) return search(this.#visible.formula).real ?? found.real;
    return found.real ?? found.first;
  }
}
