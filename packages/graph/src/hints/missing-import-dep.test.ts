import { describe, expect, test } from "vitest";
import { inputOf, type TaskSketch } from "../test-support/input.js";
import { missingImportDep } from "./missing-import-dep.js";

const packages = [
  { name: "@ws/util", dir: "packages/util" },
  { name: "@ws/app", dir: "packages/app" },
];

function workspace(appDeps: string[], imports: Record<string, string[]>, extra: TaskSketch[] = []) {
  return inputOf(
    [
      { name: "build:util", cwd: "packages/util", inputs: ["packages/util/src/**"], outputs: ["packages/util/dist/**"] },
      { name: "test:util", cwd: "packages/util", deps: ["build:util"], inputs: ["packages/util/test/**"], outputs: ["packages/util/coverage/**"] },
      { name: "build:app", cwd: "packages/app", deps: appDeps, inputs: ["packages/app/src/**"], outputs: ["packages/app/dist/**"] },
      ...extra,
    ],
    {
      packages,
      inputFiles: new Map([
        ["build:util", ["packages/util/src/index.ts"]],
        ["build:app", Object.keys(imports)],
      ]),
      imports: new Map(Object.entries(imports)),
    },
  );
}

describe("missing-import-dep", () => {
  test("23.3: a TypeScript input importing a workspace package whose build the task does not depend on is an error", () => {
    const input = workspace([], { "packages/app/src/main.ts": ["@ws/util", "@ws/util/sub"], "packages/app/src/b.ts": ["@ws/util"] });
    expect(missingImportDep(input)).toEqual([
      {
        code: "missing-import-dep",
        severity: "error",
        tasks: ["build:app", "build:util"],
        message:
          'packages/app/src/main.ts imports "@ws/util" (and 2 more imports), the workspace package in packages/util/ that "build:util" builds, but "build:app" does not depend on it: it may run before that package is built, or against an old build',
        evidence: {
          package: "@ws/util",
          packageDir: "packages/util",
          producers: ["build:util"],
          imports: [
            { file: "packages/app/src/main.ts", specifier: "@ws/util" },
            { file: "packages/app/src/main.ts", specifier: "@ws/util/sub" },
            { file: "packages/app/src/b.ts", specifier: "@ws/util" },
          ],
          importCount: 3,
        },
        savingMs: null,
        fix: 'add "build:util" to deps of "build:app"',
      },
    ]);
  });

  test("23.3: for package scripts the fix names the package.json to add the dependency to", () => {
    const input = inputOf(
      [
        { name: "@ws/util#build", cwd: "packages/util", inputs: ["packages/util/**"], outputs: ["packages/util/dist/**"] },
        { name: "@ws/app#build", cwd: "packages/app", inputs: ["packages/app/**"], outputs: ["packages/app/dist/**"] },
      ],
      { packages, inputFiles: new Map([["@ws/app#build", ["packages/app/src/main.ts"]]]), imports: new Map([["packages/app/src/main.ts", ["@ws/util"]]]) },
    );
    expect(missingImportDep(input).map((hint) => hint.fix)).toEqual([
      'add "@ws/util" to the dependencies in packages/app/package.json (so that "^" deps reach "@ws/util#build"), or add "@ws/util#build" to deps of "@ws/app#build"',
    ]);
  });

  test("23.3: clean: a dep on the build (directly or not), self imports, npm packages and source-only packages give no hint", () => {
    const direct = workspace(["build:util"], { "packages/app/src/main.ts": ["@ws/util", "@ws/app/x", "lodash", "./local", "node:fs"] });
    expect(missingImportDep(direct)).toEqual([]);
    const through = workspace(["gen"], { "packages/app/src/main.ts": ["@ws/util"] }, []);
    const withGroup = inputOf([...through.tasks.slice(0, 2), { name: "gen", kind: "group", deps: ["build:util"] }, { ...through.tasks[2]!, deps: ["gen"] }], {
      packages,
      inputFiles: through.inputFiles,
      imports: through.imports,
    });
    expect(missingImportDep(withGroup)).toEqual([]);
    const sourceOnly = inputOf([{ name: "build:app", cwd: "packages/app", inputs: ["packages/app/src/**"], outputs: ["packages/app/dist/**"] }], {
      packages,
      inputFiles: new Map([["build:app", ["packages/app/src/main.ts"]]]),
      imports: new Map([["packages/app/src/main.ts", ["@ws/util"]]]),
    });
    expect(missingImportDep(sourceOnly)).toEqual([]);
  });
});
