/**
 * The symlink rule end to end (symlink-rule.ts in @rbuild/hash): rbuild never
 * clears, stores, cleans or reads through a symbolic link below the workspace
 * root. Each test keeps a sentinel file in a temp directory outside the
 * workspace, reachable only through a link, and checks that it survives every
 * command.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { testWorkspace, type Workspace } from "./test-support/workspace.js";

const HEADER = `import { scripts, task } from "rbuild";\n`;

let outside: string;
beforeEach(() => {
  outside = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-outside-")));
  mkdirSync(join(outside, "dist"));
  writeFileSync(join(outside, "dist/sentinel.txt"), "keep me\n");
});
afterEach(() => rmSync(outside, { recursive: true, force: true }));

const sentinel = (): string | undefined => (existsSync(join(outside, "dist/sentinel.txt")) ? readFileSync(join(outside, "dist/sentinel.txt"), "utf8") : undefined);
/** The text the outside directory is shown with in messages. */
const OUT = "<outside>";
const shown = (text: string): string => text.replaceAll(outside, OUT);

async function run(ws: Workspace, args: string[]): Promise<[number | undefined, string, string]> {
  const result = await ws.run(args);
  return [result.exitCode, shown(result.stdout), shown(result.stderr)];
}

const throughOutputs = (task: string, glob: string, link = "lnk", target = OUT) =>
  `Task "${task}": its outputs glob "${glob}" passes through ${link}, a symbolic link (${link} -> ${target}); rbuild does not clear or store outputs through ` +
  `a symbolic link, which could reach files outside the workspace. Declare the path it points to instead (when it is inside the workspace), or make ${link} a real directory.`;

describe("20.N1: outputs through a symlinked directory", () => {
  test("20.N1: an output glob through a link fails the task before anything is cleared; build, clean and clean --cache leave the sentinel", async () => {
    const ws = testWorkspace({
      "Buildfile.ts": `${HEADER}task({ name: "gen", inputs: ["src/**"], outputs: ["lnk/dist/**"], run: "echo ran >> ran.txt" });\n`,
      "src/a.txt": "a\n",
    });
    symlinkSync(outside, join(ws.root, "lnk"));
    expect(await run(ws, ["gen"])).toEqual([1, "✗ gen (<t>)\n", `error: ${throughOutputs("gen", "lnk/dist/**")}\nrbuild: failed: 0 ran, 0 cached, 1 failed in <t>\n`]);
    expect([sentinel(), existsSync(join(ws.root, "ran.txt"))]).toEqual(["keep me\n", false]);

    const refusal = `rbuild: error: ${throughOutputs("gen", "lnk/dist/**")} Its outputs were left as they are.\n`;
    expect(await run(ws, ["clean"])).toEqual([1, "removed 0 output files\n", refusal]);
    expect(sentinel()).toBe("keep me\n");
    expect(await run(ws, ["clean", "--cache"])).toEqual([1, "removed 0 output files\nremoved the cache <root>/.rbuild\n", refusal]);
    expect([sentinel(), existsSync(join(ws.root, ".rbuild"))]).toEqual(["keep me\n", false]);
  });

  test("20.N1: a glob whose base is the link itself, and a file named through it, are refused the same way", async () => {
    const ws = testWorkspace({
      "Buildfile.ts": `${HEADER}task({ name: "all", outputs: ["lnk/**"], run: "true" });\ntask({ name: "one", outputs: ["other/dist/sentinel.txt"], run: "true" });\n`,
    });
    symlinkSync(outside, join(ws.root, "lnk"));
    symlinkSync(outside, join(ws.root, "other"));
    for (const [name, glob, link] of [["all", "lnk/**", "lnk"], ["one", "other/dist/sentinel.txt", "other"]] as const) {
      expect(await run(ws, [name])).toEqual([1, `✗ ${name} (<t>)\n`, `error: ${throughOutputs(name, glob, link)}\nrbuild: failed: 0 ran, 0 cached, 1 failed in <t>\n`]);
    }
    const [code, stdout] = await run(ws, ["clean"]);
    expect([code, stdout, sentinel()]).toEqual([1, "removed 0 output files\n", "keep me\n"]);
  });

  test("20.N1: a link an upstream task makes at run time fails the task that would clear through it", async () => {
    const ws = testWorkspace({
      "Buildfile.ts": `${HEADER}task({ name: "link", pure: false, run: "ln -sfn ${outside} lnk" });\ntask({ name: "gen", deps: ["link"], outputs: ["lnk/dist/**"], run: "echo ran >> ran.txt" });\n`,
    });
    expect(await run(ws, ["gen", "--output-logs", "none"])).toEqual([
      1,
      "> link\n✓ link (<t>)\n✗ gen (<t>)\n",
      `error: ${throughOutputs("gen", "lnk/dist/**")}\nrbuild: failed: 1 ran, 0 cached, 1 failed in <t>\n`,
    ]);
    expect([sentinel(), existsSync(join(ws.root, "ran.txt"))]).toEqual(["keep me\n", false]);
  });

  test("20.N1: a link the task itself makes on the way to its outputs stores nothing, and the next build clears nothing through it", async () => {
    const ws = testWorkspace({
      "Buildfile.ts": `${HEADER}task({ name: "gen", outputs: ["lnk/dist/**"], run: "ln -sfn ${outside} lnk && echo new > lnk/dist/new.txt" });\n`,
    });
    const failed = [1, "> gen\n✗ gen (<t>)\n", `error: ${throughOutputs("gen", "lnk/dist/**")}\nrbuild: failed: 0 ran, 0 cached, 1 failed in <t>\n`];
    expect(await run(ws, ["gen", "--output-logs", "none"])).toEqual(failed);
    expect(await run(ws, ["gen", "--output-logs", "none"])).toEqual([failed[0], "✗ gen (<t>)\n", failed[2]]);
    expect([sentinel(), readFileSync(join(outside, "dist/new.txt"), "utf8")]).toEqual(["keep me\n", "new\n"]);
  });

  test("20.N1: wildcards never descend into a link: it is cleared and stored as the link, and its target is left alone", async () => {
    const ws = testWorkspace({
      "Buildfile.ts": `${HEADER}task({ name: "gen", outputs: ["out/**"], run: "mkdir -p out && echo x > out/x.txt && ln -sfn ../real out/lnk" });\n`,
      "real/keep.txt": "real\n",
    });
    expect((await run(ws, ["gen"]))[0]).toBe(0);
    rmSync(join(ws.root, "out/lnk"));
    // A link to outside, where the task will put its own: the pre-run clear removes the link, not what it points to.
    symlinkSync(join(outside, "dist"), join(ws.root, "out/lnk"));
    writeFileSync(join(ws.root, "out/x.txt"), "edited\n");
    ws.write({ "Buildfile.ts": ws.read("Buildfile.ts").replace("echo x", "echo y") });
    expect((await run(ws, ["gen"]))[0]).toBe(0);
    expect([sentinel(), ws.read("out/x.txt"), ws.read("real/keep.txt")]).toEqual(["keep me\n", "y\n", "real\n"]);
    expect(await run(ws, ["clean"])).toEqual([0, "removed 2 output files\n", ""]);
    expect([sentinel(), readdirSync(join(ws.root, "out")), ws.read("real/keep.txt")]).toEqual(["keep me\n", [], "real\n"]);
  });
});

describe("20.N1: inputs through a symlinked directory", () => {
  test("20.N1: an input glob that matches a link to a directory refuses the task instead of a stale hit", async () => {
    writeFileSync(join(outside, "a.txt"), "one\n");
    const ws = testWorkspace({
      "Buildfile.ts": `${HEADER}task({ name: "copy", inputs: ["src/**"], outputs: ["out.txt"], run: "cat src/own.txt src/shared/a.txt > out.txt" });\n`,
      "src/own.txt": "own\n",
    });
    symlinkSync(outside, join(ws.root, "src/shared"));
    const refused = [
      1,
      "✗ copy (<t>)\n",
      `error: Task "copy": its inputs glob "src/**" matches src/shared, a symbolic link to a directory (src/shared -> ${OUT}); rbuild does not read through ` +
        `linked directories, so an edit below it would go unseen. Declare the directory it points to as an input (when it is inside the workspace), ` +
        `leave the link out with a "!" glob, or make src/shared a real directory.\nrbuild: failed: 0 ran, 0 cached, 1 failed in <t>\n`,
    ];
    expect(await run(ws, ["copy"])).toEqual(refused);
    writeFileSync(join(outside, "a.txt"), "two\n");
    expect(await run(ws, ["copy"])).toEqual(refused);
    expect(existsSync(join(ws.root, "out.txt"))).toBe(false);
  });

  test("20.N1: a wildcard input glob that could match below a link to a directory refuses the task, though it does not match the link", async () => {
    writeFileSync(join(outside, "a.ts"), "one\n");
    const ws = testWorkspace({
      "Buildfile.ts": `${HEADER}task({ name: "copy", inputs: ["src/**/*.ts"], outputs: ["out.txt"], run: "cat src/own.ts src/shared/a.ts > out.txt" });\ntask({ name: "flat", inputs: ["src/*.ts"], outputs: ["flat.txt"], run: "cat src/own.ts > flat.txt" });\n`,
      "src/own.ts": "own\n",
    });
    symlinkSync(outside, join(ws.root, "src/shared"));
    const [code, stdout, stderr] = await run(ws, ["copy"]);
    expect([code, stdout]).toEqual([1, "✗ copy (<t>)\n"]);
    expect(stderr).toContain(`error: Task "copy": its inputs glob "src/**/*.ts" passes through src/shared, a symbolic link (src/shared -> ${OUT})`);
    expect(existsSync(join(ws.root, "out.txt"))).toBe(false);
    // A glob that cannot match below the link is not refused for it.
    expect((await run(ws, ["flat"]))[0]).toBe(0);
  });

  test("20.N1: an input glob through a link, or whose base is a link, refuses the task", async () => {
    mkdirSync(join(outside, "src"));
    writeFileSync(join(outside, "src/a.txt"), "one\n");
    const ws = testWorkspace({
      "Buildfile.ts": `${HEADER}task({ name: "deep", inputs: ["lnk/src/**"], run: "true" });\ntask({ name: "base", inputs: ["lnk/**"], run: "true" });\n`,
    });
    symlinkSync(outside, join(ws.root, "lnk"));
    for (const [name, glob] of [["deep", "lnk/src/**"], ["base", "lnk/**"]] as const) {
      expect(await run(ws, [name])).toEqual([
        1,
        `✗ ${name} (<t>)\n`,
        `error: Task "${name}": its inputs glob "${glob}" passes through lnk, a symbolic link (lnk -> ${OUT}); rbuild does not read inputs through ` +
          `a symbolic link, which could reach files outside the workspace. Declare the path it points to instead (when it is inside the workspace), or make lnk a real directory.\n` +
          `rbuild: failed: 0 ran, 0 cached, 1 failed in <t>\n`,
      ]);
    }
    expect(await run(ws, ["deep", "--dry-run"])).toEqual([0, "would run  deep  (through-symlink: lnk)\nrbuild: dry run: 1 would run, 0 cached\n", ""]);
  });

  test("20.N1: a link to a file is keyed by the file it points to: an edit is seen", async () => {
    writeFileSync(join(outside, "a.txt"), "one\n");
    const ws = testWorkspace({
      "Buildfile.ts": `${HEADER}task({ name: "copy", inputs: ["src/**"], outputs: ["out.txt"], run: "cat src/a.txt > out.txt" });\n`,
      "src/.keep": "",
    });
    symlinkSync(join(outside, "a.txt"), join(ws.root, "src/a.txt"));
    expect((await run(ws, ["copy"]))[0]).toBe(0);
    writeFileSync(join(outside, "a.txt"), "two\n");
    expect((await run(ws, ["copy"]))[0]).toBe(0);
    expect(ws.read("out.txt")).toBe("two\n");
  });
});

describe("20.N1: scripts() and a package directory that is a link", () => {
  const manifest = (name: string, deps: Record<string, string> = {}) => JSON.stringify({ name, version: "1.0.0", scripts: { build: "mkdir -p dist && echo built > dist/out.txt" }, dependencies: deps });

  test("20.N1: a package whose directory is a link is refused, naming the package, and nothing outside is cleared", async () => {
    writeFileSync(join(outside, "package.json"), manifest("linked"));
    const ws = testWorkspace({
      "package.json": JSON.stringify({ name: "root", private: true, workspaces: ["packages/*"], packageManager: "npm@1.0.0" }),
      "Buildfile.ts": `${HEADER}export const build = task({ name: "build", deps: scripts("build", { outputs: ["dist/**"] }) });\n`,
      "packages/real/package.json": manifest("real"),
    });
    symlinkSync(outside, join(ws.root, "packages/linked"));
    const error =
      `rbuild: error: Buildfile.ts:2:50: workspace package "linked" (task "linked#build") is at packages/linked, a symbolic link (packages/linked -> ${OUT}); ` +
      `rbuild does not read, clear or store files through a symbolic link, which could reach files outside the workspace. ` +
      `Make packages/linked a real directory (move the package into the workspace), or leave "linked" out with \`packages: ["!linked"]\`.\n` +
      `(thrown while loading Buildfile.ts; fix the Buildfile and run again)\n`;
    for (const command of [["build"], ["clean"], ["clean", "--cache"]]) {
      expect(await run(ws, command)).toEqual([2, "", error]);
      expect(sentinel()).toBe("keep me\n");
    }
    ws.write({ "Buildfile.ts": ws.read("Buildfile.ts").replace(`{ outputs`, `{ packages: ["!linked"], outputs`) });
    expect((await run(ws, ["build"]))[0]).toBe(0);
    expect([ws.read("packages/real/dist/out.txt"), sentinel()]).toEqual(["built\n", "keep me\n"]);
  });

  test("20.N1: a package that depends on a linked one is refused, naming both", async () => {
    writeFileSync(join(outside, "package.json"), JSON.stringify({ name: "linked", version: "1.0.0" }));
    const ws = testWorkspace({
      "package.json": JSON.stringify({ name: "root", private: true, workspaces: ["packages/*"], packageManager: "npm@1.0.0" }),
      "Buildfile.ts": `${HEADER}export const build = task({ name: "build", deps: scripts("build", { outputs: ["dist/**"] }) });\n`,
      "packages/app/package.json": manifest("app", { linked: "1.0.0" }),
    });
    symlinkSync(outside, join(ws.root, "packages/linked"));
    const [code, stdout, stderr] = await run(ws, ["build"]);
    expect([code, stdout, stderr.split("\n")[0]]).toEqual([
      2,
      "",
      `rbuild: error: Buildfile.ts:2:50: workspace package "linked" (whose files task "app#build" reads) is at packages/linked, a symbolic link (packages/linked -> ${OUT}); ` +
        `rbuild does not read, clear or store files through a symbolic link, which could reach files outside the workspace. ` +
        `Make packages/linked a real directory (move the package into the workspace), or leave "app" out with \`packages: ["!app"]\`.`,
    ]);
  });
});
