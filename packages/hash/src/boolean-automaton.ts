/**
 * Regular expressions with lookaheads, intersection and complement, decided
 * by lazy determinisation: the engine under glob-automaton.ts.
 *
 * Each expression becomes a Thompson NFA (`char`, `split`, the assertions
 * `start` `end` `look`, and `accept`). A state of the determinised machine is
 * a *formula*: an OR of conjunctions of literals, where a literal is
 *
 * - a `char` node n: the suffix starts with a character n reads, and the rest
 *   is accepted from n's successor;
 * - `EPS`: the suffix is empty (what `$` asks for);
 * - `NOT F`: the suffix is not accepted by formula F (a negative lookahead,
 *   or an excluded glob).
 *
 * An empty conjunction is TRUE (`accept`: a regex matched a prefix and is
 * done, as `exec` is; the rest may be anything), an empty OR is FALSE. The
 * epsilon closure of a node is a formula: `split` ORs, a positive lookahead
 * ANDs its own closure in, a negative one adds `NOT` of it, `start` passes
 * only at position 0, `end` adds `EPS`. Reading a character c replaces each
 * `char` literal by the closure of its successor (or FALSE), `EPS` by FALSE
 * and `NOT F` by `NOT d(F, c)`, then redistributes into an OR of
 * conjunctions. A formula accepts the empty string when some conjunction has
 * only `EPS` and `NOT F` literals with F not accepting it.
 *
 * Invariants: formulas and conjunctions are interned (sorted, deduplicated,
 * absorbed: a conjunction that contains another is dropped), so equal states
 * get equal ids; there are finitely many, since every literal is a node of a
 * finite NFA or `NOT` of a formula of a strictly inner lookahead. Derivatives
 * are taken by a representative code unit of each alphabet atom; callers
 * must split the alphabet at every `cuts()` of the expressions involved, so
 * that every unit of an atom behaves like its representative.
 */
import { cuts, has, type CharSet } from "./char-set.js";
import type { Regex } from "./regex-syntax.js";

type Node =
  | { readonly kind: "char"; readonly set: CharSet; readonly next: number }
  | { readonly kind: "split"; readonly next: number[] }
  | { readonly kind: "start" | "end"; readonly next: number }
  | { readonly kind: "look"; readonly negative: boolean; readonly sub: number; readonly next: number }
  | { readonly kind: "accept" };

/** A formula's id. */
export type Formula = number;

const EPS = -1;
/** A literal: a `char` node id (>= 0), EPS, or NOT of a formula (-2 - id). */
const notOf = (formula: Formula): number => -2 - formula;

export class BooleanAutomaton {
  readonly #nodes: Node[] = [];
  readonly #conjunctions: number[][] = [];
  readonly #conjunctionIds = new Map<string, number>();
  readonly #formulas: number[][] = [];
  readonly #formulaIds = new Map<string, Formula>();
  readonly #closures = new Map<number, Formula>();
  /** By formula, then code unit (two levels: the keys stay small integers, which Maps hash fast). */
  readonly #derivatives: Map<number, Formula>[] = [];
  readonly #nullable = new Map<Formula, boolean>();
  readonly FALSE: Formula;
  readonly TRUE: Formula;

  constructor() {
    this.FALSE = this.#or([]);
    this.TRUE = this.#or([this.#conjunction([])!]);
  }

  /** The formula accepting what `regex` matches from position 0 (a prefix match, as `exec` does there). */
  compile(regex: Regex): { formula: Formula; cuts: number[] } {
    const accept = this.#add({ kind: "accept" });
    const start = this.#build(regex, accept);
    const found = new Set<number>();
    for (let id = accept; id < this.#nodes.length; id++) {
      const node = this.#nodes[id]!;
      if (node.kind === "char") for (const cut of cuts(node.set)) found.add(cut);
    }
    return { formula: this.#closure(start, true), cuts: [...found] };
  }

  and(...formulas: Formula[]): Formula {
    let result = this.TRUE;
    for (const formula of formulas) {
      if (result === this.FALSE) break;
      const product: number[] = [];
      for (const a of this.#formulas[result]!) {
        for (const b of this.#formulas[formula]!) {
          const merged = this.#conjunction(this.#conjunctions[a]!.concat(this.#conjunctions[b]!));
          if (merged !== undefined) product.push(merged);
        }
      }
      result = this.#or(product);
    }
    return result;
  }

  or(...formulas: Formula[]): Formula {
    return this.#or(formulas.flatMap((formula) => this.#formulas[formula]!));
  }

  not(formula: Formula): Formula {
    if (formula === this.FALSE) return this.TRUE;
    if (formula === this.TRUE) return this.FALSE;
    return this.#or([this.#conjunction([notOf(formula)])!]);
  }

  /** What is left to accept after reading code unit `code`. */
  derive(formula: Formula, code: number): Formula {
    const known = (this.#derivatives[formula] ??= new Map());
    let result = known.get(code);
    if (result !== undefined) return result;
    const parts: Formula[] = [];
    for (const conjunction of this.#formulas[formula]!) {
      const derived: Formula[] = [];
      let dead = false;
      for (const literal of this.#conjunctions[conjunction]!) {
        const next = this.#deriveLiteral(literal, code);
        dead = next === this.FALSE;
        if (dead) break;
        if (next !== this.TRUE) derived.push(next);
      }
      if (!dead) parts.push(derived.length === 0 ? this.TRUE : derived.length === 1 ? derived[0]! : this.and(...derived));
    }
    result = parts.length === 0 ? this.FALSE : parts.length === 1 ? parts[0]! : this.or(...parts);
    known.set(code, result);
    return result;
  }

  #deriveLiteral(literal: number, code: number): Formula {
    if (literal === EPS) return this.FALSE;
    if (literal < EPS) return this.not(this.derive(-2 - literal, code));
    const node = this.#nodes[literal] as Extract<Node, { kind: "char" }>;
    return has(node.set, code) ? this.#closure(node.next, false) : this.FALSE;
  }

  /** Whether the formula accepts the empty string (the path read so far is accepted). */
  nullable(formula: Formula): boolean {
    let result = this.#nullable.get(formula);
    if (result === undefined) {
      result = this.#formulas[formula]!.some((conjunction) =>
        this.#conjunctions[conjunction]!.every((literal) => literal === EPS || (literal < EPS && !this.nullable(-2 - literal))),
      );
      this.#nullable.set(formula, result);
    }
    return result;
  }

  /**
   * The strings every one of the formulas accepts, shortest first, one for
   * each accepting state reached: breadth-first over the states reachable,
   * each derived on first visit, over the given alphabet atoms (one
   * representative code unit each, tried in the order given: ties go to the
   * earlier atoms). The first is a shortest string in the intersection; there
   * is none when the intersection is empty. The conjunction is kept as a tuple
   * of formulas, one per operand, rather than distributed into one formula:
   * the operands' threads are never multiplied out, and each operand's
   * derivatives are memoised for every other pair it takes part in.
   */
  *accepted(formulas: readonly Formula[], atoms: readonly number[]): Generator<string> {
    const first = formulas.includes(this.FALSE) ? undefined : formulas;
    if (first === undefined) return;
    const reached = new Map<string, { from: string; code: number } | undefined>([[first.join(" "), undefined]]);
    const queue: (readonly Formula[])[] = [first];
    for (let next = 0; next < queue.length; next++) {
      const state = queue[next]!;
      const key = state.join(" ");
      if (state.every((formula) => this.nullable(formula))) {
        const codes: number[] = [];
        for (let step = reached.get(key); step !== undefined; step = reached.get(step.from)) codes.push(step.code);
        yield String.fromCharCode(...codes.reverse());
      }
      for (const code of atoms) {
        const after: Formula[] = [];
        for (const formula of state) {
          const derived = this.derive(formula, code);
          if (derived === this.FALSE) break;
          after.push(derived);
        }
        if (after.length < state.length) continue;
        const afterKey = after.join(" ");
        if (!reached.has(afterKey)) {
          reached.set(afterKey, { from: key, code });
          queue.push(after);
        }
      }
    }
  }

  #add(node: Node): number {
    this.#nodes.push(node);
    return this.#nodes.length - 1;
  }

  /** The NFA for `regex` followed by node `next`; returns its first node. */
  #build(regex: Regex, next: number): number {
    switch (regex.kind) {
      case "set":
        return this.#add({ kind: "char", set: regex.set, next });
      case "seq":
        return regex.items.reduceRight((after, item) => this.#build(item, after), next);
      case "alt":
        return this.#add({ kind: "split", next: regex.items.map((item) => this.#build(item, next)) });
      case "start":
      case "end":
        return this.#add({ kind: regex.kind, next });
      case "look": {
        const sub = this.#build(regex.item, this.#add({ kind: "accept" }));
        return this.#add({ kind: "look", negative: regex.negative, sub, next });
      }
      case "repeat": {
        let after = next;
        if (regex.max === Infinity) {
          const loop: Extract<Node, { kind: "split" }> = { kind: "split", next: [] };
          after = this.#add(loop);
          loop.next.push(this.#build(regex.item, after), next);
        } else {
          for (let optional = regex.min; optional < regex.max; optional++) {
            after = this.#add({ kind: "split", next: [this.#build(regex.item, after), next] });
          }
        }
        for (let required = 0; required < regex.min; required++) after = this.#build(regex.item, after);
        return after;
      }
    }
  }

  /** The formula for "accepted from node `start`", at position 0 or later. */
  #closure(start: number, atStart: boolean): Formula {
    const key = start * 2 + (atStart ? 1 : 0);
    const known = this.#closures.get(key);
    if (known !== undefined) return known;
    const found: number[] = [];
    const onPath = new Set<number>();
    // A path round an epsilon loop only adds literals, so its conjunction is absorbed: skip it.
    const visit = (id: number, literals: number[]): void => {
      if (onPath.has(id)) return;
      const node = this.#nodes[id]!;
      if (node.kind === "char" || node.kind === "accept") {
        const conjunction = this.#conjunction(node.kind === "char" ? [...literals, id] : literals);
        if (conjunction !== undefined) found.push(conjunction);
        return;
      }
      onPath.add(id);
      switch (node.kind) {
        case "split":
          for (const next of node.next) visit(next, literals);
          break;
        case "start":
          if (atStart) visit(node.next, literals);
          break;
        case "end":
          visit(node.next, [...literals, EPS]);
          break;
        case "look": {
          const inner = this.#closure(node.sub, atStart);
          const look = node.negative ? this.not(inner) : inner;
          for (const conjunction of this.#formulas[look]!) visit(node.next, [...literals, ...this.#conjunctions[conjunction]!]);
        }
      }
      onPath.delete(id);
    };
    visit(start, []);
    const formula = this.#or(found);
    this.#closures.set(key, formula);
    return formula;
  }

  /** The interned conjunction of these literals, or undefined when it is FALSE (`EPS` and a `char`; `not` folds NOT TRUE). */
  #conjunction(literals: number[]): number | undefined {
    const sorted = [...new Set(literals)].sort((a, b) => a - b);
    if (sorted[0] === EPS && sorted.some((literal) => literal >= 0)) return undefined;
    const key = sorted.join(",");
    let id = this.#conjunctionIds.get(key);
    if (id === undefined) {
      id = this.#conjunctions.push(sorted) - 1;
      this.#conjunctionIds.set(key, id);
    }
    return id;
  }

  #or(conjunctions: number[]): Formula {
    const unique = [...new Set(conjunctions)].sort((a, b) => a - b);
    const kept = unique.filter((id) => !unique.some((other) => other !== id && this.#contains(this.#conjunctions[id]!, this.#conjunctions[other]!)));
    const key = kept.join(",");
    let id = this.#formulaIds.get(key);
    if (id === undefined) {
      id = this.#formulas.push(kept) - 1;
      this.#formulaIds.set(key, id);
    }
    return id;
  }

  /** Whether sorted `outer` has every literal of sorted `inner`. */
  #contains(outer: readonly number[], inner: readonly number[]): boolean {
    if (inner.length > outer.length) return false;
    let at = 0;
    for (const literal of inner) {
      while (at < outer.length && outer[at]! < literal) at++;
      if (outer[at] !== literal) return false;
    }
    return true;
  }
}
