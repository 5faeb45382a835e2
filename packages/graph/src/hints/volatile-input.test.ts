import { describe, expect, test } from "vitest";
import type { RecordedRun } from "../input.js";
import { inputOf, runs } from "../test-support/input.js";
import { volatileInput } from "./volatile-input.js";

/** Runs newest first, each changing the files given (`[]`: nothing changed). */
const changing = (durationMs: number, ...changed: string[][]): Partial<RecordedRun>[] => changed.map((changedInputs) => ({ durationMs, changedInputs }));

describe("volatile-input", () => {
  test("23.3: an input that changed in at least 4 of the last 5 runs is a warning naming the file, its rate and what it reruns", () => {
    const input = inputOf(
      [
        { name: "gen", inputs: ["src/**"] },
        { name: "app", inputs: ["src/**"] },
        { name: "lib", inputs: ["lib/**"] },
      ],
      {
        inputFiles: new Map([
          ["gen", ["src/a.ts", "src/version.ts"]],
          ["app", ["src/a.ts", "src/version.ts"]],
          ["lib", ["lib/x.ts"]],
        ]),
        history: new Map([
          // version.ts changed in 5 of 5; a.ts in 2; an older sixth run is outside the window.
          ["gen", runs(...changing(200, ["src/version.ts", "src/a.ts"], ["src/version.ts"], ["src/version.ts", "src/a.ts"], ["src/version.ts"], ["src/version.ts"], ["src/a.ts"]))],
          // 4 of 5, a skipped run not counted.
          ["app", runs(...changing(300, ["src/version.ts"], [], ["src/version.ts"], ["src/version.ts"]), { status: "skipped" }, ...changing(300, ["src/version.ts"]))],
          ["lib", runs(...changing(50, ["lib/x.ts"], ["lib/x.ts"], ["lib/x.ts"], [], []))],
        ]),
      },
    );
    expect(volatileInput(input)).toEqual([
      {
        code: "volatile-input",
        severity: "warning",
        tasks: ["gen", "app"],
        message:
          'src/version.ts changed in 5 of the last 5 recorded runs of "gen", 4 of 5 of "app": a task whose input changes every build almost never comes from the cache, and reruns for 500ms each time',
        evidence: {
          path: "src/version.ts",
          tasks: [
            { task: "gen", changed: 5, runs: 5, rate: 1 },
            { task: "app", changed: 4, runs: 5, rate: 0.8 },
          ],
          ms: 500,
          unknownDurations: 0,
        },
        savingMs: 500,
        fix: 'stop src/version.ts from changing in every build (a timestamp or build number written into it?), or take it out of the inputs of "gen" and "app" with "!src/version.ts" if they do not need it',
      },
    ]);
  });

  test("23.3: clean: inputs that change now and then, too few runs, a file no longer read, and impure tasks give no hint", () => {
    const input = inputOf(
      [
        { name: "a", inputs: ["src/**"] },
        { name: "young", inputs: ["src/**"] },
        { name: "moved", inputs: ["src/**"] },
        { name: "always", kind: "impure", inputs: ["src/**"] },
      ],
      {
        inputFiles: new Map([
          ["a", ["src/a.ts"]],
          ["young", ["src/a.ts"]],
          ["moved", ["src/a.ts"]],
          ["always", ["src/a.ts"]],
        ]),
        history: new Map([
          ["a", runs(...changing(100, ["src/a.ts"], [], ["src/a.ts"], [], ["src/a.ts"], ["src/a.ts"]))],
          ["young", runs(...changing(100, ["src/a.ts"], ["src/a.ts"], ["src/a.ts"], ["src/a.ts"]))],
          ["moved", runs(...changing(100, ["src/old.ts"], ["src/old.ts"], ["src/old.ts"], ["src/old.ts"], ["src/old.ts"]))],
          ["always", runs(...changing(100, ["src/a.ts"], ["src/a.ts"], ["src/a.ts"], ["src/a.ts"], ["src/a.ts"]))],
        ]),
      },
    );
    expect(volatileInput(input)).toEqual([]);
  });
});
