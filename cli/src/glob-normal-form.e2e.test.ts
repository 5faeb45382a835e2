/**
 * Globs with `.` and `..` segments (issue 20, red-team finding N4): the planner
 * reads every glob in its normal form, so such outputs are stored, restored
 * and checked for overlaps as the paths they name; what has no normal form is
 * a planning error.
 */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { byTask } from "./test-support/task-lines.js";
import { testWorkspace } from "./test-support/workspace.js";

const HEADER = `import { scripts, task } from "rbuild";\n`;
const OVERLAP_ADVICE = 'Each would delete and store the other\'s files: narrow one of the globs, or leave the other task\'s files out with a "!" glob.';

describe("globs with . and .. segments", () => {
  test("20.N4: outputs written ./dist/./a/** and out/../dist/b/** are stored and restored, every build after the first a hit", async () => {
    const ws = testWorkspace({
      "Buildfile.ts":
        HEADER +
        `task({ name: "a", inputs: ["./src/./a.txt"], outputs: ["./dist/./a/**"], run: "mkdir -p dist/a && cp src/a.txt dist/a/x.txt" });\n` +
        `task({ name: "b", outputs: ["out/../dist/b/**"], run: "mkdir -p dist/b && echo b > dist/b/y.txt" });\n`,
      "src/a.txt": "a\n",
    });
    const first = await ws.run(["a", "b", "-j", "1", "--output-logs", "none"]);
    expect(first).toEqual({ exitCode: 0, stdout: "> a\n✓ a (<t>)\n> b\n✓ b (<t>)\n", stderr: "rbuild: ok: 2 ran, 0 cached in <t>\n" });

    rmSync(join(ws.root, "dist"), { recursive: true });
    const restored = await ws.run(["a", "b", "-j", "1", "--output-logs", "none"]);
    // Restores of independent tasks may end in either order (a restore is no command, -j does not order it).
    expect(byTask(restored)).toEqual({ exitCode: 0, stdout: "✓ a (cached, local)\n✓ b (cached, local)\n", stderr: "rbuild: ok: 0 ran, 2 cached in <t>\n" });
    expect([ws.read("dist/a/x.txt"), ws.read("dist/b/y.txt")]).toEqual(["a\n", "b\n"]);

    // The input is the file it names: an edit runs the task again.
    ws.write({ "src/a.txt": "a2\n" });
    const edited = await ws.run(["a", "--output-logs", "none"]);
    expect([edited.exitCode, edited.stderr, ws.read("dist/a/x.txt")]).toEqual([0, "rbuild: ok: 1 ran, 0 cached in <t>\n", "a2\n"]);
  });

  test("20.N4: an output glob with /./ and another task's dist/** are an overlap, reported with the normal form", async () => {
    const ws = testWorkspace({
      "Buildfile.ts": `${HEADER}task({ name: "all", outputs: ["dist/**"], run: "mkdir -p dist && echo all > dist/all.txt" });\ntask({ name: "a", outputs: ["dist/./a/**"], run: "mkdir -p dist/a && echo a > dist/a/x.txt" });\n`,
    });
    expect(await ws.run(["all", "a"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: `rbuild: error: Buildfile.ts:3:1: Tasks "all" and "a" both declare dist/a as an output ("all" through "dist/**", "a" through "dist/a/**"). ${OVERLAP_ADVICE}\n`,
    });
    expect(existsSync(join(ws.root, "dist"))).toBe(false);
  });

  test("20.N4: a `..` after a wildcard, or one that leaves the workspace, in inputs, outputs or excludes is a planning error naming the task and the glob", async () => {
    const ws = testWorkspace({
      "Buildfile.ts": `${HEADER}task({ name: "gen", inputs: ["src/*/../x", "!../y"], outputs: ["dist/**", "!dist/**/../z"], run: "true" });\n`,
    });
    const wildcard = (field: string, glob: string): string =>
      `rbuild: error: Buildfile.ts:2:1: Task "gen": \`${field}\` contains "${glob}", where ".." follows the wildcard segment "${glob.includes("**") ? "**" : "*"}": ` +
      `which directory ".." leaves depends on what the wildcard matches; write the glob without ".." (name the directory it means)\n`;
    expect(await ws.run(["gen"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        wildcard("inputs", "src/*/../x") +
        `rbuild: error: Buildfile.ts:2:1: Task "gen": \`inputs\` contains "!../y", which leaves the workspace; globs must stay inside the Buildfile's directory\n` +
        wildcard("outputs", "!dist/**/../z"),
    });
  });

  test("20.N4: scripts() globs, relative to the package, go through the same rule", async () => {
    const ws = testWorkspace({
      "package.json": JSON.stringify({ name: "root", private: true, workspaces: ["packages/*"], packageManager: "npm@1.0.0" }),
      "packages/app/package.json": JSON.stringify({ name: "app", version: "1.0.0", scripts: { build: "true" } }),
      "Buildfile.ts": `${HEADER}export const build = task({ name: "build", deps: scripts("build", { outputs: ["./lib/./**", "dist/*/../x"] }) });\ntask({ name: "lib", outputs: ["packages/app/lib/index.js"], run: "true" });\n`,
    });
    const result = await ws.run(["build"]);
    // A package's outputs are also excluded from its inputs, so the glob is named as both.
    const wildcard = (field: string, glob: string): string =>
      `rbuild: error: <at>: Task "app#build": \`${field}\` contains "${glob}", where ".." follows the wildcard segment "*": ` +
      'which directory ".." leaves depends on what the wildcard matches; write the glob without ".." (name the directory it means)\n';
    const overlapping =
      'rbuild: error: <at>: Tasks "app#build" and "lib" both declare packages/app/lib/index.js as an output ("app#build" through "packages/app/lib/**", "lib" through "packages/app/lib/index.js"). ' +
      `${OVERLAP_ADVICE}\n`;
    expect([result.exitCode, result.stdout, result.stderr.replace(/^rbuild: error: [^ ]+: /gm, "rbuild: error: <at>: ")]).toEqual([
      2,
      "",
      wildcard("inputs", "!packages/app/dist/*/../x") + wildcard("outputs", "packages/app/dist/*/../x") + overlapping,
    ]);
    ws.write({ "Buildfile.ts": ws.read("Buildfile.ts").replace(`, "dist/*/../x"`, "") });
    const overlap = await ws.run(["build"]);
    expect([overlap.exitCode, overlap.stderr.replace(/^rbuild: error: [^ ]+: /gm, "rbuild: error: <at>: ")]).toEqual([2, overlapping]);
  });
});
