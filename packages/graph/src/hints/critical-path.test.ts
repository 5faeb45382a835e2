import { describe, expect, test } from "vitest";
import { inputOf, ran } from "../test-support/input.js";
import { criticalPathHint } from "./critical-path.js";

describe("critical-path", () => {
  test("23.3: the chain, its recorded length against total work, and the bounds with unlimited and -j cores", () => {
    const input = inputOf(
      [
        { name: "gen" },
        { name: "lib", deps: ["gen"] },
        { name: "docs" },
        { name: "lint" },
        { name: "app", deps: ["lib"] },
        { name: "all", kind: "group", deps: ["app", "docs", "lint"] },
      ],
      { jobs: 2, history: new Map([["gen", ran(100)], ["lib", ran(900, 1100)], ["docs", ran(700)], ["lint", ran(800)]]) },
    );
    expect(criticalPathHint(input)).toEqual([
      {
        code: "critical-path",
        severity: "info",
        tasks: ["gen", "lib", "app", "all"],
        message:
          "the critical path is 4 tasks taking 1.1s of 2.6s total work (1 of its tasks have no recorded time and count 0): no number of cores makes the build more than 2.36x faster than one core, and -j 2 at most 2x",
        evidence: {
          tasks: ["gen", "lib", "app", "all"],
          ms: 1100,
          totalWorkMs: 2600,
          speedupBound: 2.36,
          jobs: 2,
          speedupBoundWithJobs: 2,
          unknown: ["app"],
          longest: { task: "lib", ms: 1000 },
        },
        savingMs: null,
        fix: 'to make the build faster, make "lib" (1.0s, the longest task on the path) faster or split it into tasks that can run side by side',
      },
    ]);
  });

  test("23.3: with nothing recorded it is the longest chain by tasks, and says to build first", () => {
    const input = inputOf([{ name: "a" }, { name: "b", deps: ["a"] }, { name: "c" }]);
    expect(criticalPathHint(input).map((hint) => [hint.tasks, hint.message, hint.fix])).toEqual([
      [["a", "b"], "the longest chain is 2 tasks, with no recorded durations yet: build once to measure it", "run a build, then `rbuild graph` again to see where the time goes"],
    ]);
  });

  test("23.3: clean: a graph of groups only has no critical path hint", () => {
    expect(criticalPathHint(inputOf([{ name: "all", kind: "group" }]))).toEqual([]);
  });
});
