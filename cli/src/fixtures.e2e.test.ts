import { cpSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
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
    filter: (source) => !/\/(dist|build|\.rbuild)(\/|$)/.test(source.slice(FIXTURES.length)),
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

  test("c-hello: parallel compiles, a link and a test, from a file with a non-ASCII name", async () => {
    copyFixture("c-hello");
    const result = await ws.run(["test"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split("\n").filter((line) => !line.startsWith("✓")).slice(2)).toEqual([
      "> link",
      "> test",
      "[test] hello: 2 checks passed",
      "",
    ]);
  });
});
