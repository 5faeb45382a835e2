import { describe, expect, test } from "vitest";
import { inputOf, ran } from "../test-support/input.js";
import { broadInput } from "./broad-input.js";

describe("broad-input", () => {
  test("23.3: inputs matching files under node_modules/ are a warning naming how many", () => {
    const input = inputOf([{ name: "build", inputs: ["**/*.js"] }], {
      inputFiles: new Map([["build", ["node_modules/a/index.js", "node_modules/a/lib.js", "node_modules/b/x.js", "src/main.js"]]]),
    });
    expect(broadInput(input)).toEqual([
      {
        code: "broad-input",
        severity: "warning",
        tasks: ["build"],
        message: '"build" has input globs ("**/*.js") that match 3 files under node_modules/, such as node_modules/a/index.js: every one is hashed, and reinstalling reruns the task',
        evidence: { task: "build", reaches: "node_modules", globs: ["**/*.js"], files: 3, examples: ["node_modules/a/index.js", "node_modules/a/lib.js", "node_modules/b/x.js"] },
        savingMs: null,
        fix: 'add "!**/node_modules/**" to the inputs of "build" (the lockfile, as an input, stands for what is installed)',
      },
    ]);
  });

  test("23.3: inputs matching the task's own outputs are a warning saving its recorded time", () => {
    const onDisk = inputOf([{ name: "build", inputs: ["src/**", "out/**"], outputs: ["out/bundle.js"] }], {
      inputFiles: new Map([["build", ["out/bundle.js", "src/a.js"]]]),
      outputFiles: new Map([["build", ["out/bundle.js"]]]),
      history: new Map([["build", ran(800, 1000, 1200)]]),
    });
    expect(broadInput(onDisk)).toEqual([
      {
        code: "broad-input",
        severity: "warning",
        tasks: ["build"],
        message: '"build" has an input glob ("out/**") that matches its own output out/bundle.js ("out/bundle.js"): each run changes its inputs, so it never comes from the cache',
        evidence: { task: "build", reaches: "own-outputs", input: "out/**", output: "out/bundle.js", path: "out/bundle.js", onDisk: true },
        savingMs: 1000,
        fix: 'add "!out/bundle.js" to the inputs of "build"',
      },
    ]);
    const unbuilt = inputOf([{ name: "gen", inputs: ["src/**"], outputs: ["src/generated/**"] }]);
    expect(broadInput(unbuilt).map((hint) => hint.evidence)).toEqual([
      { task: "gen", reaches: "own-outputs", input: "src/**", output: "src/generated/**", path: "src/generated/x", onDisk: false },
    ]);
  });

  test("23.3: globs under .git/ or the store match nothing, and say so", () => {
    const input = inputOf([{ name: "version", inputs: [".git/HEAD", ".rbuild/index.sqlite"] }]);
    expect(broadInput(input).map((hint) => [hint.evidence.reaches, hint.fix])).toEqual([
      [".git", 'remove ".git/HEAD" from the inputs of "version" (to key on the commit, pass it in through an env variable)'],
      ["store", 'remove ".rbuild/index.sqlite" from the inputs of "version"'],
    ]);
  });

  test("23.3: clean: source globs that exclude outputs and node_modules give no hint", () => {
    const input = inputOf(
      [
        { name: "build", inputs: ["src/**", "package.json"], outputs: ["dist/**"] },
        { name: "pkg", inputs: ["packages/a/**", "!packages/a/node_modules/**", "!packages/a/dist/**"], outputs: ["packages/a/dist/**"] },
      ],
      { inputFiles: new Map([["build", ["package.json", "src/a.ts"]], ["pkg", ["packages/a/src/x.ts"]]]), outputFiles: new Map([["pkg", ["packages/a/dist/x.js"]]]) },
    );
    expect(broadInput(input)).toEqual([]);
  });
});
