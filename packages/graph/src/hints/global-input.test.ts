import { describe, expect, test } from "vitest";
import { inputOf, ran, type TaskSketch } from "../test-support/input.js";
import { globalInput } from "./global-input.js";

const packages = (n: number): TaskSketch[] => Array.from({ length: n }, (_, i) => ({ name: `p${i}`, inputs: [`p${i}/**`, "tsconfig.json"] }));

describe("global-input", () => {
  test("23.3: a file that is an input of at least 10 tasks and a quarter of them is an info with their summed time", () => {
    const tasks = packages(12);
    const inputFiles = new Map(tasks.map((task, i) => [task.name, [`p${i}/a.ts`, "tsconfig.base.json", "tsconfig.json"]]));
    const history = new Map(tasks.slice(0, 10).map((task) => [task.name, ran(100)]));
    const input = inputOf([...tasks, { name: "all", kind: "group", deps: tasks.map((task) => task.name) }, { name: "after", deps: ["p0"] }], { inputFiles, history });
    expect(globalInput(input)).toEqual([
      {
        code: "global-input",
        severity: "info",
        tasks: tasks.map((task) => task.name),
        message: "tsconfig.base.json (and 1 more file read by the same tasks) is an input of 12 of 13 tasks: one edit reruns them all, 1.0s of recorded work (2 with no recorded time), and up to 1 more downstream",
        evidence: { files: ["tsconfig.base.json", "tsconfig.json"], fileCount: 2, tasks: 12, of: 13, summedMs: 1000, unknownDurations: 2, downstream: 1 },
        savingMs: 1000,
        fix: "remove these files from the inputs of the tasks that do not read them, or split them so that an edit reaches fewer tasks",
      },
    ]);
  });

  test("23.3: clean: a shared file below the thresholds gives no hint", () => {
    const few = packages(9);
    expect(globalInput(inputOf(few, { inputFiles: new Map(few.map((task) => [task.name, ["tsconfig.json"]])) }))).toEqual([]);
    // Twelve of fifty tasks: at least ten, but under a quarter.
    const many = packages(50);
    const inputFiles = new Map(many.map((task, i) => [task.name, i < 12 ? ["tsconfig.json", `p${i}/a.ts`] : [`p${i}/a.ts`]]));
    expect(globalInput(inputOf(many, { inputFiles }))).toEqual([]);
  });
});
