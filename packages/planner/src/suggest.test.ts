import { describe, expect, test } from "vitest";
import { suggest } from "./suggest.js";

describe("suggest", () => {
  test("finds typos and transpositions, nearest first", () => {
    expect(suggest("tset", ["test", "build", "lint"])).toEqual(["test"]);
    expect(suggest("biuld", ["build", "guild", "test"])).toEqual(["build"]);
    expect(suggest("tests", ["test", "tester"])).toEqual(["test", "tester"]);
  });

  test("finds names that contain what was typed", () => {
    expect(suggest("e2e", ["test:e2e", "build"])).toEqual(["test:e2e"]);
  });

  test("does not suggest unrelated short names", () => {
    expect(suggest("zz", ["a", "b"])).toEqual([]);
    expect(suggest("nope", ["a"])).toEqual([]);
  });
});
