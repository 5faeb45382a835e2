/** Adopting a workspace with scripts(): warnings and inputs that fit how monorepos are laid out. */
import { describe, expect, test } from "vitest";
import { testWorkspace } from "./test-support/workspace.js";

const manifest = (name: string, scripts: Record<string, string>) => JSON.stringify({ name, version: "1.0.0", scripts });

describe("scripts() papercuts", () => {
  test("22.2: an input glob of scripts() that some packages lack is one warning, not one per package", async () => {
    const ws = testWorkspace({
      "package.json": JSON.stringify({ name: "root", private: true, workspaces: ["packages/*"] }),
      "Buildfile.ts": `import { scripts, task } from "rbuild";
export const build = task({ name: "build", deps: scripts("build", { inputs: ["src/**", "tsconfig.json"] }) });
`,
      "packages/a/package.json": manifest("a", { build: "true" }),
      "packages/a/src/a.ts": "a\n",
      "packages/a/tsconfig.json": "{}\n",
      "packages/b/package.json": manifest("b", { build: "true" }),
      "packages/b/src/b.ts": "b\n",
      "packages/c/package.json": manifest("c", { build: "true" }),
      "packages/c/src/c.ts": "c\n",
    });
    const result = await ws.run(["build", "-j", "1", "--output-logs", "none"]);
    expect([result.exitCode, result.stderr]).toEqual([
      0,
      'rbuild: task "b#build": its input glob "packages/b/tsconfig.json" matches no file (globs are relative to the Buildfile\'s directory); fix or remove it; "tsconfig.json" in other tasks\' directories is not named again\nrbuild: ok: 3 ran, 0 cached in <t>\n',
    ]);
  });

  test("22.2: two script tasks writing into their package's directory do not rerun each other", async () => {
    const ws = testWorkspace({
      "package.json": JSON.stringify({ name: "root", private: true, workspaces: ["packages/*"] }),
      "Buildfile.ts": `import { scripts, task } from "rbuild";
const build = scripts("build", { outputs: ["out/**"] });
export const all = task({ name: "all", deps: [...build, ...scripts("test", { deps: ["build"], outputs: ["coverage/**"] })] });
`,
      "packages/p/package.json": manifest("p", { build: "mkdir -p out && cat src/* > out/p.txt", test: "mkdir -p coverage && date +%N > coverage/run.txt" }),
      "packages/p/src/p.txt": "p\n",
    });
    const first = await ws.run(["all", "--output-logs", "none"]);
    expect([first.exitCode, first.stderr]).toEqual([0, "rbuild: ok: 2 ran, 0 cached in <t>\n"]);
    const again = await ws.run(["all", "--output-logs", "none"]);
    expect([again.exitCode, again.stdout, again.stderr]).toEqual([0, "✓ p#build (cached, local)\n✓ p#test (cached, local)\n", "rbuild: ok: 0 ran, 2 cached in <t>\n"]);
  });
});
