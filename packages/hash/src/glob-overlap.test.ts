import { describe, expect, test } from "vitest";
import { overlappingOutputs } from "./index.js";

const overlaps = (sets: Record<string, string[]>) =>
  overlappingOutputs(Object.entries(sets).map(([task, patterns]) => ({ task, patterns }))).map((o) => `${o.first.task}:${o.first.glob} ${o.second.task}:${o.second.glob} @ ${o.path}`);

describe("overlappingOutputs", () => {
  test("20.3: finds globs that can match the same path, with a path both match", () => {
    expect(overlaps({ a: ["dist/**"], b: ["dist/b.txt"] })).toEqual(["a:dist/** b:dist/b.txt @ dist/b.txt"]);
    expect(overlaps({ a: ["out"], b: ["out/*.js"] })).toEqual(["a:out b:out/*.js @ out/x.js"]);
    expect(overlaps({ a: ["**/*.o"], b: ["src/main.o"] })).toEqual(["a:**/*.o b:src/main.o @ src/main.o"]);
    expect(overlaps({ a: ["build/{lib,bin}/**"], b: ["build/lib/x.so"] })).toEqual(["a:build/{lib,bin}/** b:build/lib/x.so @ build/lib/x.so"]);
    expect(overlaps({ a: ["dist/**"], b: ["lib/**"], c: ["dist/c/**"] })).toEqual(["a:dist/** c:dist/c/** @ dist/c"]);
  });

  test("20.3: globs that cannot overlap are left alone, excludes included", () => {
    expect(overlaps({ a: ["dist/*.js"], b: ["dist/*.css"], c: ["dist-c/**"], d: ["distro"] })).toEqual([]);
    expect(overlaps({ a: ["dist/**", "!dist/b.txt"], b: ["dist/b.txt"] })).toEqual([]);
    expect(overlaps({ a: ["pkg-1/out/**"], b: ["pkg-2/out/**"], c: ["pkg-10/out/**"] })).toEqual([]);
    expect(overlaps({ a: ["dist/**", "dist/extra"] })).toEqual([]);
  });
});

describe("overlappingOutputs, exactly", () => {
  test("20.3: globs that share a path only through their wildcards overlap", () => {
    expect(overlaps({ a: ["dist/*.js"], b: ["dist/a*"] })).toEqual(["a:dist/*.js b:dist/a* @ dist/a.js"]);
    expect(overlaps({ a: ["out/**/x?"], b: ["out/*/xy"] })).toEqual(["a:out/**/x? b:out/*/xy @ out/x/xy"]);
    expect(overlaps({ a: ["{a,b}*.txt"], b: ["*c.txt"] })).toEqual(["a:{a,b}*.txt b:*c.txt @ ac.txt"]);
    expect(overlaps({ a: ["[a-m]*"], b: ["[k-z]*"] })).toEqual(["a:[a-m]* b:[k-z]* @ k"]);
  });
});

describe("overlappingOutputs, filtered before the automaton", () => {
  const packages = (count: number): Record<string, string[]> =>
    Object.fromEntries(Array.from({ length: count }, (_, n) => [`pkg-${n}`, [`pkg-${n}/dist/**`, `pkg-${n}/lib/*.js`]]));

  test("overlap2: a root-level glob is decided against many packages, with each pair's shortest path", () => {
    expect(overlaps({ ...packages(3), logs: ["*.log"] })).toEqual([]);
    expect(overlaps({ ...packages(3), maps: ["**/*.map"] })).toEqual([
      "pkg-0:pkg-0/dist/** maps:**/*.map @ pkg-0/dist/x.map",
      "pkg-1:pkg-1/dist/** maps:**/*.map @ pkg-1/dist/x.map",
      "pkg-2:pkg-2/dist/** maps:**/*.map @ pkg-2/dist/x.map",
    ]);
  });

  test("overlap2: pairs the segment check cannot settle still get the automaton's answer", () => {
    // The shortest simple path is excluded; only hidden common paths; a glob that is not simple.
    expect(overlaps({ a: ["dist/**", "!dist/x.js"], b: ["dist/*.js"] })).toEqual(["a:dist/** b:dist/*.js @ dist/a.js"]);
    expect(overlaps({ a: ["*"], b: [".env"] })).toEqual(["a:* b:.env @ .env"]);
    expect(overlaps({ a: ["{a,b}/*.js"], b: ["b/x.js"] })).toEqual(["a:{a,b}/*.js b:b/x.js @ b/x.js"]);
    expect(overlaps({ a: ["out/**", "!out/*.map"], b: ["**/*.map"] })).toEqual(["a:out/** b:**/*.map @ out/x/x.map"]);
    // A pair with only hidden common paths (`.*/.*/.b`) does not hide the shortest visible one of another.
    expect(overlaps({ a: ["**/?b/**", "*/b*"], b: ["**/b/b*", ".*/.*/.b"] })).toEqual(["a:*/b* b:**/b/b* @ b/b"]);
  });
});
