/**
 * Report files that would replace what rbuild or git depend on (issue 20, red team 2):
 * `--summary`, `--junit` and `rbuild graph --out` replace the file they name, so the
 * Buildfile, a file in the cache directory or one in `.git` is refused before the build.
 */
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { testWorkspace, type Workspace } from "./test-support/workspace.js";

const BUILDFILE = `import { task } from "rbuild";\ntask({ name: "t", run: "echo ran > ran.txt" });\n`;

const usage = (message: string) => `rbuild: error: ${message}\nRun \`rbuild --help\` for usage.\n`;
const isBuildfile = (flag: string) =>
  usage(`${flag} <root>/Buildfile.ts is the Buildfile: rbuild would replace it with the report. Give the report a file of its own.`);
const inside = (flag: string, file: string, dir: string, what: string) =>
  usage(`${flag} <root>/${file} is inside ${what} <root>/${dir}: rbuild does not write reports there. Give the report a file outside it.`);

function workspace(): Workspace {
  const ws = testWorkspace({ "Buildfile.ts": BUILDFILE, "src/a.txt": "a\n", ".git/HEAD": "ref: refs/heads/main\n" });
  return ws;
}

describe("20.rt2: a report file may not replace the Buildfile, the cache or .git", () => {
  test.each([
    [["t", "--summary", "Buildfile.ts"], "--summary"],
    [["t", "--junit", "Buildfile.ts"], "--junit"],
    [["graph", "--out", "Buildfile.ts"], "--out"],
  ])("20.rt2: rbuild %j is refused before the build and leaves the Buildfile", async (args, flag) => {
    const ws = workspace();
    expect(await ws.run(args)).toEqual({ exitCode: 2, stdout: "", stderr: isBuildfile(flag) });
    expect([ws.read("Buildfile.ts"), readdirSync(ws.root).sort()]).toEqual([BUILDFILE, [".git", "Buildfile.ts", "src"]]);
  });

  test("20.rt2: the Buildfile named from a directory below it, and through -C", async () => {
    const ws = workspace();
    expect(await ws.run(["t", "--summary", "../Buildfile.ts"], { cwd: join(ws.root, "src") })).toEqual({ exitCode: 2, stdout: "", stderr: isBuildfile("--summary") });
    mkdirSync(join(ws.root, "elsewhere"));
    expect(await ws.run(["-C", "..", "t", "--junit", "../Buildfile.ts"], { cwd: join(ws.root, "elsewhere") })).toEqual({ exitCode: 2, stdout: "", stderr: isBuildfile("--junit") });
    expect(ws.read("Buildfile.ts")).toBe(BUILDFILE);
  });

  test("20.rt2: a file in .git or in the cache directory is refused", async () => {
    const ws = workspace();
    expect(await ws.run(["t", "--summary", ".git/HEAD"])).toEqual({ exitCode: 2, stdout: "", stderr: inside("--summary", ".git/HEAD", ".git", "the git directory") });
    expect(await ws.run(["t", "--junit", ".rbuild/junit.xml"])).toEqual({ exitCode: 2, stdout: "", stderr: inside("--junit", ".rbuild/junit.xml", ".rbuild", "rbuild's cache directory") });
    expect(await ws.run(["graph", "--out", ".git/graph.txt"])).toEqual({ exitCode: 2, stdout: "", stderr: inside("--out", ".git/graph.txt", ".git", "the git directory") });
    expect([ws.read(".git/HEAD"), readdirSync(ws.root).sort()]).toEqual(["ref: refs/heads/main\n", [".git", "Buildfile.ts", "src"]]);
  });

  test("20.rt2: other report files are written as before", async () => {
    const ws = workspace();
    const result = await ws.run(["t", "--summary", "out/summary.json", "--junit", "junit.xml"]);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(ws.read("out/summary.json")).ok).toBe(true);
    expect(await ws.run(["graph", "--out", "graph.txt"])).toMatchObject({ exitCode: 0 });
  });
});
