import { describe, expect, test } from "vitest";
import { globMatcher } from "./expand-globs.js";
import { GlobAutomaton } from "./glob-automaton.js";
import { overlappingOutputs } from "./glob-overlap.js";
import { commonSegment, segmentOverlap, simpleGlob } from "./segment-overlap.js";

const exact = (a: string[], b: string[]): string | undefined => {
  const automaton = new GlobAutomaton();
  return automaton.commonPath(automaton.compile(a), automaton.compile(b));
};

/** A small LCG (Numerical Recipes): deterministic, enough to vary patterns. */
function randomness(seed: number): { random: (n: number) => number; pick: <T>(items: readonly T[]) => T } {
  const random = (n: number): number => {
    seed = (seed * 1664525 + 1013904223) % 2 ** 32;
    return seed % n;
  };
  return { random, pick: (items) => items[random(items.length)]! };
}

describe("segmentOverlap", () => {
  test("overlap2: simple globs get a shortest common path, none, hidden or unknown", () => {
    const verdict = (a: string, b: string) => segmentOverlap(simpleGlob(a), simpleGlob(b));
    expect(
      [
        ["**/*.map", "pkg-0/dist/**"],
        ["**/*.map", "pkg-0/lib/*.js"],
        ["*.log", "pkg-0/dist/**"],
        ["dist/*.js", "dist/a*"],
        ["out/**/x?", "out/*/xy"],
        ["**", "**"],
        ["a/**", "a"],
        ["*", ".env"], // only a hidden segment: the automaton's to answer
        ["*", "[ab]"], // not simple
        ["**.js", "a/b.js"], // `**` inside a segment is not simple
        ["a/./b", "a/b"],
        ["b*/**", "bx"],
        ["*.*", "a."],
      ].map(([a, b]) => verdict(a!, b!)),
    ).toEqual([
      { kind: "path", path: "pkg-0/dist/x.map" },
      { kind: "none" },
      { kind: "none" },
      { kind: "path", path: "dist/a.js" },
      { kind: "path", path: "out/x/xy" },
      { kind: "path", path: "x" },
      { kind: "path", path: "a" },
      { kind: "hidden" },
      { kind: "unknown" },
      { kind: "unknown" },
      { kind: "unknown" },
      { kind: "none" },
      { kind: "unknown" },
    ]);
    expect([commonSegment("*.js", "a*", true), commonSegment("*", "*.map", true), commonSegment("*", "*.map", false), commonSegment("a?", "*b", true)]).toEqual([
      "a.js",
      "x.map",
      ".map",
      "ab",
    ]);
  });

  test("overlap2: random simple glob pairs agree with the automaton, verdict and length", () => {
    const { random, pick } = randomness(2_2);
    const piece = (): string => pick(["a", "b", ".", "*", "?", "a", "b", "x", "*", "-", "~"]);
    const segment = (): string => (random(5) === 0 ? "**" : Array.from({ length: 1 + random(3) }, piece).join(""));
    const glob = (): string => {
      const made = Array.from({ length: 1 + random(4) }, segment).join("/");
      // A glob with a wildcard: globMatcher would widen one without (`a` also means `a/**`).
      return simpleGlob(made) === undefined || !/[*?]/.test(made) ? glob() : made;
    };
    const disagreements: string[] = [];
    const stats = { path: 0, none: 0, hidden: 0, unknown: 0 };
    for (let round = 0; round < 400; round++) {
      const a = glob();
      const b = glob();
      const verdict = segmentOverlap(simpleGlob(a), simpleGlob(b));
      stats[verdict.kind]++;
      const found = exact([a], [b]);
      if (verdict.kind === "none" && found !== undefined) disagreements.push(`${a} ${b}: none, but ${found}`);
      if (verdict.kind === "path") {
        if (found === undefined) disagreements.push(`${a} ${b}: ${verdict.path}, but none`);
        else if (found.length !== verdict.path.length) disagreements.push(`${a} ${b}: ${verdict.path}, but ${found} is shortest`);
        if (!(globMatcher([a])(verdict.path) && globMatcher([b])(verdict.path))) disagreements.push(`${a} ${b}: ${verdict.path} is not common`);
      }
    }
    // The generator makes every verdict common enough to be tested.
    expect([stats.path > 100, stats.none > 100, stats.hidden < 100]).toEqual([true, true, true]);
    expect(disagreements).toEqual([]);
  }, 120_000);
});

describe("overlappingOutputs, filtered", () => {
  test("overlap2: random task pairs get the automaton's verdict, and its length when every glob is simple", () => {
    const { random, pick } = randomness(2_3);
    const piece = (): string => pick(["a", "b", ".", "*", "?", "a", "b", "*", "[ab]", "{a,b}"]);
    const segment = (): string => (random(5) === 0 ? "**" : Array.from({ length: 1 + random(2) }, piece).join(""));
    const glob = (): string => Array.from({ length: 1 + random(3) }, segment).join("/");
    const patterns = (): string[] => {
      const made = [glob(), ...(random(3) === 0 ? [glob()] : []), ...(random(3) === 0 ? [`!${glob()}`] : [])];
      return made.some((pattern) => /^!?[./]*$/.test(pattern)) ? patterns() : made;
    };
    const disagreements: string[] = [];
    const stats = { overlap: 0, none: 0 };
    for (let round = 0; round < 300; round++) {
      const a = patterns();
      const b = patterns();
      const found = overlappingOutputs([
        { task: "a", patterns: a },
        { task: "b", patterns: b },
      ])[0]?.path;
      const expected = exact(a, b);
      if (found === undefined) stats.none++;
      else stats.overlap++;
      if ((found === undefined) !== (expected === undefined)) disagreements.push(`${a} | ${b}: ${found} against ${expected}`);
      if (found !== undefined && !(globMatcher(a)(found) && globMatcher(b)(found))) disagreements.push(`${a} | ${b}: ${found} is not common`);
      const simple = [...a, ...b].every((pattern) => simpleGlob(pattern.replace(/^!/, "")) !== undefined);
      if (simple && found !== undefined && expected !== undefined && found.length !== expected.length) disagreements.push(`${a} | ${b}: ${found} longer than ${expected}`);
    }
    expect([stats.overlap > 80, stats.none > 80]).toEqual([true, true]);
    expect(disagreements).toEqual([]);
  }, 120_000);

  test("overlap2: random workspaces of several tasks get every overlapping pair the automaton finds, and no other", () => {
    const { random, pick } = randomness(2_4);
    const piece = (): string => pick(["a", "b", "*", "?", "a", "b", "*", ".", "[ab]"]);
    const segment = (): string => (random(5) === 0 ? "**" : Array.from({ length: 1 + random(2) }, piece).join(""));
    const glob = (): string => Array.from({ length: 1 + random(3) }, segment).join("/");
    const patterns = (): string[] => {
      const made = [glob(), ...(random(2) === 0 ? [glob()] : []), ...(random(4) === 0 ? [`!${glob()}`] : [])];
      return made.some((pattern) => /^!?[./]*$/.test(pattern)) ? patterns() : made;
    };
    const disagreements: string[] = [];
    let overlapping = 0;
    for (let round = 0; round < 60; round++) {
      const sets = Array.from({ length: 4 }, (_, n) => ({ task: `t${n}`, patterns: patterns() }));
      const found = overlappingOutputs(sets).map((overlap) => `${overlap.first.task} ${overlap.second.task}`);
      const expected: string[] = [];
      for (let a = 0; a < sets.length; a++) {
        for (let b = a + 1; b < sets.length; b++) if (exact(sets[a]!.patterns, sets[b]!.patterns) !== undefined) expected.push(`t${a} t${b}`);
      }
      overlapping += expected.length;
      if (JSON.stringify([...found].sort()) !== JSON.stringify(expected)) disagreements.push(`${JSON.stringify(sets.map((set) => set.patterns))}: ${found} against ${expected}`);
    }
    expect(overlapping > 60).toBe(true);
    expect(disagreements).toEqual([]);
  }, 120_000);
});
