import { describe, expect, test } from "vitest";
import { globMatcher } from "./expand-globs.js";
import { GlobAutomaton } from "./glob-automaton.js";

const HIDDEN = /(?:^|\/)\./;

const common = (a: string[], b: string[]): string | undefined => {
  const automaton = new GlobAutomaton();
  return automaton.commonPath(automaton.compile(a), automaton.compile(b));
};

describe("GlobAutomaton", () => {
  test("20.3: a shortest common path, through wildcards, classes, braces and extglobs", () => {
    expect(
      [
        [["dist/*.js"], ["dist/a*"]],
        [["out/**/y?"], ["out/*/?z"]],
        [["{a,b}*.txt"], ["*c.txt"]],
        [["x[a-m]"], ["x[^a-f]"]],
        [["@(a|b)*.js"], ["*b.js"]],
        [["a/!(b)/c"], ["a/*/c"]],
        [["+(ab)"], ["aba*"]],
        [["out"], ["out/*.js"]],
        [["**/*.o"], ["src/main.o"]],
        [["./gen/"], ["gen/**/*.d.ts"]],
        [["**"], [".env"]],
      ].map(([a, b]) => common(a!, b!)),
    ).toEqual(["dist/a.js", "out/x/yz", "ac.txt", "xg", "b.js", "a/x/c", "abab", "out/x.js", "src/main.o", "gen/x.d.ts", ".env"]);
  });

  test("20.3: globs that cannot match a common path have none, excludes and picomatch's quirks included", () => {
    expect(
      [
        [["dist/*.js"], ["dist/*.css"]],
        [["a/**", "!a/b/**"], ["a/b/c"]],
        [["a/!(b)/c"], ["a/b/c"]],
        [["x[!a]"], ["xb"]], // picomatch reads `[!a]` as the class of `!` and `a`
        [["!(*.d).ts"], ["a.d.ts"]],
        [["**"], [".git/x"]], // .git is never matched
        [["*"], ["a/b"]],
        [["a/**b"], ["a/x/b"]],
      ].map(([a, b]) => common(a!, b!)),
    ).toEqual([undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  test("20.3: random pattern pairs agree with brute force over every short path", () => {
    let seed = 20_3;
    const random = (n: number): number => {
      // A small LCG (Numerical Recipes): deterministic, enough to vary patterns.
      seed = (seed * 1664525 + 1013904223) % 2 ** 32;
      return seed % n;
    };
    const pick = <T>(items: readonly T[]): T => items[random(items.length)]!;
    const piece = (): string => pick(["a", "b", ".", "*", "?", "[ab]", "{a,b}", "a", "b"]);
    const segment = (): string => (random(6) === 0 ? "**" : Array.from({ length: 1 + random(2) }, piece).join(""));
    const glob = (): string => Array.from({ length: 1 + random(3) }, segment).join("/");
    const patterns = (): string[] => {
      const made = [glob(), ...(random(3) === 0 ? [glob()] : []), ...(random(3) === 0 ? [`!${glob()}`] : [])];
      // `.` trims to an empty glob, which the real matcher refuses too.
      return made.some((pattern) => /^!?[./]*$/.test(pattern)) ? patterns() : made;
    };

    const names: string[] = [];
    const grow = (prefix: string, length: number): void => {
      if (length === 3) return;
      for (const char of "ab.x") {
        names.push(prefix + char);
        grow(prefix + char, length + 1);
      }
    };
    grow("", 0);
    const segments = names.filter((name) => name !== "." && name !== "..");
    const paths = [...segments];
    for (const first of segments) for (const second of segments) paths.push(`${first}/${second}`);
    const deep = segments.filter((name) => name.length <= 2);
    for (const first of deep) for (const second of deep) for (const third of deep) paths.push(`${first}/${second}/${third}`);

    paths.sort((x, y) => x.length - y.length);
    const disagreements: string[] = [];
    const stats = { overlap: 0, none: 0 };
    for (let round = 0; round < 300; round++) {
      const a = patterns();
      const b = patterns();
      const matchA = globMatcher(a);
      const matchB = globMatcher(b);
      const brute = paths.find((path) => matchA(path) && matchB(path));
      const found = common(a, b);
      if (found === undefined) stats.none++; else stats.overlap++;
      if (found !== undefined && !(matchA(found) && matchB(found))) disagreements.push(`${a} ${b}: ${found} is not common`);
      if (brute !== undefined && found === undefined) disagreements.push(`${a} ${b}: missed ${brute}`);
      // Shortest, among paths with no hidden segment when there is one.
      const shortest = HIDDEN.test(found ?? "") ? brute : paths.find((path) => !HIDDEN.test(path) && matchA(path) && matchB(path));
      if (found !== undefined && shortest !== undefined && found.length > shortest.length) disagreements.push(`${a} ${b}: ${found} longer than ${shortest}`);
    }
    // The generator makes both verdicts common.
    expect([stats.overlap > 100, stats.none > 100]).toEqual([true, true]);
    expect(disagreements).toEqual([]);
  }, 120_000);
});
