import { describe, expect, test } from "vitest";
import { crossingGlobs, overlappingOutputs } from "./index.js";

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

const crossing = (left: Record<string, string[]>, right: Record<string, string[]>) =>
  crossingGlobs(
    Object.entries(left).map(([task, patterns]) => ({ task, patterns })),
    Object.entries(right).map(([task, patterns]) => ({ task, patterns })),
  ).map((o) => `${o.first.task}:${o.first.glob} ${o.second.task}:${o.second.glob} @ ${o.path}`);

describe("crossingGlobs", () => {
  test("23.3: pairs one set of each side whose globs can match a path, deeper bases filled into shallower globs", () => {
    expect(crossing({ build: ["src/**/*.ts"], lint: ["**/*.js"] }, { codegen: ["src/gen/**"], bundle: ["dist/app.js"] })).toEqual([
      "lint:**/*.js bundle:dist/app.js @ dist/app.js",
      "lint:**/*.js codegen:src/gen/** @ src/gen/x.js",
      "build:src/**/*.ts codegen:src/gen/** @ src/gen/x.ts",
    ]);
    expect(crossing({ app: ["packages/app/src/**"] }, { app: ["packages/app/**"] })).toEqual(["app:packages/app/src/** app:packages/app/** @ packages/app/src/x"]);
  });

  test("23.3: covering: only where the left globs read whatever the right ones write", () => {
    const covering = (left: Record<string, string[]>, right: Record<string, string[]>) =>
      crossingGlobs(
        Object.entries(left).map(([task, patterns]) => ({ task, patterns })),
        Object.entries(right).map(([task, patterns]) => ({ task, patterns })),
        { covering: true },
      ).map((o) => `${o.first.task}:${o.first.glob} ${o.second.task}:${o.second.glob} @ ${o.path}`);
    expect(covering({ lint: ["**/*.ts"], app: ["src/**"], read: ["**/*.js"] }, { build: ["dist/**"], gen: ["src/gen/**"], bundle: ["out/app.js"] })).toEqual([
      "read:**/*.js bundle:out/app.js @ out/app.js",
      "app:src/** gen:src/gen/** @ src/gen/x",
    ]);
  });

  test("23.3: never pairs two sets of one side, and leaves disjoint or excluded globs alone", () => {
    expect(crossing({ a: ["tsconfig.json", "a/**"], b: ["tsconfig.json", "b/**"] }, { c: ["c/out/**"] })).toEqual([]);
    expect(crossing({ a: ["src/**", "!src/gen/**"] }, { gen: ["src/gen/**"] })).toEqual([]);
    expect(crossing({ a: ["pkgs/p1/src/**"] }, { b: ["pkgs/p1/out.txt"], c: ["pkgs/p10/src/x"] })).toEqual([]);
  });
});
