/**
 * A parser for the JavaScript regular expressions picomatch compiles globs
 * to, into a small syntax tree the glob automaton turns into an NFA. It reads
 * the source of a RegExp with no flags (no `u`, `i`, `m`, `s`): alternation,
 * groups (capturing, `(?:`, named), lookaheads `(?=` `(?!`, anchors `^` `$`,
 * quantifiers (`*` `+` `?` `{n}` `{n,}` `{n,m}`, greedy or lazy: laziness
 * does not change whether a string matches), `.`, classes with ranges and
 * negation, and the escapes `\d \D \w \W \s \S \t \n \v \f \r \0 \xHH \uHHHH
 * \cX` and identity escapes. As in Annex B, a `{` that does not start a
 * quantifier and a lone `]` or `}` are literals.
 *
 * What it does not read (lookbehinds, backreferences, `\b`) picomatch never
 * writes; it throws `UnsupportedRegex` for them rather than guess.
 */
import { charSet, complement, single, union, type CharSet } from "./char-set.js";

export type Regex =
  | { readonly kind: "set"; readonly set: CharSet }
  | { readonly kind: "seq"; readonly items: readonly Regex[] }
  | { readonly kind: "alt"; readonly items: readonly Regex[] }
  | { readonly kind: "repeat"; readonly item: Regex; readonly min: number; readonly max: number }
  | { readonly kind: "start" }
  | { readonly kind: "end" }
  | { readonly kind: "look"; readonly negative: boolean; readonly item: Regex };

export class UnsupportedRegex extends Error {}

/** `.` without the `s` flag: every code unit but the line terminators. */
const DOT = complement(charSet([[0x0a, 0x0a], [0x0d, 0x0d], [0x2028, 0x2029]]));
const DIGIT = charSet([[0x30, 0x39]]);
const WORD = charSet([[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]]);
const SPACE = charSet(
  [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff].map((c) => [c, c] as const).concat([[0x2000, 0x200a]]),
);
const CONTROL_ESCAPES: Record<string, number> = { t: 0x09, n: 0x0a, v: 0x0b, f: 0x0c, r: 0x0d, "0": 0 };

export function literal(text: string): Regex {
  const items: Regex[] = [];
  for (let i = 0; i < text.length; i++) items.push({ kind: "set", set: [[text.charCodeAt(i), text.charCodeAt(i)]] });
  return { kind: "seq", items };
}

export function parseRegex(source: string): Regex {
  let at = 0;
  const peek = (): string | undefined => source[at];
  const fail = (what: string): never => {
    throw new UnsupportedRegex(`${what} at ${at} in /${source}/`);
  };

  const alternation = (): Regex => {
    const items = [sequence()];
    while (peek() === "|") {
      at++;
      items.push(sequence());
    }
    return items.length === 1 ? items[0]! : { kind: "alt", items };
  };

  const sequence = (): Regex => {
    const items: Regex[] = [];
    for (let char = peek(); char !== undefined && char !== "|" && char !== ")"; char = peek()) items.push(quantified(atom()));
    return { kind: "seq", items };
  };

  const atom = (): Regex => {
    const char = source[at++]!;
    switch (char) {
      case "^":
        return { kind: "start" };
      case "$":
        return { kind: "end" };
      case ".":
        return { kind: "set", set: DOT };
      case "[":
        return { kind: "set", set: charClass() };
      case "(":
        return group();
      case "\\":
        return { kind: "set", set: escape(false) };
      case "*":
      case "+":
      case "?":
        return fail(`nothing to repeat`);
      case "{":
        if (quantifierAhead(at - 1)) fail("nothing to repeat");
        return { kind: "set", set: single(char) };
      default:
        return { kind: "set", set: single(char) };
    }
  };

  const group = (): Regex => {
    let look: boolean | undefined;
    if (source.startsWith("?:", at)) at += 2;
    else if (source.startsWith("?=", at) || source.startsWith("?!", at)) {
      look = source[at + 1] === "!";
      at += 2;
    } else if (source.startsWith("?<", at) && source[at + 2] !== "=" && source[at + 2] !== "!") {
      const close = source.indexOf(">", at);
      if (close < 0) fail("unterminated group name");
      at = close + 1;
    } else if (peek() === "?") fail("unsupported group");
    const item = alternation();
    if (source[at++] !== ")") fail("unterminated group");
    return look === undefined ? item : { kind: "look", negative: look, item };
  };

  /** Whether a `{...}` quantifier starts at `from`. */
  const quantifierAhead = (from: number): boolean => /^\{\d+(,\d*)?\}/.test(source.slice(from));

  const quantified = (item: Regex): Regex => {
    let min: number;
    let max: number;
    const char = peek();
    if (char === "*" || char === "+" || char === "?") {
      at++;
      [min, max] = char === "*" ? [0, Infinity] : char === "+" ? [1, Infinity] : [0, 1];
    } else if (char === "{" && quantifierAhead(at)) {
      const [, low, comma, high] = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(at))!;
      at = source.indexOf("}", at) + 1;
      min = Number(low);
      max = comma === undefined ? min : high === "" ? Infinity : Number(high);
    } else return item;
    if (peek() === "?") at++; // lazy: the same strings match
    if (item.kind === "start" || item.kind === "end" || item.kind === "look") fail("quantified assertion");
    if (peek() === "*" || peek() === "+" || peek() === "?" || (peek() === "{" && quantifierAhead(at))) fail("nothing to repeat");
    return { kind: "repeat", item, min, max };
  };

  const charClass = (): CharSet => {
    const negated = peek() === "^";
    if (negated) at++;
    const parts: CharSet[] = [];
    while (peek() !== "]") {
      if (peek() === undefined) fail("unterminated class");
      const from = classAtom();
      if (peek() === "-" && source[at + 1] !== "]" && source[at + 1] !== undefined) {
        at++;
        const to = classAtom();
        const lo = from.length === 1 && from[0]![0] === from[0]![1] ? from[0]![0] : undefined;
        const hi = to.length === 1 && to[0]![0] === to[0]![1] ? to[0]![0] : undefined;
        // Annex B: a range with a class escape at either end is its parts and a `-`.
        if (lo === undefined || hi === undefined) parts.push(from, single("-"), to);
        else if (lo > hi) fail("range out of order");
        else parts.push([[lo, hi]]);
      } else parts.push(from);
    }
    at++;
    const set = union(...parts);
    return negated ? complement(set) : set;
  };

  const classAtom = (): CharSet => {
    const char = source[at++]!;
    return char === "\\" ? escape(true) : single(char);
  };

  /** After a backslash. In a class, `\b` is a backspace; outside, it is a word boundary. */
  const escape = (inClass: boolean): CharSet => {
    const char = source[at++];
    if (char === undefined) return fail("trailing backslash");
    switch (char) {
      case "d":
        return DIGIT;
      case "D":
        return complement(DIGIT);
      case "w":
        return WORD;
      case "W":
        return complement(WORD);
      case "s":
        return SPACE;
      case "S":
        return complement(SPACE);
      case "b":
        return inClass ? single("\b") : fail("word boundary");
      case "B":
        return fail("word boundary");
      case "x":
      case "u": {
        const digits = char === "x" ? 2 : 4;
        const hex = source.slice(at, at + digits);
        if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(hex)) return single(char);
        at += digits;
        const code = parseInt(hex, 16);
        return [[code, code]];
      }
      case "c": {
        const letter = peek();
        if (letter !== undefined && /[A-Za-z]/.test(letter)) {
          at++;
          const code = letter.charCodeAt(0) % 32;
          return [[code, code]];
        }
        at--;
        return single("\\");
      }
      default: {
        const control = CONTROL_ESCAPES[char];
        if (control !== undefined && !(char === "0" && /\d/.test(peek() ?? ""))) return [[control, control]];
        if (/\d/.test(char)) return fail("backreference or octal escape");
        return single(char);
      }
    }
  };

  const tree = alternation();
  if (at !== source.length) fail("unbalanced parenthesis");
  return tree;
}
