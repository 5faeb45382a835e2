import { spawnSync } from "node:child_process";
import { cpSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { byTask, endOrder } from "./test-support/task-lines.js";
import { Workspace } from "./test-support/workspace.js";

const FIXTURES = fileURLToPath(new URL("../../fixtures/", import.meta.url));
// The TypeScript fixture needs tsc; outside the repository it comes from the repository's own install.
const REPO_BIN = fileURLToPath(new URL("../../node_modules/.bin", import.meta.url));

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.remove());

/** A copy of a fixture without anything a previous build left in it. */
function copyFixture(name: string): void {
  cpSync(`${FIXTURES}${name}`, ws.root, {
    recursive: true,
    filter: (source) => !/\/(dist|build|node_modules|\.rbuild)(\/|$)/.test(source.slice(FIXTURES.length)),
  });
}

describe("fixtures", () => {
  test("ts-monorepo (22.5): the packages' build scripts in dependency order, then the test script", async () => {
    copyFixture("ts-monorepo");
    const result = await ws.run(["test", "-j", "2"], { env: { PATH: `${REPO_BIN}:${process.env.PATH}` } });
    expect(result.stderr).toBe("rbuild: ok: 4 ran, 0 cached in <t>\n");
    expect(result.stdout.split("\n").filter((line) => line.startsWith(">"))).toEqual([
      "> @demo/util#build",
      "> @demo/greet#build",
      "> @demo/app#build",
      "> @demo/app#test",
    ]);
    expect(result.stdout).toMatch(/\[@demo\/app#test\] # pass 1\n\[@demo\/app#test\] # fail 0\n/);
    expect(ws.read("packages/app/dist/index.js")).toContain("greet");
  });

  test("pnpm-monorepo (22.5): installed by pnpm, built through a package without a build script, tested, then an edit rebuilds what it reaches", async () => {
    copyFixture("pnpm-monorepo");
    const env = { PATH: `${REPO_BIN}:${process.env.PATH}` };
    // pnpm links the workspace's packages into each package's node_modules; nothing comes from a registry.
    const install = spawnSync("pnpm", ["install", "--offline", "--frozen-lockfile"], { cwd: ws.root, env: { ...process.env, ...env }, encoding: "utf8" });
    expect([install.status, install.stderr]).toEqual([0, ""]);
    const first = await ws.run(["test", "--output-logs", "none"], { env });
    expect([first.exitCode, first.stdout, first.stderr]).toEqual([
      0,
      "> @pn/math#build\n✓ @pn/math#build (<t>)\n> @pn/cli#build\n✓ @pn/cli#build (<t>)\n> @pn/cli#test\n✓ @pn/cli#test (<t>)\n",
      "rbuild: ok: 3 ran, 0 cached in <t>\n",
    ]);
    writeFileSync(join(ws.root, "packages/math/src/index.js"), "export const add = (a, b) => b + a;\n");
    const edited = await ws.run(["test", "--output-logs", "none"], { env });
    // @pn/cli builds again to the same dist, but its test imports @pn/math at run time: it runs again too.
    expect([edited.exitCode, edited.stdout]).toEqual([
      0,
      "> @pn/math#build\n✓ @pn/math#build (<t>)\n> @pn/cli#build\n✓ @pn/cli#build (<t>)\n> @pn/cli#test\n✓ @pn/cli#test (<t>)\n",
    ]);
    // An edit in the package without a build script reaches the test the same way.
    writeFileSync(join(ws.root, "packages/format/src/index.js"), 'import { add } from "@pn/math";\n\nexport const sum = (...numbers) => `sum: ${numbers.reduce(add, 0)}`;\n// edited\n');
    const formatEdited = await ws.run(["test", "--output-logs", "none"], { env });
    expect([formatEdited.exitCode, formatEdited.stdout]).toEqual([0, "✓ @pn/math#build (cached, local)\n> @pn/cli#build\n✓ @pn/cli#build (<t>)\n> @pn/cli#test\n✓ @pn/cli#test (<t>)\n"]);
  });

  test("c-hello: parallel compiles, a link and a test, from a file with a non-ASCII name", async () => {
    copyFixture("c-hello");
    const result = await ws.run(["test"]);
    // The two compiles run beside each other and end in either order; the link after both, the test last.
    expect(byTask(result)).toEqual({
      exitCode: 0,
      stdout: "> compile:grüße\n✓ compile:grüße (<t>)\n> compile:main\n✓ compile:main (<t>)\n> link\n✓ link (<t>)\n> test\n[test] hello: 2 checks passed\n✓ test (<t>)\n",
      stderr: "rbuild: ok: 4 ran, 0 cached in <t>\n",
    });
    const ends = endOrder(result.stdout);
    expect([ends.slice(0, 2).sort(), ends.slice(2)]).toEqual([["compile:grüße", "compile:main"], ["link", "test"]]);
    expect(result.stdout.indexOf("> link")).toBeGreaterThan(Math.max(result.stdout.indexOf("✓ compile:main"), result.stdout.indexOf("✓ compile:grüße")));
  });
});
