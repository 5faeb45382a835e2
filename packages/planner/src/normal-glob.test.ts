import { describe, expect, test } from "vitest";
import { describeFailure, task, type TaskOptions } from "@rbuild/core";
import { defineTasks } from "./define.js";
import { normalGlob } from "./normal-glob.js";

const ROOT = "/work/ws";

/** Defines the tasks: their inputs and outputs as defined, or every failure message without its location. */
function defined(...options: TaskOptions[]): Record<string, { inputs: readonly string[]; outputs: readonly string[] }> | string[] {
  const defs = defineTasks(options.map((o) => task(o)), ROOT);
  if (!defs.ok) return defs.error.map((f) => describeFailure(f, { cwd: ROOT }).replace(/^.*normal-glob\.test\.ts:\d+:\d+: /, ""));
  return Object.fromEntries([...defs.value.tasks].map(([name, def]) => [name, { inputs: def.inputs, outputs: def.outputs }]));
}

describe("normalGlob", () => {
  test("20.N4: `.` and empty segments are removed and `..` after a plain segment folded, excludes included", () => {
    const cases = ["dist/**", "./dist/**", "dist/./a/**", "x/../dist/**", "a/b/../../c/*.js", ".//dist//", "!./dist/./cache/**", "!x/../y", ".", "./", "a/..", "@scope/pkg/../other/**", ".env", "..x/y"];
    expect(Object.fromEntries(cases.map((glob) => [glob, normalGlob(glob)]))).toEqual({
      "dist/**": { ok: true, glob: "dist/**" },
      "./dist/**": { ok: true, glob: "dist/**" },
      "dist/./a/**": { ok: true, glob: "dist/a/**" },
      "x/../dist/**": { ok: true, glob: "dist/**" },
      "a/b/../../c/*.js": { ok: true, glob: "c/*.js" },
      ".//dist//": { ok: true, glob: "dist" },
      "!./dist/./cache/**": { ok: true, glob: "!dist/cache/**" },
      "!x/../y": { ok: true, glob: "!y" },
      ".": { ok: true, glob: "**" },
      "./": { ok: true, glob: "**" },
      "a/..": { ok: true, glob: "**" },
      "@scope/pkg/../other/**": { ok: true, glob: "@scope/other/**" },
      ".env": { ok: true, glob: ".env" },
      "..x/y": { ok: true, glob: "..x/y" },
    });
  });

  test("20.N4: a glob that leaves the workspace, or has `..` after a wildcard segment, has no normal form", () => {
    const cases = ["../x", "a/../../x", "!../x", "/abs/**", "*/../x", "dist/**/../x", "src/{a,b}/../c", "a/[bc]/../d", "!*/../y", ""];
    const reasons = Object.fromEntries(
      cases.map((glob) => {
        const normal = normalGlob(glob);
        return [glob, normal.ok ? normal.glob : normal.reason];
      }),
    );
    expect(reasons).toEqual({
      "../x": "leaves",
      "a/../../x": "leaves",
      "!../x": "leaves",
      "/abs/**": "leaves",
      "*/../x": "after-wildcard",
      "dist/**/../x": "after-wildcard",
      "src/{a,b}/../c": "after-wildcard",
      "a/[bc]/../d": "after-wildcard",
      "!*/../y": "after-wildcard",
      "": "empty",
    });
  });
});

describe("defineTasks with globs not in normal form", () => {
  test("20.N4: inputs, outputs and excludes are defined in their normal form", () => {
    expect(defined({ name: "a", inputs: ["./src/**", "!src/./gen/**", "x/../tsconfig.json"], outputs: ["dist/./a/**", "!./dist/a/cache"], run: "true" })).toEqual({
      a: { inputs: ["src/**", "!src/gen/**", "tsconfig.json"], outputs: ["dist/a/**", "!dist/a/cache"] },
    });
  });

  test("20.N4: an output glob with /./ overlaps another task's dist/**: the overlap check reads the normal form", () => {
    expect(defined({ name: "all", outputs: ["dist/**"], run: "true" }, { name: "a", outputs: ["dist/./a/**"], run: "true" }, { name: "b", outputs: ["x/../dist/b.txt"], run: "true" })).toEqual([
      'Tasks "all" and "a" both declare dist/a as an output ("all" through "dist/**", "a" through "dist/a/**"). ' +
        'Each would delete and store the other\'s files: narrow one of the globs, or leave the other task\'s files out with a "!" glob.',
      'Tasks "all" and "b" both declare dist/b.txt as an output ("all" through "dist/**", "b" through "dist/b.txt"). ' +
        'Each would delete and store the other\'s files: narrow one of the globs, or leave the other task\'s files out with a "!" glob.',
    ]);
  });

  test("20.N4: a glob that cannot be normalised or leaves the workspace is a problem naming the task, the field and the glob, with what to write", () => {
    expect(defined({ name: "a", inputs: ["src/*/../x", "../shared/**"], outputs: ["!dist/**/../y", "a/../../out"], run: "true" })).toEqual([
      'Task "a": `inputs` contains "src/*/../x", where ".." follows the wildcard segment "*": which directory ".." leaves depends on what the wildcard matches; write the glob without ".." (name the directory it means)',
      'Task "a": `inputs` contains "../shared/**", which leaves the workspace; globs must stay inside the Buildfile\'s directory',
      'Task "a": `outputs` contains "!dist/**/../y", where ".." follows the wildcard segment "**": which directory ".." leaves depends on what the wildcard matches; write the glob without ".." (name the directory it means)',
      'Task "a": `outputs` contains "a/../../out", which leaves the workspace; globs must stay inside the Buildfile\'s directory',
    ]);
  });
});
