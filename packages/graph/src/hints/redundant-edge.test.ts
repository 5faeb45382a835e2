import { describe, expect, test } from "vitest";
import { inputOf } from "../test-support/input.js";
import { redundantEdge } from "./redundant-edge.js";

describe("redundant-edge", () => {
  test("23.3: a direct dep that another dep already brings in is an info, with the chain", () => {
    const input = inputOf([
      { name: "util" },
      { name: "lib", deps: ["util"] },
      { name: "core", deps: ["lib"] },
      { name: "app", deps: ["core", "util"] },
    ]);
    expect(redundantEdge(input)).toEqual([
      {
        code: "redundant-edge",
        severity: "info",
        tasks: ["app", "util"],
        message: '"app" depends on "util" directly and also through "core" -> "lib"',
        evidence: { task: "app", dep: "util", chain: ["app", "core", "lib", "util"] },
        savingMs: null,
        fix: 'remove "util" from deps of "app"',
      },
    ]);
  });

  test("23.3: clean: independent deps, a group's selection and package scripts' edges give no hint", () => {
    const input = inputOf(
      [
        { name: "a" },
        { name: "b" },
        { name: "c", deps: ["a", "b"] },
        { name: "all", kind: "group", deps: ["a", "c"] },
        { name: "util#build", cwd: "packages/util" },
        { name: "lib#build", cwd: "packages/lib", deps: ["util#build"] },
        { name: "app#build", cwd: "packages/app", deps: ["lib#build", "util#build"] },
      ],
    );
    expect(redundantEdge(input)).toEqual([]);
  });
});
