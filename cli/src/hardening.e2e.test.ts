/** Issue 20's defects that only show through the command: each test is named after its item. */
import { existsSync, lstatSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { Workspace } from "./test-support/workspace.js";

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.remove());

const HEADER = `import { task } from "rbuild";\n`;

describe("Buildfile and task errors", () => {
  test("20.11: a top-level await that never settles is a Buildfile error, not a silent exit 13", async () => {
    ws.write({ "Buildfile.ts": `${HEADER}await new Promise(() => {});\ntask({ name: "a", run: "true" });\n` });
    expect(await ws.run(["a"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: "rbuild: error: Buildfile.ts: its top-level code awaits something that never settles (nothing is left for it to wait on)\n(thrown while loading Buildfile.ts; fix the Buildfile and run again)\n",
    });
  });

  test("20.11: a throw from a timer while loading is exit 2 with its place", async () => {
    ws.write({ "Buildfile.ts": `${HEADER}setTimeout(() => {\n  throw new Error("late");\n}, 1);\nawait new Promise((r) => setTimeout(r, 100));\n` });
    expect(await ws.run(["a"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: "rbuild: error: Buildfile.ts:3:9: late\n(thrown while loading Buildfile.ts; fix the Buildfile and run again)\n",
    });
  });

  test("20.11: a task function's stray throw or unawaited rejection fails that task, and the others go on", async () => {
    ws.write({
      "Buildfile.ts":
        HEADER +
        `const wait = () => new Promise((r) => setTimeout(r, 300));\n` +
        `task({ name: "timer", run: async () => { setTimeout(() => { throw new Error("from a timer"); }, 1); await wait(); } });\n` +
        `task({ name: "promise", run: async () => { void Promise.reject(new Error("nobody awaits me")); await wait(); } });\n` +
        `task({ name: "fine", run: async () => { await wait(); } });\n`,
    });
    const result = await ws.run(["-k", "timer", "promise", "fine"]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout.split("\n").filter((line) => /^[✓✗]/.test(line)).sort()).toEqual(["✓ fine (<t>)", "✗ promise (<t>)", "✗ timer (<t>)"]);
    expect(result.stderr).toBe(
      'error: Buildfile.ts:4:64: Task "promise" failed: nobody awaits me\nerror: Buildfile.ts:3:67: Task "timer" failed: from a timer\nrbuild: failed: 1 ran, 0 cached, 2 failed in <t>\n',
    );
  });

  test("20.11: a task function's throw after the task has finished names the task and fails the run", async () => {
    ws.write({
      "Buildfile.ts": `${HEADER}task({ name: "early", run: async () => { setTimeout(() => { throw new Error("too late"); }, 50); } });\ntask({ name: "slow", run: "sleep 2" });\n`,
    });
    const result = await ws.run(["early", "slow"]);
    expect(result.exitCode).toBe(1);
    // While the build runs it fails that task, in the summary (20.G).
    expect(result.stderr).toBe(
      'error: Buildfile.ts:2:67: Task "early" failed: too late (thrown after the task had finished, by work it did not await; await the work it starts)\nrbuild: failed: 1 ran, 0 cached, 1 failed in <t>\n',
    );
  });

  test("20.11: a throw from a timer after the Buildfile has loaded is exit 2 with its place", async () => {
    ws.write({
      "Buildfile.ts":
        HEADER +
        `import { existsSync } from "node:fs";\n` +
        `// Throws once the build is under way: the load has long finished.\n` +
        `setInterval(() => {\n  if (existsSync("started")) throw new Error("late");\n}, 5);\n` +
        `task({ name: "a", run: "touch started; sleep 1" });\n`,
    });
    const { exitCode, stderr } = await ws.run(["a"]);
    expect({ exitCode, stderr }).toEqual({
      exitCode: 2,
      stderr: "rbuild: error: Buildfile.ts:5:36: late\n(thrown by Buildfile.ts after it had loaded, by work its top-level code started and did not await; fix the Buildfile and run again)\n",
    });
  });

  test("20.11: a task function failed by a stray error is aborted, and what it writes after that is dropped", async () => {
    ws.write({
      "Buildfile.ts":
        HEADER +
        `import { writeFileSync } from "node:fs";\n` +
        `const fail = () => setTimeout(() => { throw new Error("stray"); }, 1);\n` +
        `const wait = () => new Promise((r) => setTimeout(r, 300));\n` +
        `task({ name: "watches", run: async ({ signal }) => { signal.addEventListener("abort", () => writeFileSync("aborted", "")); fail(); await wait(); } });\n` +
        `task({ name: "ignores", run: async ({ log }) => { log("before"); fail(); await wait(); log("after"); } });\n` +
        `task({ name: "other", run: "sleep 1" });\n`,
    });
    const result = await ws.run(["-k", "watches", "ignores", "other"]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout.split("\n").filter((line) => !line.startsWith(">")).sort()).toEqual(["", "[ignores] before", "✓ other (<t>)", "✗ ignores (<t>)", "✗ watches (<t>)"]);
    expect(existsSync(join(ws.root, "aborted"))).toBe(true);
  });

  test("20.20: an import of a name rbuild does not export points at the Buildfile's import", async () => {
    ws.write({ "Buildfile.ts": `import { task, nosuch } from "rbuild";\nnosuch();\ntask({ name: "a" });\n` });
    expect(await ws.run(["a"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: `rbuild: error: Buildfile.ts:1:16: The requested module "rbuild" does not provide an export named 'nosuch'\n(thrown while loading Buildfile.ts; fix the Buildfile and run again)\n`,
    });
  });
});

describe("the Buildfile's directory", () => {
  test("20.17: the Buildfile sees the workspace root as its directory from a subdirectory and with -C", async () => {
    ws.write({
      "packages/app/package.json": "{}",
      "packages/lib/package.json": "{}",
      "tools/README": "",
      "Buildfile.ts": `${HEADER}import { readdirSync } from "node:fs";\nfor (const pkg of readdirSync("packages")) task({ name: pkg, run: "true" });\n`,
    });
    for (const [args, cwd] of [[["list"], `${ws.root}/packages/app`], [["-C", "tools", "list"], ws.root], [["-C", ws.root, "list"], "/"]] as const) {
      expect(await ws.run(args, { cwd })).toEqual({ exitCode: 0, stdout: "app\nlib\n", stderr: "" });
    }
  });
});

describe("the compiled Buildfile", () => {
  test("20.17: import.meta.resolve and a computed import resolve against the Buildfile's directory, from a subdirectory", async () => {
    ws.write({
      "lib/app.ts": `export const n: string = "app";\n`,
      "sub/README": "",
      "Buildfile.ts": `${HEADER}const name = "app.ts";\nconst { n } = await import("./lib/" + name);\ntask({ name: n, run: "true" });\nconsole.log(import.meta.resolve("./lib/" + name));\n`,
    });
    expect(await ws.run(["list"], { cwd: join(ws.root, "sub") })).toEqual({ exitCode: 0, stdout: "file://<root>/lib/app.ts\napp\n", stderr: "" });
    ws.write({ "Buildfile.ts": `${HEADER}const path = "./lib/app.ts";\nawait import(path);\n` });
    expect(await ws.run(["list"], { cwd: join(ws.root, "sub") })).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        'rbuild: error: ../Buildfile.ts:3:7: import("./lib/app.ts"): a relative path computed at run time cannot be imported in a Buildfile (rbuild bundles it, and bundles what an import\'s path names). ' +
        'Start the path with its directory, as in import("./lib/" + name) or import(`./lib/${name}`): every file that can match is then bundled.\n' +
        "(thrown while loading ../Buildfile.ts; fix the Buildfile and run again)\n",
    });
  });

  test("20.5: a file where the compiled Buildfile's directory should be is removed and compiled again, with one warning", async () => {
    ws.write({ "Buildfile.ts": `${HEADER}task({ name: "a", run: "true" });\n` });
    expect((await ws.run(["list"])).exitCode).toBe(0);
    const [hash] = readdirSync(join(ws.root, ".rbuild/buildfile"));
    rmSync(join(ws.root, ".rbuild/buildfile", hash!), { recursive: true });
    ws.write({ [`.rbuild/buildfile/${hash}`]: "not a directory" });
    expect(await ws.run(["list"])).toEqual({
      exitCode: 0,
      stdout: "a\n",
      stderr: `rbuild: .rbuild/buildfile/${hash} was not a directory in the cache of the compiled Buildfile.ts; removed it and compiled again\n`,
    });
    expect(await ws.run(["list"])).toEqual({ exitCode: 0, stdout: "a\n", stderr: "" });
  });
});

describe("file names", () => {
  /** A path under the workspace whose last part is Latin-1 bytes, not UTF-8. */
  const latin1 = (dir: string, name: string): Buffer => Buffer.concat([Buffer.from(`${ws.root}/${dir}/`), Buffer.from(name, "latin1")]);

  test("20.1: an input whose name is not UTF-8 refuses the task, naming the file, instead of a wrong hit", async () => {
    ws.write({
      "src/plain.txt": "plain\n",
      "Buildfile.ts": `${HEADER}task({ name: "copy", inputs: ["src/**"], outputs: ["out.txt"], run: "cat src/* > out.txt" });\n`,
    });
    expect((await ws.run(["copy"])).exitCode).toBe(0);
    writeFileSync(latin1("src", "caf\xe9.txt"), "latin-1\n");
    const refused = await ws.run(["copy"]);
    expect([refused.exitCode, refused.stdout, refused.stderr]).toEqual([
      1,
      "✗ copy (<t>)\n",
      'error: Task "copy": its inputs match src/caf\\xe9.txt, whose name is not valid UTF-8; rbuild keys and stores paths as UTF-8 text and cannot cache such a file exactly. Rename it, or leave it out with a "!" glob.\nrbuild: failed: 0 ran, 0 cached, 1 failed in <t>\n',
    ]);
    expect(ws.read("out.txt")).toBe("plain\n");
  });

  test("20.1: an input glob whose only match is a name that is not UTF-8 is refused, with no 'matches no file' warning beside it", async () => {
    ws.write({ "src/.keep": "", "Buildfile.ts": `${HEADER}task({ name: "copy", inputs: ["src/*.txt", "src/**"], run: "true" });\n` });
    writeFileSync(latin1("src", "caf\xe9.txt"), "latin-1\n");
    expect(await ws.run(["copy"])).toEqual({
      exitCode: 1,
      stdout: "✗ copy (<t>)\n",
      stderr:
        'error: Task "copy": its inputs match src/caf\\xe9.txt, whose name is not valid UTF-8; rbuild keys and stores paths as UTF-8 text and cannot cache such a file exactly. Rename it, or leave it out with a "!" glob.\n' +
        "rbuild: failed: 0 ran, 0 cached, 1 failed in <t>\n",
    });
  });

  test("20.1: an output whose name is not UTF-8 fails the task and stores nothing", async () => {
    ws.write({ "Buildfile.ts": `${HEADER}task({ name: "gen", outputs: ["dist/**"], run: "mkdir -p dist && printf x > dist/ok.txt && printf y > \\"dist/$(printf 'caf\\\\351')\\"" });\n` });
    const result = await ws.run(["gen"]);
    expect([result.exitCode, result.stderr.split("\n")[0]]).toEqual([
      1,
      'error: Task "gen": its outputs match dist/caf\\xe9, whose name is not valid UTF-8; rbuild keys and stores paths as UTF-8 text and cannot cache such a file exactly. Rename it, or leave it out with a "!" glob.',
    ]);
    expect(existsSync(join(ws.root, "dist/ok.txt"))).toBe(true);
    // Nothing was stored: the next build runs it again (and fails again) instead of restoring half of it.
    expect((await ws.run(["gen"])).stdout).toBe("> gen\n✗ gen (<t>)\n");
  });
});

describe("planning", () => {
  test("20.3: two tasks whose outputs overlap are a planning error naming both and their globs", async () => {
    ws.write({
      "Buildfile.ts": `${HEADER}task({ name: "a", outputs: ["dist/**"], run: "mkdir -p dist && echo a > dist/a.txt" });\ntask({ name: "b", deps: ["a"], outputs: ["dist/b.txt"], run: "echo b > dist/b.txt" });\n`,
    });
    expect(await ws.run(["b"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        'rbuild: error: Buildfile.ts:3:1: Tasks "a" and "b" both declare dist/b.txt as an output ("a" through "dist/**", "b" through "dist/b.txt"). ' +
        'Each would delete and store the other\'s files: narrow one of the globs, or leave the other task\'s files out with a "!" glob.\n',
    });
    ws.write({ "Buildfile.ts": ws.read("Buildfile.ts").replace(`["dist/**"]`, `["dist/**", "!dist/b.txt"]`) });
    const fixed = await ws.run(["b"]);
    expect([fixed.exitCode, ws.read("dist/a.txt"), ws.read("dist/b.txt")]).toEqual([0, "a\n", "b\n"]);
  });

  test("20.3: globs that share a name only through their wildcards are a planning error", async () => {
    ws.write({
      "Buildfile.ts": `${HEADER}task({ name: "js", outputs: ["dist/*.js"], run: "true" });\ntask({ name: "app", outputs: ["dist/app*"], run: "true" });\n`,
    });
    expect(await ws.run(["js", "app"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        'rbuild: error: Buildfile.ts:3:1: Tasks "js" and "app" both declare dist/app.js as an output ("js" through "dist/*.js", "app" through "dist/app*"). ' +
        'Each would delete and store the other\'s files: narrow one of the globs, or leave the other task\'s files out with a "!" glob.\n',
    });
  });
});

describe("globs that match nothing", () => {
  test("20.18: outputs that match nothing after the task ran are a warning that says what it wrote instead", async () => {
    ws.write({ "Buildfile.ts": `${HEADER}task({ name: "gen", outputs: ["out/**"], run: "mkdir -p build out2 && echo x > build/app.js" });\n` });
    const result = await ws.run(["gen"]);
    expect([result.exitCode, result.stderr]).toEqual([
      0,
      'rbuild: task "gen": its outputs "out/**" matched nothing after it ran (it wrote build/app.js); a cache hit will restore nothing. Fix its `outputs`\nrbuild: ok: 1 ran, 0 cached in <t>\n',
    ]);
  });

  test("20.18: what a task wrote instead is files in its directory, not empty directories nor what a task beside it declared, and says who ran beside it", async () => {
    // Each waits for the other's file, so "other" surely writes while "gen" runs.
    ws.write({
      "Buildfile.ts":
        HEADER +
        `task({ name: "gen", outputs: ["out/**"], run: "mkdir -p build out2 && echo x > build/app.js && until [ -f dist/b.txt ]; do sleep 0.01; done" });\n` +
        `task({ name: "other", outputs: ["dist/**"], run: "until [ -f build/app.js ]; do sleep 0.01; done; mkdir -p dist/empty && echo b > dist/b.txt" });\n`,
    });
    const result = await ws.run(["-j", "2", "gen", "other"]);
    expect([result.exitCode, result.stderr]).toEqual([
      0,
      'rbuild: task "gen": its outputs "out/**" matched nothing after it ran (files changed in its directory while it ran, beside task "other": build/app.js); a cache hit will restore nothing. Fix its `outputs`\n' +
        "rbuild: ok: 2 ran, 0 cached in <t>\n",
    ]);
  });

  test("20.18: an input glob that matches no file is a warning naming the task and the glob", async () => {
    ws.write({
      "src/a.ts": "",
      // The same glob in a second task is not warned about again in this build.
      "Buildfile.ts": `${HEADER}task({ name: "check", inputs: ["src/**/*.ts", "tsconfig.jsn"], run: "true" });\ntask({ name: "lint", deps: ["check"], inputs: ["tsconfig.jsn"], run: "true" });\n`,
    });
    const result = await ws.run(["lint"]);
    expect([result.exitCode, result.stderr]).toEqual([
      0,
      'rbuild: task "check": its input glob "tsconfig.jsn" matches no file (globs are relative to the Buildfile\'s directory); fix or remove it\nrbuild: ok: 2 ran, 0 cached in <t>\n',
    ]);
  });
});

describe("the command line and its files", () => {
  test("20.19: a --summary that cannot be written is a usage error before anything runs, never a spin", async () => {
    ws.write({ "Buildfile.ts": `${HEADER}task({ name: "a", run: "echo ran > ran.txt" });\n` });
    expect(await ws.run(["a", "--summary", "/proc/x/s.json"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: "rbuild: error: --summary /proc/x/s.json: cannot write in /proc/x (ENOENT). Give a file in a directory you can write.\nRun `rbuild --help` for usage.\n",
    });
    expect(existsSync(join(ws.root, "ran.txt"))).toBe(false);
    // A device, a link or a directory at the path would be replaced by the rename: refused, left as it was.
    symlinkSync("target.json", join(ws.root, "link.json"));
    for (const path of ["/dev/null", "link.json"]) {
      const refused = await ws.run(["a", "--summary", path]);
      expect([refused.exitCode, refused.stderr.split("\n")[0]]).toEqual([2, `rbuild: error: --summary ${path.startsWith("/") ? path : `<root>/${path}`} exists and is not a regular file; rbuild replaces the file it names, so give the path of a new or regular file.`]);
    }
    expect([lstatSync("/dev/null").isCharacterDevice(), lstatSync(join(ws.root, "link.json")).isSymbolicLink()]).toEqual([true, true]);
    // A missing directory is made, as for any file rbuild writes.
    expect((await ws.run(["a", "--summary", "reports/ci/s.json"])).exitCode).toBe(0);
    expect(JSON.parse(ws.read("reports/ci/s.json")).tasks.map((t: { name: string }) => t.name)).toEqual(["a"]);
  });

  test("20.20: --dry-run --summary writes what would run", async () => {
    ws.write({ "Buildfile.ts": `${HEADER}task({ name: "a", outputs: ["a.txt"], run: "echo a > a.txt" });\ntask({ name: "all", deps: ["a"] });\n` });
    const result = await ws.run(["all", "--dry-run", "--summary", "plan.json"]);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(ws.read("plan.json"))).toEqual({
      version: 1,
      ok: true,
      dryRun: true,
      durationMs: 0,
      tasks: [
        { name: "a", action: "run", key: expect.stringMatching(/^[0-9a-f]{64}$/), reasons: ["no-record"] },
        { name: "all", action: "group", key: null, reasons: ["dep-will-run: a"] },
      ],
    });
  });

  test("20.20: --output-logs shows new output by default, all, only a failure's, or none", async () => {
    ws.write({
      "Buildfile.ts": `${HEADER}task({ name: "ok", outputs: ["ok.txt"], run: "echo fine; echo x > ok.txt" });\ntask({ name: "bad", deps: ["ok"], run: "echo oops; exit 3" });\n`,
    });
    const lines = async (mode: string[]) => (await ws.run(["-k", "bad", ...mode])).stdout.split("\n").filter((line) => line.startsWith("["));
    expect(await lines(["--output-logs", "errors-only"])).toEqual(["[bad] oops"]);
    expect(await lines([])).toEqual(["[bad] oops"]); // ok is cached now: its output is not shown again
    expect(await lines(["--output-logs", "full"])).toEqual(["[ok] fine", "[bad] oops"]);
    expect(await lines(["--output-logs", "none"])).toEqual([]);
    expect((await ws.run(["bad", "--output-logs", "some"])).stderr).toBe(
      'rbuild: error: --output-logs must be one of full, new-only, errors-only, none, got "some".\nRun `rbuild --help` for usage.\n',
    );
  });

  test("20.20: the cache directory keeps itself out of git", async () => {
    ws.write({ "Buildfile.ts": `${HEADER}task({ name: "a", run: "true" });\n` });
    expect((await ws.run(["a"])).exitCode).toBe(0);
    expect(ws.read(".rbuild/.gitignore")).toBe("# Written by rbuild: its cache is never committed.\n*\n");
  });
});
