/**
 * Package scripts as tasks, run by the real npm, pnpm and yarn (pnpm and yarn
 * are this repository's devDependencies) in workspaces made by the tests.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { testWorkspace, type Workspace } from "./test-support/workspace.js";

const BIN = fileURLToPath(new URL("../../node_modules/.bin", import.meta.url));
const env = { PATH: `${BIN}:${process.env.PATH ?? "/usr/bin:/bin"}` };

/** A script that writes dist/out.txt from its package's src and what its dependencies built. */
const build = (name: string, deps: string[]) =>
  `mkdir -p dist && cat src/* ${deps.map((dep) => `../${dep}/dist/out.txt`).join(" ")} > dist/out.txt && echo ${name} >> ../../order.log`;

/** util <- types (no build script) <- app; docs has no build script and no dependents. */
function monorepo(manager: "npm" | "pnpm" | "yarn"): Record<string, string> {
  const dep = (name: string) => (manager === "npm" ? { [name]: "1.0.0" } : { [name]: "workspace:*" });
  const manifest = (name: string, scripts: Record<string, string>, deps: Record<string, string> = {}) => JSON.stringify({ name, version: "1.0.0", scripts, dependencies: deps });
  return {
    // pnpm is found from pnpm-workspace.yaml (its `packageManager` would make pnpm switch to that version).
    "package.json": JSON.stringify({ name: "root", private: true, ...(manager === "pnpm" ? {} : { workspaces: ["packages/*"], packageManager: `${manager}@1.0.0` }) }),
    ...(manager === "pnpm" ? { "pnpm-workspace.yaml": "packages:\n  - packages/*\n" } : {}),
    "Buildfile.ts": `import { scripts, task } from "rbuild";
export const build = task({ name: "build", deps: scripts("build", { deps: ["^build"], outputs: ["dist/**"] }) });
`,
    ".gitignore": "*.log\n",
    "packages/util/package.json": manifest("util", { build: build("util", []) }),
    "packages/util/src/u.txt": "util\n",
    "packages/types/package.json": manifest("types", {}, dep("util")),
    "packages/app/package.json": manifest("app", { build: build("app", ["util"]) }, dep("types")),
    "packages/app/src/a.txt": "app\n",
    "packages/docs/package.json": manifest("docs", { lint: "true" }),
  };
}

const order = (ws: Workspace): string[] => readFileSync(join(ws.root, "order.log"), "utf8").split("\n").filter(Boolean);

describe.each(["npm", "pnpm", "yarn"] as const)("a %s workspace", (manager) => {
  test(`22.2: scripts run by ${manager} in dependency order, looking through a package without the script, then cached`, async () => {
    const ws = testWorkspace(monorepo(manager));
    const first = await ws.run(["build", "--output-logs", "none"], { env });
    expect([first.exitCode, first.stdout, first.stderr]).toEqual([0, "> util#build\n✓ util#build (<t>)\n> app#build\n✓ app#build (<t>)\n", "rbuild: ok: 2 ran, 0 cached in <t>\n"]);
    expect(order(ws)).toEqual(["util", "app"]);
    expect(ws.read("packages/app/dist/out.txt")).toBe("app\nutil\n");

    const again = await ws.run(["build"], { env });
    expect(again.exitCode).toBe(0);
    expect(order(ws)).toEqual(["util", "app"]);

    // An edit in util rebuilds util and what depends on it; a gitignored file changes nothing.
    writeFileSync(join(ws.root, "packages/util/debug.log"), "noise\n");
    writeFileSync(join(ws.root, "packages/util/src/u.txt"), "util 2\n");
    expect((await ws.run(["build"], { env })).exitCode).toBe(0);
    expect(order(ws)).toEqual(["util", "app", "util", "app"]);
    expect(ws.read("packages/app/dist/out.txt")).toBe("app\nutil 2\n");
    writeFileSync(join(ws.root, "packages/util/debug.log"), "more noise\n");
    expect((await ws.run(["build"], { env })).exitCode).toBe(0);
    expect(order(ws)).toEqual(["util", "app", "util", "app"]);
  });
});

describe("scripts() in a Buildfile", () => {
  test("22.adopt: an edit of the script itself runs it again, also when `inputs` leaves package.json out", async () => {
    const ws = testWorkspace({
      "package.json": JSON.stringify({ name: "w", private: true, workspaces: ["packages/*"] }),
      "packages/p/package.json": JSON.stringify({ name: "p", version: "1.0.0", scripts: { build: "mkdir -p dist && echo one > dist/out.txt" } }),
      "packages/p/src/a.ts": "x\n",
      "Buildfile.ts": `import { scripts, task } from "rbuild";
export const build = task({ name: "build", deps: scripts("build", { inputs: ["src/**"], outputs: ["dist/**"] }) });
`,
    });
    expect((await ws.run(["build"], { env })).exitCode).toBe(0);
    writeFileSync(join(ws.root, "packages/p/package.json"), ws.read("packages/p/package.json").replace("echo one", "echo two"));
    const edited = await ws.run(["build", "--output-logs", "none"], { env });
    expect([edited.exitCode, edited.stdout, ws.read("packages/p/dist/out.txt")]).toEqual([0, "> p#build\n✓ p#build (<t>)\n", "two\n"]);
  });

  test("22.1: a dependency cycle is a Buildfile error naming the packages and the Buildfile's line", async () => {
    const files = monorepo("npm");
    const ws = testWorkspace({ ...files, "packages/util/package.json": JSON.stringify({ name: "util", version: "1.0.0", devDependencies: { app: "*" } }) });
    const result = await ws.run(["build"], { env });
    expect([result.exitCode, result.stdout]).toEqual([2, ""]);
    expect(result.stderr).toBe(
      "rbuild: error: Buildfile.ts:2:50: the workspace's packages depend on each other in a cycle: app -> types -> util -> app; no order builds them. Remove one of these dependencies (a devDependency is often the one to drop)\n(thrown while loading Buildfile.ts; fix the Buildfile and run again)\n",
    );
  });
});

describe("--filter", () => {
  test("22.3: builds the selected packages' tasks and what they need, nothing else", async () => {
    const ws = testWorkspace({
      ...monorepo("npm"),
      "packages/extra/package.json": JSON.stringify({ name: "extra", version: "1.0.0", scripts: { build: build("extra", []) } }),
      "packages/extra/src/e.txt": "extra\n",
    });
    const util = await ws.run(["build", "--filter", "util", "--output-logs", "none"], { env });
    expect([util.exitCode, util.stdout]).toEqual([0, "> util#build\n✓ util#build (<t>)\n"]);
    const app = await ws.run(["build", "-F", "app...", "--output-logs", "none"], { env });
    expect([app.exitCode, app.stdout]).toEqual([0, "✓ util#build (cached, local)\n> app#build\n✓ app#build (<t>)\n"]);
    expect(order(ws)).toEqual(["util", "app"]);
    const dependents = await ws.run(["build", "--filter", "...util", "--filter", "!app", "--output-logs", "none"], { env });
    expect([dependents.exitCode, dependents.stdout]).toEqual([0, "✓ util#build (cached, local)\n"]);
    const dir = await ws.run(["build", "--filter", "./extra", "--output-logs", "none"], { env, cwd: join(ws.root, "packages") });
    expect([dir.exitCode, dir.stdout]).toEqual([0, "> extra#build\n✓ extra#build (<t>)\n"]);
  });

  test("22.3: a filter that matches no package is a usage error; packages without the targets' tasks are nothing to do", async () => {
    const ws = testWorkspace(monorepo("npm"));
    expect(await ws.run(["build", "--filter", "ap"], { env })).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: 'rbuild: error: --filter "ap" matches no package of the workspace; its packages are: util, types, app, docs\nRun `rbuild --help` for usage.\n',
    });
    // As turbo does: a CI loop over changed packages passes over one without the script.
    expect(await ws.run(["build", "--filter", "docs", "--summary", "s.json"], { env })).toEqual({
      exitCode: 0,
      stdout: "",
      stderr: "rbuild: --filter docs selects docs, and none of the tasks build reaches belongs to it (tasks named <package>#<script>, as scripts() declares them): nothing to do.\n",
    });
    expect(JSON.parse(ws.read("s.json"))).toMatchObject({ ok: true, tasks: [] });
    expect((await ws.run(["list", "--filter", "app"], { env })).stderr).toBe("rbuild: error: --filter goes with running tasks, e.g. `rbuild build --filter my-app...`, and with `rbuild graph`.\nRun `rbuild --help` for usage.\n");
  });

  test("22.adopt: a task name that does not exist is reported with --filter too, not dropped", async () => {
    const ws = testWorkspace(monorepo("npm"));
    const result = await ws.run(["build", "buidl", "--filter", "app"], { env });
    expect([result.exitCode, result.stdout, result.stderr]).toEqual([2, "", 'rbuild: error: Unknown task "buidl". Did you mean "build"? Run `rbuild list` to see every task.\n']);
  });
});
