/** `rbuild init` in real npm workspaces made by the tests, then the Buildfile it wrote, run by the real npm. */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { testWorkspace, type Workspace } from "./test-support/workspace.js";

/** A script that writes `out` from its package's src and what its dependencies built, and logs its name (and NODE_ENV). */
const build = (name: string, out: string, deps: string[]) =>
  `mkdir -p ${out.split("/")[0]} && cat src/* ${deps.map((dep) => `../${dep}/dist/out.txt`).join(" ")} > ${out} && echo ${name}-$NODE_ENV >> ../../order.log`;

const manifest = (name: string, scripts: Record<string, string>, deps: string[] = []) =>
  JSON.stringify({ name, version: "1.0.0", scripts, dependencies: Object.fromEntries(deps.map((dep) => [dep, "1.0.0"])) });

/** util <- ui <- web; web builds into .next/, the others into dist/; everyone has a test and a dev server. */
const MONOREPO: Record<string, string> = {
  "package.json": JSON.stringify({ name: "root", private: true, workspaces: ["packages/*"] }),
  ".gitignore": "node_modules\n*.log",
  "packages/util/package.json": manifest("util", { build: build("util", "dist/out.txt", []), test: "echo util-test >> ../../order.log", dev: "sleep 1000" }),
  "packages/util/src/u.txt": "util\n",
  "packages/ui/package.json": manifest("ui", { build: build("ui", "dist/out.txt", ["util"]), test: "echo ui-test >> ../../order.log", dev: "sleep 1000" }, ["util"]),
  "packages/ui/src/u.txt": "ui\n",
  "packages/web/package.json": manifest("web", { build: build("web", ".next/out.txt", ["ui"]), test: "echo web-test >> ../../order.log", dev: "sleep 1000" }, ["ui"]),
  "packages/web/src/w.txt": "web\n",
};

const TURBO = `{
  "$schema": "https://turborepo.com/schema.json",
  "tasks": {
    "build": { "dependsOn": ["^build"], "outputs": ["dist/**"], "env": ["NODE_ENV"] },
    // Next.js writes .next/; its cache is not an output.
    "web#build": { "dependsOn": ["^build"], "outputs": [".next/**", "!.next/cache/**"], "env": ["NODE_ENV"] },
    "test": { "dependsOn": ["build"], "cache": false },
    "dev": { "persistent": true, "cache": false }
  }
}
`;

const env = { NODE_ENV: "production" };
const order = (ws: Workspace): string[] => readFileSync(join(ws.root, "order.log"), "utf8").split("\n").filter(Boolean);

describe("rbuild init", () => {
  test("22.4: rbuild init on a turbo.json whose translated Buildfile then builds, in order, first time; a second init refuses", async () => {
    const ws = testWorkspace({ ...MONOREPO, "turbo.json": TURBO });
    expect(await ws.run(["init"])).toEqual({
      exitCode: 0,
      stdout: 'wrote Buildfile.ts from turbo.json: tasks build, test; 1 note to check (the lines with "rbuild init:")\nadded .rbuild/ to .gitignore\nnext: rbuild build\n',
      stderr: "",
    });
    const buildfile = `// Written by \`rbuild init\` from turbo.json: each task runs one script in every package that has it.
// Read the \`rbuild init:\` notes, then run \`rbuild build\`.
import { scripts, task } from "rbuild";

export const build = task({
  name: "build",
  deps: scripts("build", {
    deps: ["^build"],
    outputs: ["dist/**"],
    env: ["NODE_ENV"],
    overrides: { web: { outputs: [".next/**", "!.next/cache/**"] } },
  }),
});

export const test = task({ name: "test", deps: scripts("test", { deps: ["build"], pure: false }) });

// rbuild init: dev not translated: it is persistent (a dev server or watcher, which never finishes), and a build task must finish; run it with \`npm run dev\` in a package
`;
    expect(ws.read("Buildfile.ts")).toBe(buildfile);
    expect(ws.read(".gitignore")).toBe("node_modules\n*.log\n.rbuild/\n");

    const first = await ws.run(["build", "--output-logs", "none"], { env });
    expect(first).toEqual({
      exitCode: 0,
      stdout: "> util#build\n✓ util#build (<t>)\n> ui#build\n✓ ui#build (<t>)\n> web#build\n✓ web#build (<t>)\n",
      stderr: "rbuild: ok: 3 ran, 0 cached in <t>\n",
    });
    expect(order(ws)).toEqual(["util-production", "ui-production", "web-production"]);
    expect(ws.read("packages/web/.next/out.txt")).toBe("web\nui\nutil\n");

    // The builds are cached; the tests (cache: false) always run, after them.
    const tests = await ws.run(["test", "-j", "1", "--output-logs", "none"], { env });
    expect([tests.exitCode, tests.stderr]).toEqual([0, "rbuild: ok: 3 ran, 3 cached in <t>\n"]);
    expect(order(ws).slice(3).sort()).toEqual(["ui-test", "util-test", "web-test"]);

    expect(await ws.run(["init"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: "rbuild: error: Buildfile.ts already exists, and rbuild init does not change a Buildfile: remove it first to write a new one.\n",
    });
    expect(ws.read("Buildfile.ts")).toBe(buildfile);
    expect(ws.read(".gitignore")).toBe("node_modules\n*.log\n.rbuild/\n");
  });

  test("22.4: without a turbo.json the common scripts become tasks, and the Buildfile builds", async () => {
    const ws = testWorkspace({ ...MONOREPO, "packages/web/package.json": manifest("web", { build: build("web", "dist/out.txt", ["ui"]) }, ["ui"]), ".gitignore": "/.rbuild\n" });
    expect(await ws.run(["init"])).toEqual({
      exitCode: 0,
      stdout: "wrote Buildfile.ts from the packages' scripts: tasks build, test; 1 note to check (the lines with \"rbuild init:\")\nnext: rbuild build\n",
      stderr: "",
    });
    expect(ws.read(".gitignore")).toBe("/.rbuild\n");
    const built = await ws.run(["build", "--output-logs", "none"]);
    expect([built.exitCode, built.stderr]).toEqual([0, "rbuild: ok: 3 ran, 0 cached in <t>\n"]);
    expect(order(ws)).toEqual(["util-", "ui-", "web-"]);
  });

  test("22.adopt: two turbo tasks of a package with overlapping outputs: the Buildfile init writes loads and builds, each file cached by one task", async () => {
    const ws = testWorkspace({
      "package.json": JSON.stringify({ name: "o", private: true, workspaces: ["packages/*"] }),
      // As in a real repository: else each task's default inputs would hold the other's outputs.
      ".gitignore": "dist\nnode_modules\n",
      "packages/p/package.json": manifest("p", { build: "mkdir -p dist && echo js > dist/x.js", "build:types": "mkdir -p dist && echo dts > dist/x.d.ts" }),
      "turbo.json": JSON.stringify({ tasks: { build: { outputs: ["dist/**"] }, "build:types": { outputs: ["dist/**/*.d.ts"] } } }),
    });
    expect((await ws.run(["init"])).exitCode).toBe(0);
    expect(ws.read("Buildfile.ts")).toContain('outputs: ["dist/**", "!dist/**/*.d.ts"]');
    const built = await ws.run(["build", "build:types", "--output-logs", "none"]);
    expect([built.exitCode, built.stderr]).toEqual([0, "rbuild: ok: 2 ran, 0 cached in <t>\n"]);
    rmSync(join(ws.root, "packages/p/dist"), { recursive: true });
    const restored = await ws.run(["build", "build:types", "--output-logs", "none"]);
    expect([restored.exitCode, restored.stderr]).toEqual([0, "rbuild: ok: 0 ran, 2 cached in <t>\n"]);
    expect([ws.read("packages/p/dist/x.js"), ws.read("packages/p/dist/x.d.ts")]).toEqual(["js\n", "dts\n"]);
  });

  test("22.4: a directory that is not a workspace root is refused, saying what was looked for", async () => {
    const ws = testWorkspace({ "package.json": JSON.stringify({ name: "app" }), "sub/x.txt": "" });
    const looked = (dir: string) =>
      `rbuild: error: rbuild init runs in the root of an npm, pnpm or yarn workspace, and this is not one: looked for a package.json with \`workspaces\` (npm, yarn) or a pnpm-workspace.yaml in ${dir}.\n`;
    expect(await ws.run(["init"])).toEqual({ exitCode: 2, stdout: "", stderr: looked("<root>") });
    expect(await ws.run(["init", "-C", "sub"])).toEqual({ exitCode: 2, stdout: "", stderr: looked("<root>/sub") });
    expect(await ws.run(["init", "build"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: 'rbuild: error: `rbuild init` takes no task names; to run a task named "init", use `rbuild run init`.\nRun `rbuild --help` for usage.\n',
    });
    expect(() => ws.read("Buildfile.ts")).toThrow(/ENOENT/);
    expect(() => ws.read(".gitignore")).toThrow(/ENOENT/);
  });
  test("22.adopt: init in a package of a workspace names the root above it and the command to run there", async () => {
    const ws = testWorkspace({ ...MONOREPO, "turbo.json": TURBO });
    const refused = (dir: string, above: string, command: string) => ({
      exitCode: 2,
      stdout: "",
      stderr:
        `rbuild: error: rbuild init runs in the root of an npm, pnpm or yarn workspace, and this is not one: looked for a package.json with \`workspaces\` (npm, yarn) or a pnpm-workspace.yaml in ${dir}. ` +
        `The workspace root above it is ${above}: run \`${command}\` to write the Buildfile there.\n`,
    });
    expect(await ws.run(["init"], { cwd: join(ws.root, "packages/ui") })).toEqual(refused("<root>/packages/ui", "../..", "rbuild init -C ../.."));
    expect(await ws.run(["init", "-C", "packages/ui/src"])).toEqual(refused("<root>/packages/ui/src", "<root>", "rbuild init -C ."));
    expect(() => ws.read("Buildfile.ts")).toThrow(/ENOENT/);
  });
});
