import { describe, expect, test } from "vitest";
import { crossingGlobs } from "./index.js";

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
