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
