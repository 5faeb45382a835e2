import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { Workspace } from "./test-support/workspace.js";

const FIXTURES = fileURLToPath(new URL("../../fixtures/", import.meta.url));
const GOLDEN = fileURLToPath(new URL("./test-support/graph-demo.golden.json", import.meta.url));
const HAS_DOT = spawnSync("dot", ["-V"]).status === 0;

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.remove());

function copyFixture(name: string): void {
  cpSync(`${FIXTURES}${name}`, ws.root, {
    recursive: true,
    filter: (source) => !/\/(dist|build|node_modules|\.rbuild)(\/|$)/.test(source.slice(FIXTURES.length)),
  });
}

/** Every file of the workspace but the cache, with its size and mtime: what a command must leave alone. */
function tree(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.name === ".rbuild") continue;
      if (entry.isDirectory()) walk(path);
      else found.push(`${relative(ws.root, path)} ${statSync(path).size} ${statSync(path).mtimeMs}`);
    }
  };
  walk(ws.root);
  return found.sort();
}

const TEXT = `8 tasks, 5 hints: 2 errors, 2 warnings, 1 info

error missing-dep: "app:build" has an input glob ("packages/app/src/**") that would match a path such as packages/app/src/gen/x, an output of "codegen" ("packages/app/src/gen/**"), but does not depend on "codegen": the two can run at once, and "app:build" may read a stale or half-written file
  fix: add "codegen" to deps of "app:build"

error missing-import-dep: packages/app/src/main.ts imports "@demo/util", the workspace package in packages/util/ that "util:build" builds, but "app:build" does not depend on it: it may run before that package is built, or against an old build
  fix: add "util:build" to deps of "app:build"

warning broad-input: "fmt" has an input glob ("fmt-report.txt") that matches its own output fmt-report.txt ("fmt-report.txt"): each run changes its inputs, so it never comes from the cache
  fix: add "!fmt-report.txt" to the inputs of "fmt"

warning impure-upstream: "stamp" is impure and "docs" depends on it: it runs in every build, and 2 pure tasks downstream run again whenever its outputs change
  fix: make "stamp" pure (remove \`pure: false\` and declare its inputs and outputs), or remove it from deps of "docs"

info redundant-edge: "publish" depends on "util:build" directly and also through "docs"
  fix: remove "util:build" from deps of "publish"

critical path: 3 tasks, 0ms of 0ms total work
  stamp    no record
  docs     no record
  publish  no record
the longest chain is 3 tasks, with no recorded durations yet: build once to measure it
  fix: run a build, then \`rbuild graph\` again to see where the time goes
`;

describe("rbuild graph", () => {
  test("23.1: text (golden): the hints most valuable first, then the critical path; nothing runs, nothing is written", async () => {
    copyFixture("graph-demo");
    const before = tree();
    // -j as on CI's two cores: the critical path's bound names it.
    const result = await ws.run(["graph", "-j", "2"]);
    expect([result.exitCode, result.stderr]).toEqual([0, ""]);
    expect(result.stdout).toBe(TEXT);
    expect(tree()).toEqual(before);
  });

  test("23.2: json (golden): the versioned schema of packages/graph/README.md", async () => {
    copyFixture("graph-demo");
    const result = await ws.run(["graph", "--format", "json", "-j", "2"]);
    expect([result.exitCode, result.stderr]).toEqual([0, ""]);
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(GOLDEN, result.stdout);
    expect(result.stdout).toBe(readFileSync(GOLDEN, "utf8"));
  });

  test("23.1: --check exits 1 on an error hint, 0 on the fixtures that have none (and they get no warnings either)", async () => {
    copyFixture("graph-demo");
    expect((await ws.run(["graph", "--check"])).exitCode).toBe(1);
    for (const fixture of ["ts-monorepo", "pnpm-monorepo", "c-hello"]) {
      const clean = new Workspace();
      try {
        cpSync(`${FIXTURES}${fixture}`, clean.root, { recursive: true, filter: (source) => !/\/(dist|build|node_modules|\.rbuild)(\/|$)/.test(source.slice(FIXTURES.length)) });
        const result = await clean.run(["graph", "--check", "--format", "json"]);
        const report = JSON.parse(result.stdout) as { hints: { code: string; severity: string }[] };
        expect([fixture, result.exitCode, result.stderr, report.hints.filter((hint) => hint.severity !== "info")]).toEqual([fixture, 0, "", []]);
      } finally {
        clean.remove();
      }
    }
  });

  test("23.1: a Buildfile error is exit 2; an --out that cannot be written is exit 2 before the Buildfile loads", async () => {
    ws.write({ "Buildfile.ts": 'import { task } from "rbuild";\ntask({ name: "a", deps: ["nope"] });\n' });
    const broken = await ws.run(["graph"]);
    expect([broken.exitCode, broken.stdout]).toEqual([2, ""]);
    expect(broken.stderr).toMatch(/^rbuild: error: .*nope/);

    ws.write({ "Buildfile.ts": 'import { writeFileSync } from "node:fs";\nimport { task } from "rbuild";\nwriteFileSync("loaded", "");\ntask({ name: "a", run: "true" });\n' });
    const missingDir = await ws.run(["graph", "--out", "no/such/dir/graph.txt"]);
    expect([missingDir.exitCode, missingDir.stdout, missingDir.stderr]).toEqual([
      2,
      "",
      "rbuild: error: --out <root>/no/such/dir/graph.txt: the directory <root>/no/such/dir does not exist; create it or give a file in one that does.\nRun `rbuild --help` for usage.\n",
    ]);
    ws.write({ "locked/.keep": "" });
    chmodSync(join(ws.root, "locked"), 0o555);
    const directory = await ws.run(["graph", "--out", "locked"]);
    expect([directory.exitCode, directory.stderr]).toEqual([2, "rbuild: error: --out <root>/locked exists and is not a regular file; give the path of a new or regular file.\nRun `rbuild --help` for usage.\n"]);
    expect(readdirSync(ws.root).includes("loaded")).toBe(false);
    // Root may write anywhere: only another user sees the read-only directory refused.
    if (process.getuid?.() !== 0) {
      const readOnly = await ws.run(["graph", "--out", "locked/graph.txt"]);
      expect([readOnly.exitCode, readOnly.stderr]).toEqual([2, "rbuild: error: --out <root>/locked/graph.txt: cannot write in <root>/locked (EACCES); give a file in a directory you can write.\nRun `rbuild --help` for usage.\n"]);
      expect(readdirSync(ws.root).includes("loaded")).toBe(false);
    }
    expect((await ws.run(["graph", "--format", "svg"])).stderr).toBe('rbuild: error: --format must be one of text, json, dot, mermaid, html, got "svg".\nRun `rbuild --help` for usage.\n');
    expect((await ws.run(["a", "--check"])).stderr).toBe("rbuild: error: --format, --out and --check go with `rbuild graph`.\nRun `rbuild --help` for usage.\n");
  });

  test("23.1: targets narrow the graph to what they need, still naming a writer outside it; --out gets the output", async () => {
    copyFixture("graph-demo");
    const result = await ws.run(["graph", "app:build", "--format", "json", "--out", "graph.json"]);
    expect([result.exitCode, result.stdout, result.stderr]).toEqual([0, "", ""]);
    const report = JSON.parse(ws.read("graph.json")) as { tasks: { name: string }[]; hints: { code: string; fix: string }[] };
    expect(report.tasks.map((task) => task.name)).toEqual(["app:build"]);
    expect(report.hints.map((hint) => [hint.code, hint.fix])).toEqual([
      ["missing-dep", 'add "codegen" to deps of "app:build"'],
      ["missing-import-dep", 'add "util:build" to deps of "app:build"'],
      ["critical-path", "run a build, then `rbuild graph` again to see where the time goes"],
    ]);
  });

  test("23.2: after builds, durations, runs and hit rates come from the index, and evidence from the files on disk", async () => {
    copyFixture("graph-demo");
    for (let i = 0; i < 2; i++) expect((await ws.run(["util:build", "codegen", "-j", "1"])).exitCode).toBe(0);
    const result = await ws.run(["graph", "--format", "json"]);
    const report = JSON.parse(result.stdout) as {
      tasks: { name: string; durationMs: number | null; runs: number; hitRate: number | null }[];
      criticalPath: { ms: number; totalWorkMs: number };
      hints: { code: string; evidence: Record<string, unknown> }[];
    };
    const util = report.tasks.find((task) => task.name === "util:build")!;
    expect([util.runs, util.hitRate, typeof util.durationMs]).toEqual([2, 0.5, "number"]);
    expect(report.tasks.find((task) => task.name === "publish")).toMatchObject({ durationMs: null, runs: 0, hitRate: null });
    expect(report.criticalPath.totalWorkMs).toBeGreaterThan(0);
    expect(report.hints.find((hint) => hint.code === "missing-dep")?.evidence).toEqual({
      reader: "app:build",
      writer: "codegen",
      input: "packages/app/src/**",
      output: "packages/app/src/gen/**",
      path: "packages/app/src/gen/schema.ts",
      onDisk: true,
      files: 1,
    });
  });

  test("23.3: the history hints come from what real builds recorded: a volatile input, and outputs that differ for one key", async () => {
    ws.write({
      "Buildfile.ts": [
        'import { task } from "rbuild";',
        // Writes the time: a --force rerun of the same key gives other bytes in stamp.txt, the same in same.txt.
        'task({ name: "stamp", inputs: ["src/**"], outputs: ["out/stamp.txt", "out/same.txt"], run: "mkdir -p out && date +%s%N > out/stamp.txt && cp src/a.txt out/same.txt" });',
        'task({ name: "version", inputs: ["version.txt", "src/**"], outputs: ["out/v.txt"], run: "mkdir -p out && cp version.txt out/v.txt" });',
        "",
      ].join("\n"),
      "src/a.txt": "a\n",
      "version.txt": "0\n",
    });
    expect((await ws.run(["stamp", "version"])).exitCode).toBe(0);
    for (let i = 1; i <= 5; i++) {
      ws.write({ "version.txt": `${i}\n` });
      expect((await ws.run(["stamp", "version", ...(i === 5 ? ["--force"] : [])])).exitCode).toBe(0);
    }
    const result = await ws.run(["graph", "--format", "json", "--check"]);
    const report = JSON.parse(result.stdout) as { hints: { code: string; tasks: string[]; evidence: Record<string, unknown> }[] };
    const found = report.hints.filter((hint) => hint.code === "volatile-input" || hint.code === "nondeterministic");
    expect([result.exitCode, found.map((hint) => [hint.code, hint.tasks, hint.evidence["path"] ?? hint.evidence["differingPaths"]])]).toEqual([
      1,
      [
        ["nondeterministic", ["stamp"], ["out/stamp.txt"]],
        ["volatile-input", ["version"], "version.txt"],
      ],
    ]);
  });

  test("23.2: dot renders with Graphviz; mermaid is a graph TD block", async () => {
    copyFixture("graph-demo");
    const dot = await ws.run(["graph", "--format", "dot"]);
    expect(dot.exitCode).toBe(0);
    expect(dot.stdout.startsWith("digraph rbuild {\n")).toBe(true);
    if (HAS_DOT) {
      const svg = spawnSync("dot", ["-Tsvg"], { input: dot.stdout, encoding: "utf8" });
      expect([svg.status, svg.stderr]).toEqual([0, ""]);
      const titles = [...svg.stdout.matchAll(/<title>([^<]*)<\/title>/g)].map((match) => match[1]);
      for (const name of ["util:build", "codegen", "app:build", "stamp", "docs", "publish", "fmt", "all"]) expect(titles).toContain(name);
      expect(titles).toContain("codegen&#45;&gt;app:build");
    }
    const mermaid = await ws.run(["graph", "--format", "mermaid"]);
    expect(mermaid.stdout).toBe(`graph TD
  t0["util:build"]
  t1["codegen"]
  t2["app:build"]
  t3["stamp<br/>impure"]
  t4["docs"]
  t5["publish"]
  t6["fmt"]
  t7(["all<br/>group"])
  t3 --> t4
  t0 --> t4
  t4 --> t5
  t0 --> t5
  t2 --> t7
  t1 --> t7
  t4 --> t7
  t1 -.->|missing-dep| t2
  t0 -.->|missing-import-dep| t2
  classDef critical stroke:#c22,stroke-width:3px
  class t3,t4,t5 critical
  classDef impure fill:#fde2c8
  class t3 impure
`);
  });
});
