import { describe, expect, test } from "vitest";
import { inputOf } from "../test-support/input.js";
import { missingDep } from "./missing-dep.js";

describe("missing-dep", () => {
  test("23.3: a task whose input globs match another task's outputs, without depending on it, is an error", () => {
    const input = inputOf([
      { name: "codegen", inputs: ["schema.json"], outputs: ["src/gen/**"] },
      { name: "build", inputs: ["src/**"], outputs: ["dist/**"] },
    ]);
    expect(missingDep(input)).toEqual([
      {
        code: "missing-dep",
        severity: "error",
        tasks: ["build", "codegen"],
        message:
          '"build" has an input glob ("src/**") that would match a path such as src/gen/x, an output of "codegen" ("src/gen/**"), but does not depend on "codegen": the two can run at once, and "build" may read a stale or half-written file',
        evidence: { reader: "build", writer: "codegen", input: "src/**", output: "src/gen/**", path: "src/gen/x", onDisk: false, files: 0 },
        savingMs: null,
        fix: 'add "codegen" to deps of "build"',
      },
    ]);
  });

  test("23.3: a file on disk is the evidence when there is one, counted", () => {
    const input = inputOf(
      [
        { name: "codegen", outputs: ["gen/api.ts", "gen/types.ts"] },
        { name: "build", inputs: ["src/**", "gen/*.ts"], outputs: ["dist/**"] },
      ],
      { inputFiles: new Map([["build", ["gen/api.ts", "gen/types.ts", "src/a.ts"]]]) },
    );
    const [hint] = missingDep(input);
    expect(hint?.evidence).toEqual({ reader: "build", writer: "codegen", input: "gen/*.ts", output: "gen/api.ts", path: "gen/api.ts", onDisk: true, files: 2 });
    expect(hint?.message).toBe('"build" reads gen/api.ts, an output of "codegen" ("gen/api.ts"), but does not depend on "codegen": the two can run at once, and "build" may read a stale or half-written file');
  });

  test("23.3: the writer may be a task outside the planned targets", () => {
    const input = inputOf([{ name: "app", inputs: ["lib/**"] }], { outside: [{ name: "vendor", kind: "pure", deps: [], inputs: [], outputs: ["lib/vendor.js"], cwd: "" }] });
    expect(missingDep(input).map((hint) => hint.fix)).toEqual(['add "vendor" to deps of "app"']);
  });

  test("23.3: reading the output of a task that depends on the reader says to exclude it, not to add a cycle", () => {
    const input = inputOf([
      { name: "lint", inputs: ["**/*.js"] },
      { name: "bundle", deps: ["lint"], inputs: ["src/**"], outputs: ["dist/app.js"] },
    ]);
    expect(missingDep(input).map((hint) => hint.fix)).toEqual(['add "!dist/app.js" to the inputs of "lint"']);
  });

  test("23.3: a built writer's files decide; globs that only could meet are no hint", () => {
    const input = inputOf(
      [
        { name: "build", inputs: ["src/**"], outputs: ["dist/**"] },
        { name: "lint", inputs: ["**/*.ts"] },
      ],
      { inputFiles: new Map([["lint", ["src/a.ts"]]]), outputFiles: new Map([["build", ["dist/a.js"]]]) },
    );
    expect(missingDep(input)).toEqual([]);
    // Not built either: the globs could meet (dist/x.ts), but nothing says the build writes .ts there.
    expect(missingDep({ ...input, outputFiles: new Map() })).toEqual([]);
    const dts = inputOf([{ name: "build", outputs: ["dist/**"] }, { name: "lint", inputs: ["**/*.ts"] }], { inputFiles: new Map([["lint", ["dist/a.d.ts", "src/a.ts"]]]), outputFiles: new Map([["build", ["dist/a.d.ts"]]]) });
    expect(missingDep(dts).map((hint) => hint.evidence.path)).toEqual(["dist/a.d.ts"]);
  });

  test("23.3: clean: deps direct or through others, disjoint and excluded globs give no hint", () => {
    const input = inputOf(
      [
        { name: "codegen", outputs: ["src/gen/**"] },
        { name: "group", kind: "group", deps: ["codegen"] },
        { name: "build", deps: ["group"], inputs: ["src/**"], outputs: ["dist/**"] },
        { name: "test", deps: ["build"], inputs: ["test/**", "dist/**"] },
        { name: "lint", inputs: ["src/**", "!src/gen/**"] },
        { name: "docs", inputs: ["docs/**"], outputs: ["site/**"] },
      ],
      { inputFiles: new Map([["build", ["src/gen/x.ts", "src/a.ts"]], ["test", ["dist/a.js"]], ["lint", ["src/a.ts"]]]) },
    );
    expect(missingDep(input)).toEqual([]);
  });
});
