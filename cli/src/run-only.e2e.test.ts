import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { testCacheServer } from "./test-support/cache-server.js";
import { testWorkspace, type Workspace } from "./test-support/workspace.js";

// A count file records every real run of a task.
const BUILDFILE = `import { task } from "rbuild";
const lib = task({ name: "lib", inputs: ["src/**"], outputs: ["lib.txt"], run: "echo run >> lib.count; cat src/*.txt > lib.txt" });
const app = task({ name: "app", deps: [lib], outputs: ["app.txt"], run: "echo run >> app.count; wc -c < lib.txt > app.txt" });
task({ name: "all", deps: [app] });
const stamp = task({ name: "stamp", pure: false, outputs: ["stamp.txt"], run: "echo run >> stamp.count; date > stamp.txt" });
task({ name: "site", deps: [stamp], run: "echo run >> site.count" });
`;

const workspace = (): Workspace => testWorkspace({ "Buildfile.ts": BUILDFILE, "src/a.txt": "alpha\n" });
const runs = (ws: Workspace, name: string): number => (existsSync(join(ws.root, `${name}.count`)) ? ws.read(`${name}.count`).split("\n").filter(Boolean).length : 0);
const tidy = (text: string): string => text.replace(/ \(\d+ms\)/g, " (<t>)").replace(/ in \d+ms\n/g, " in <t>\n");

async function build(ws: Workspace, args: string[]): Promise<{ exitCode: number | undefined; stdout: string; stderr: string }> {
  const result = await ws.run([...args, "--output", "plain", "--output-logs", "none"]);
  return { exitCode: result.exitCode, stdout: tidy(result.stdout), stderr: tidy(result.stderr) };
}

describe("28.1: rbuild run <task> --only", () => {
  test("28.1: --only with the dep not in the cache: an error naming it and how to build it; nothing runs", async () => {
    const ws = workspace();
    expect(await build(ws, ["run", "app", "--only"])).toEqual({
      exitCode: 1,
      stdout: "✗ lib (<t>)\n- app skipped (dependency-failed: lib)\n",
      stderr:
        'error: Task "lib" is not in the local cache (and no --remote was given), and --only takes it from there for "app" instead of running it. Build it first: `rbuild run lib`; or run `rbuild run app` without --only to build what it needs.\n' +
        "rbuild: failed: 0 ran, 0 cached, 1 failed, 1 skipped in <t>\n",
    });
    expect([runs(ws, "lib"), runs(ws, "app")]).toEqual([0, 0]);
  });

  test("28.1: --only with the dep in the local cache: the dep is restored, only the task runs", async () => {
    const ws = workspace();
    expect((await build(ws, ["lib"])).exitCode).toBe(0);
    rmSync(join(ws.root, "lib.txt"));
    expect(await build(ws, ["app", "--only"])).toEqual({ exitCode: 0, stdout: "✓ lib (cached, local)\n> app\n✓ app (<t>)\n", stderr: "rbuild: ok: 1 ran, 1 cached in <t>\n" });
    expect([runs(ws, "lib"), runs(ws, "app"), ws.read("lib.txt"), ws.read("app.txt").trim()]).toEqual([1, 1, "alpha\n", "6"]);
  });

  test("28.1: --only with a dep whose inputs changed since it was cached: not in the cache, said so", async () => {
    const ws = workspace();
    expect((await build(ws, ["lib"])).exitCode).toBe(0);
    writeFileSync(join(ws.root, "src/a.txt"), "changed\n");
    const result = await build(ws, ["app", "--only"]);
    expect([result.exitCode, result.stdout]).toEqual([1, "✗ lib (<t>)\n- app skipped (dependency-failed: lib)\n"]);
    expect(runs(ws, "lib")).toBe(1);
  });

  test("28.1: --only on another machine takes the dep from the remote cache (as a Concourse job does)", async () => {
    const server = await testCacheServer("rbuild-only-e2e-");
    const first = workspace();
    const second = workspace();
    expect((await build(first, ["run", "lib", "--only", "--remote", server.url])).exitCode).toBe(0);
    expect(await build(second, ["run", "app", "--only", "--remote", server.url])).toEqual({
      exitCode: 0,
      stdout: "✓ lib (cached, remote)\n> app\n✓ app (<t>)\n",
      stderr: "rbuild: ok: 1 ran, 1 cached in <t>\n",
    });
    expect([runs(second, "lib"), runs(second, "app"), second.read("lib.txt")]).toEqual([0, 1, "alpha\n"]);
    // The dep missing from the remote too: the message says both were asked.
    const third = testWorkspace({ "Buildfile.ts": BUILDFILE, "src/a.txt": "other\n" });
    const missing = await build(third, ["run", "app", "--only", "--remote", server.url]);
    expect([missing.exitCode, missing.stderr.split("\n")[0]]).toEqual([
      1,
      'error: Task "lib" is not in the local or the remote cache, and --only takes it from there for "app" instead of running it. Build it first: `rbuild run lib` with the same --remote; or run `rbuild run app` without --only to build what it needs.',
    ]);
  });

  test("28.1: --only on a group runs what it groups; an impure dep can never come from the cache", async () => {
    const ws = workspace();
    expect((await build(ws, ["lib"])).exitCode).toBe(0);
    expect(await build(ws, ["all", "--only"])).toEqual({ exitCode: 0, stdout: "✓ lib (cached, local)\n> app\n✓ app (<t>)\n", stderr: "rbuild: ok: 1 ran, 1 cached in <t>\n" });
    const impure = await build(ws, ["site", "--only"]);
    expect([impure.exitCode, impure.stderr.split("\n")[0], runs(ws, "stamp"), runs(ws, "site")]).toEqual([
      1,
      'error: Task "stamp" is impure (pure: false): its results are never cached, so --only cannot take it from the cache for "site". Run `rbuild run site` without --only, or make "stamp" pure if its outputs depend only on its inputs.',
      0,
      0,
    ]);
  });

  test("28.1: --only goes with running tasks, and not with --force or --dry-run", async () => {
    const ws = workspace();
    const first = async (args: string[]): Promise<[number | undefined, string]> => {
      const result = await ws.run(args);
      return [result.exitCode, result.stderr.split("\n")[0]!];
    };
    expect(await first(["app", "--only", "-f"])).toEqual([2, "rbuild: error: --only takes the tasks' deps from the cache and -f/--force would run them; use one or the other."]);
    expect(await first(["app", "--only", "-n"])).toEqual([2, "rbuild: error: --only with -n/--dry-run is not supported; `rbuild run <task> -n` shows what would run and why."]);
    expect(await first(["list", "--only"])).toEqual([2, "rbuild: error: --only goes with running tasks, e.g. `rbuild run test --only`, not with `rbuild list`."]);
  });
});
