/**
 * Outputs that would delete the workspace (issue 20, item N4b; protected-outputs.ts in
 * @rbuild/planner): a task's outputs are cleared before it runs, so a glob that covers the
 * workspace root or matches the Buildfile (or a file it imports) is refused at planning.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { testWorkspace, type Workspace } from "./test-support/workspace.js";

const HEADER = `import { task } from "rbuild";\n`;

const survivors = (ws: Workspace): boolean[] => ["Buildfile.ts", "src/keep.txt", "lib/helper.ts", "node_modules/x/index.js"].map((path) => existsSync(join(ws.root, path)));

const refusal = (glob: string, what: string, hint = "") =>
  `rbuild: error: Buildfile.ts:3:1: Task "t": \`outputs\` contains ${glob}, ${what}: rbuild deletes what a task's outputs match before the task runs. ` +
  `Name only what the task writes, e.g. "dist/**" or "*.log"${hint}.\n`;

function workspace(outputs: string): Workspace {
  return testWorkspace({
    "Buildfile.ts": `${HEADER}import { helper } from "./lib/helper.js";\ntask({ name: "t", outputs: ${outputs}, run: helper });\n`,
    "lib/helper.ts": `export const helper = "true";\n`,
    "src/keep.txt": "keep me\n",
    "node_modules/x/index.js": "module.exports = 1;\n",
  });
}

describe("20.N4b: outputs that cover the workspace or the Buildfile are refused", () => {
  test.each([
    ['["**"]', '"**"'],
    ['["."]', '"." (that is, "**")'],
    ['["./"]', '"./" (that is, "**")'],
    ['["src/.."]', '"src/.." (that is, "**")'],
    ['["**/*", "!Buildfile.ts", "!src/**"]', '"**/*"'],
  ])("20.N4b: outputs %s are refused before anything is cleared", async (outputs, shown) => {
    const ws = workspace(outputs);
    expect(await ws.run(["t"])).toEqual({ exitCode: 2, stdout: "", stderr: refusal(shown, "which covers the whole workspace") });
    expect(survivors(ws)).toEqual([true, true, true, true]);
  });

  test.each([
    ['["*.ts"]', '"*.ts"', "Buildfile.ts, the Buildfile", "Buildfile.ts"],
    ['["*"]', '"*"', "Buildfile.ts, the Buildfile", "Buildfile.ts"],
    ['["**/*.ts", "!Buildfile.ts"]', '"**/*.ts"', "lib/helper.ts, a file the Buildfile imports", "lib/helper.ts"],
    ['["lib"]', '"lib"', "lib/helper.ts, a file the Buildfile imports", "lib/helper.ts"],
  ])("20.N4b: outputs %s match the Buildfile or what it imports", async (outputs, shown, what, path) => {
    const ws = workspace(outputs);
    expect(await ws.run(["t"])).toEqual({ exitCode: 2, stdout: "", stderr: refusal(shown, `which matches ${what}`, `, or leave ${path} out with "!${path}"`) });
    expect(survivors(ws)).toEqual([true, true, true, true]);
  });

  test("20.N4b: root globs that match neither still build, and clear only what they match", async () => {
    const ws = workspace('["*.log", "**/*.map", "src/**", "!src/keep.txt"]');
    ws.write({ "old.log": "old\n", "src/a.map": "{}\n" });
    const result = await ws.run(["t"]);
    expect(result.exitCode).toBe(0);
    expect(survivors(ws)).toEqual([true, true, true, true]);
    expect([existsSync(join(ws.root, "old.log")), existsSync(join(ws.root, "src/a.map"))]).toEqual([false, false]);
  });
});
