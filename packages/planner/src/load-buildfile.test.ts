import { cpSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { writeFiles } from "../../../test-support/files.js";
import { describeFailure, StrayErrors } from "@rbuild/core";
import { compiledModuleDir, loadBuildfile } from "./load-buildfile.js";

// The Buildfile's `import ... from "rbuild"` resolves here: the Buildfile API (core's sources).
const API = fileURLToPath(new URL("../../core/src/index.ts", import.meta.url));

let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-load-")));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const write = (files: Record<string, string>): void => writeFiles(dir, files);

const load = () => loadBuildfile(join(dir, "Buildfile.ts"), { apiModule: API, cacheDir: join(dir, ".rbuild") });

async function loadOk() {
  const loaded = await load();
  if (!loaded.ok) throw new Error(describeFailure(loaded.error, { cwd: dir }));
  return loaded.value;
}

async function loadError(): Promise<string> {
  const loaded = await load();
  if (loaded.ok) throw new Error("expected the load to fail");
  return describeFailure(loaded.error, { cwd: dir });
}

describe("loadBuildfile", () => {
  test("transpiles TypeScript and local imports, collects every declared task, and caches the result", async () => {
    write({
      "Buildfile.ts": `import { task } from "rbuild";\nimport { names } from "./tasks/names.ts";\nconst n: string[] = names;\nfor (const name of n) task({ name, run: "true" });\n`,
      "tasks/names.ts": `export const names: string[] = ["a", "b"];\n`,
    });
    const first = await loadOk();
    expect([first.compiled, first.tasks.map((t) => t.name), first.root]).toEqual(["transpiled", ["a", "b"], dir]);
    const second = await loadOk();
    expect([second.compiled, second.tasks.map((t) => t.name)]).toEqual(["cached", ["a", "b"]]);
  });

  test("a change in an imported module invalidates the cached Buildfile", async () => {
    write({
      "Buildfile.ts": `import { task } from "rbuild";\nimport { names } from "./names";\nfor (const name of names) task({ name });\n`,
      "names.ts": `export const names = ["a"];\n`,
    });
    expect((await loadOk()).tasks.map((t) => t.name)).toEqual(["a"]);
    write({ "names.ts": `export const names = ["a", "c"];\n` });
    const reloaded = await loadOk();
    expect([reloaded.compiled, reloaded.tasks.map((t) => t.name)]).toEqual(["transpiled", ["a", "c"]]);
  });

  test("npm packages are imported from the Buildfile's node_modules, and import.meta points at the source", async () => {
    write({
      "node_modules/shared-tasks/package.json": `{"name":"shared-tasks","type":"module","exports":{".":"./index.js"}}`,
      "node_modules/shared-tasks/index.js": `export const prefix = "shared";\n`,
      "Buildfile.ts": `import { task } from "rbuild";\nimport { prefix } from "shared-tasks";\nimport { basename } from "node:path";\ntask({ name: prefix + "-" + basename(import.meta.dirname) + "-" + basename(import.meta.filename) });\n`,
    });
    const { tasks } = await loadOk();
    expect(tasks.map((t) => t.name)).toEqual([`shared-${dir.split("/").pop()}-Buildfile.ts`]);
  });

  test("the source digest covers the npm packages imported: their versions and the files imported", async () => {
    const pkg = (version: string) => `{"name":"helper","version":"${version}","main":"index.js"}`;
    write({
      "node_modules/helper/package.json": pkg("1.0.0"),
      "node_modules/helper/index.js": `module.exports = { shout: (s) => s.toUpperCase() };\n`,
      "Buildfile.ts": `import { task } from "rbuild";\nimport helper from "helper";\ntask({ name: "a", run: () => helper.shout("x") });\n`,
    });
    const first = (await loadOk()).sourceDigest;
    expect((await loadOk()).sourceDigest).toBe(first);
    write({ "node_modules/helper/package.json": pkg("1.1.0") });
    const upgraded = (await loadOk()).sourceDigest;
    expect(upgraded).not.toBe(first);
    write({ "node_modules/helper/index.js": `module.exports = { shout: (s) => s.toLowerCase() };\n` });
    expect((await loadOk()).sourceDigest).not.toBe(upgraded);

    // The same sources and packages in another checkout: the same digest.
    const other = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-load-other-")));
    try {
      cpSync(dir, other, { recursive: true, filter: (source) => !source.includes(".rbuild") });
      const there = await loadBuildfile(join(other, "Buildfile.ts"), { apiModule: API, cacheDir: join(other, ".rbuild") });
      expect(there.ok && there.value.sourceDigest).toBe((await loadOk()).sourceDigest);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  test("the compiled module works from a cache directory outside the workspace", async () => {
    const cacheDir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-cache-")));
    try {
      write({
        "node_modules/dep/package.json": `{"name":"dep","main":"index.js"}`,
        "node_modules/dep/index.js": `module.exports = { n: "x" };\n`,
        "Buildfile.ts": `import { task } from "rbuild";\nimport dep from "dep";\ntask({ name: dep.n });\n`,
      });
      const loaded = await loadBuildfile(join(dir, "Buildfile.ts"), { apiModule: API, cacheDir });
      expect(loaded.ok && loaded.value.tasks.map((t) => t.name)).toEqual(["x"]);
      expect(readdirSync(compiledModuleDir(join(dir, "Buildfile.ts"), cacheDir)).sort()).toEqual([expect.stringMatching(/^[0-9a-f]{32}\.mjs$/), "manifest.json"]);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  test("a syntax error is reported as Buildfile.ts:LINE:COL with the line", async () => {
    write({ "Buildfile.ts": `import { task } from "rbuild";\n\ntask({ name: "a" run: "x" });\n` });
    expect(await loadError()).toBe(`Buildfile.ts:3:18: Expected "}" but found "run"\n    task({ name: "a" run: "x" });\n                     ^`);
  });

  test("a syntax error in an imported module names that module", async () => {
    write({ "Buildfile.ts": `import "./lib/helper";\n`, "lib/helper.ts": `export const = 1;\n` });
    expect((await loadError()).split("\n")[0]).toBe(`lib/helper.ts:1:14: Expected identifier but found "="`);
  });

  test("an import that cannot be resolved is reported at the import", async () => {
    write({ "Buildfile.ts": `import { x } from "no-such-package";\nconsole.log(x);\n` });
    expect((await loadError()).split("\n")[0]).toBe(`Buildfile.ts:1:19: Could not resolve "no-such-package"`);
  });

  test("an exception while loading points at the TypeScript line that threw", async () => {
    write({ "Buildfile.ts": `import { task } from "rbuild";\ntype T = { n: number };\nconst t: T = { n: 1 };\n\nif (t.n === 1) throw new Error("no tasks for you");\n` });
    expect(await loadError()).toBe("Buildfile.ts:5:22: no tasks for you\n(thrown while loading Buildfile.ts; fix the Buildfile and run again)");
  });

  test("task locations point at the TypeScript source", async () => {
    write({ "Buildfile.ts": `import { task } from "rbuild";\n\ninterface X { a: string }\nconst x: X = { a: "b" };\n  task({ name: x.a });\n` });
    const { tasks } = await loadOk();
    expect(tasks[0]?.location).toEqual({ file: join(dir, "Buildfile.ts"), line: 5, column: 3 });
  });

  test("a truncated cached module is rebuilt, not trusted", async () => {
    write({ "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "a" });\n` });
    await loadOk();
    const cache = compiledModuleDir(join(dir, "Buildfile.ts"), join(dir, ".rbuild"));
    writeFileSync(join(cache, "manifest.json"), "{\"format\":1,");
    const reloaded = await loadOk();
    expect([reloaded.compiled, reloaded.tasks.map((t) => t.name)]).toEqual(["transpiled", ["a"]]);
  });

  test("a workspace whose path has spaces and non-ASCII characters loads", async () => {
    const odd = join(dir, "my wörk späce");
    mkdirSync(odd);
    writeFileSync(join(odd, "Buildfile.ts"), `import { task } from "rbuild";\nimport { n } from "./名前 file";\ntask({ name: n });\n`);
    writeFileSync(join(odd, "名前 file.ts"), `export const n = "ünïcode";\n`);
    const loaded = await loadBuildfile(join(odd, "Buildfile.ts"), { apiModule: API, cacheDir: join(odd, ".rbuild") });
    expect(loaded.ok && loaded.value.tasks.map((t) => t.name)).toEqual(["ünïcode"]);
  });

  test("20.17: the Buildfile runs with the workspace root as its directory, and import.meta names its own sources", async () => {
    write({
      "packages/a/package.json": "{}",
      "lib/where.ts": `export const where = import.meta.filename;\n`,
      "Buildfile.ts": [
        `import { task } from "rbuild";`,
        `import { readdirSync } from "node:fs";`,
        `import { where } from "./lib/where.ts";`,
        `const mention = "import.meta.url is rewritten only where it is code";`,
        `for (const pkg of readdirSync("packages")) task({ name: pkg });`,
        `task({ name: [import.meta.url, import.meta.dirname, import.meta.filename, where, mention].join("|") });`,
      ].join("\n"),
    });
    mkdirSync(join(dir, "deep/er"), { recursive: true });
    const before = process.cwd();
    process.chdir(join(dir, "deep/er"));
    try {
      const { tasks } = await loadOk();
      const file = join(dir, "Buildfile.ts");
      expect(tasks.map((t) => t.name)).toEqual(["a", [`file://${file}`, dir, file, join(dir, "lib/where.ts"), "import.meta.url is rewritten only where it is code"].join("|")]);
      expect(process.cwd()).toBe(join(dir, "deep/er"));
    } finally {
      process.chdir(before);
    }
  });

  test("20.17: import.meta.resolve resolves a relative path against the real source, in the Buildfile and in what it imports", async () => {
    write({
      "lib/where.ts": `export const here = import.meta.resolve("./data.json");\n`,
      "Buildfile.ts": `import { task } from "rbuild";\nimport { here } from "./lib/where.ts";\ntask({ name: [import.meta.resolve("./x.js"), here, import.meta.resolve("node:fs")].join("|") });\n`,
    });
    const { tasks } = await loadOk();
    expect(tasks.map((t) => t.name)).toEqual([[`file://${dir}/x.js`, `file://${dir}/lib/data.json`, "node:fs"].join("|")]);
  });

  test("20.17: a computed import that starts with its directory bundles what it can match, and a file added there is seen", async () => {
    write({
      "lib/a.ts": `export const n: string = "a";\n`,
      "Buildfile.ts": `import { task } from "rbuild";\nimport { readdirSync } from "node:fs";\nfor (const f of readdirSync("lib").sort()) task({ name: (await import("./lib/" + f)).n });\n`,
    });
    expect((await loadOk()).tasks.map((t) => t.name)).toEqual(["a"]);
    write({ "lib/b.ts": `export const n: string = "b";\n` });
    const reloaded = await loadOk();
    expect([reloaded.compiled, reloaded.tasks.map((t) => t.name)]).toEqual(["transpiled", ["a", "b"]]);
    expect((await loadOk()).compiled).toBe("cached");
  });

  test("20.17: a relative import whose whole path is computed is refused at its line, saying what to write instead", async () => {
    write({
      "lib/a.ts": `export const n = "a";\n`,
      "Buildfile.ts": `import { task } from "rbuild";\nconst path = "./lib/a.ts";\nconst absolute = await import("node:" + "path");\ntask({ name: absolute.sep === "/" ? "sep" : "no" });\nconst m = await import(path);\n`,
    });
    expect(await loadError()).toBe(
      'Buildfile.ts:5:17: import("./lib/a.ts"): a relative path computed at run time cannot be imported in a Buildfile (rbuild bundles it, and bundles what an import\'s path names). ' +
        'Start the path with its directory, as in import("./lib/" + name) or import(`./lib/${name}`): every file that can match is then bundled.\n' +
        "(thrown while loading Buildfile.ts; fix the Buildfile and run again)",
    );
  });

  test("20.5: what is not a directory where the compiled module's directory should be is removed and compiled again, with one warning", async () => {
    write({ "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "real" });\n` });
    const cache = compiledModuleDir(join(dir, "Buildfile.ts"), join(dir, ".rbuild"));
    for (const [where, what] of [[cache, "a file"], [join(dir, ".rbuild/buildfile"), "a file"], [join(cache, "manifest.json"), "a directory"]] as const) {
      rmSync(join(dir, ".rbuild"), { recursive: true, force: true });
      if (where.endsWith("manifest.json")) await loadOk();
      rmSync(where, { recursive: true, force: true });
      mkdirSync(dirname(where), { recursive: true });
      if (what === "a file") writeFileSync(where, "not a directory");
      else mkdirSync(where);
      const infos: string[] = [];
      const loaded = await loadBuildfile(join(dir, "Buildfile.ts"), { apiModule: API, cacheDir: join(dir, ".rbuild"), onInfo: (code, message) => infos.push(`${code}: ${message}`) });
      expect(loaded.ok && [loaded.value.compiled, loaded.value.tasks.map((t) => t.name)]).toEqual(["transpiled", ["real"]]);
      const shown = where.slice(dir.length + 1);
      expect(infos).toEqual([`buildfile-cache-damaged: ${shown} was not ${what === "a file" ? "a directory" : "a file"} in the cache of the compiled Buildfile.ts; removed it and compiled again`]);
      expect((await loadOk()).compiled).toBe("cached");
    }
  });

  test("20.5: a compiled module edited or truncated in the cache is compiled again, with one warning", async () => {
    write({ "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "real" });\n` });
    await loadOk();
    const cache = compiledModuleDir(join(dir, "Buildfile.ts"), join(dir, ".rbuild"));
    const module = readdirSync(cache).find((name) => name.endsWith(".mjs"))!;
    const infos: string[] = [];
    const loadWatching = async () => {
      const loaded = await loadBuildfile(join(dir, "Buildfile.ts"), { apiModule: API, cacheDir: join(dir, ".rbuild"), onInfo: (code) => infos.push(code) });
      if (!loaded.ok) throw new Error(describeFailure(loaded.error, { cwd: dir }));
      return loaded.value;
    };
    for (const damage of [`import { task } from "${API}";\ntask({ name: "altered" });\n`, `import { task } fr`]) {
      writeFileSync(join(cache, module), damage);
      const reloaded = await loadWatching();
      expect([reloaded.compiled, reloaded.tasks.map((t) => t.name)]).toEqual(["transpiled", ["real"]]);
      expect((await loadWatching()).compiled).toBe("cached");
    }
    expect(infos).toEqual(["buildfile-cache-damaged", "buildfile-cache-damaged"]);
  });

  test("20.11: an error thrown from a timer while loading fails the load, with its place", async () => {
    const strays = new StrayErrors(() => {
      throw new Error("no error may go unclaimed here");
    });
    try {
      write({ "Buildfile.ts": `import { task } from "rbuild";\nsetTimeout(() => {\n  throw new Error("from a timer");\n}, 1);\nawait new Promise((r) => setTimeout(r, 200));\ntask({ name: "a" });\n` });
      const loaded = await loadBuildfile(join(dir, "Buildfile.ts"), { apiModule: API, cacheDir: join(dir, ".rbuild"), strays });
      expect(!loaded.ok && describeFailure(loaded.error, { cwd: dir })).toBe("Buildfile.ts:3:9: from a timer\n(thrown while loading Buildfile.ts; fix the Buildfile and run again)");
    } finally {
      strays.close();
    }
  });
});
