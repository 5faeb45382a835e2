import { describe, expect, test } from "vitest";
import { analyse } from "./analyse.js";
import { inputOf } from "./test-support/input.js";

// lib is a dep of app#build outside the focus; gen (outside the plan) writes what app#build reads.
const input = (focus: ReadonlySet<string> | undefined) =>
  inputOf(
    [
      { name: "lib", inputs: ["lib/**", "node_modules/**"], outputs: ["lib-out/**"] },
      { name: "app#build", deps: ["lib"], inputs: ["app/src/**"], outputs: ["app/dist/**"] },
    ],
    {
      outside: [{ name: "gen", kind: "pure", deps: [], inputs: [], outputs: ["app/src/gen/api.ts"], cwd: "" }],
      inputFiles: new Map([
        ["lib", ["lib/a.js", "node_modules/x/index.js"]],
        ["app#build", ["app/src/gen/api.ts", "app/src/main.ts"]],
      ]),
      outputFiles: new Map([["gen", ["app/src/gen/api.ts"]]]),
      focus,
    },
  );

describe("focus (rbuild graph --filter)", () => {
  test("23.filter: hints only about the focused tasks; the graph, the critical path and a writer outside the plan still count", () => {
    const all = analyse(input(undefined));
    expect(all.hints.map((hint) => [hint.code, hint.tasks])).toEqual([
      ["missing-dep", ["app#build", "gen"]],
      ["broad-input", ["lib"]],
      ["critical-path", ["lib", "app#build"]],
    ]);
    const focused = analyse(input(new Set(["app#build"])));
    expect(focused.tasks.map((task) => task.name)).toEqual(["lib", "app#build"]);
    expect(focused.criticalPath).toEqual(all.criticalPath);
    expect(focused.hints).toEqual(all.hints.filter((hint) => hint.code !== "broad-input"));
    expect(analyse(input(new Set(["lib"]))).hints.map((hint) => hint.code)).toEqual(["broad-input", "critical-path"]);
  });
});
