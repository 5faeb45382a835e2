/**
 * scripts() tasks key on the root lockfile's entries for their package, not
 * on the whole file: workspaces installed by the real npm, pnpm and yarn (the
 * repository's devDependencies) from tarballs the test makes, so nothing comes
 * from a registry.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { byTask } from "./test-support/task-lines.js";
import { testWorkspace, type Workspace } from "./test-support/workspace.js";

const BIN = fileURLToPath(new URL("../../node_modules/.bin", import.meta.url));
const env = { PATH: `${BIN}:${process.env.PATH ?? "/usr/bin:/bin"}` };

type Manager = "npm" | "pnpm" | "yarn";
const LOCKFILE: Record<Manager, string> = { npm: "package-lock.json", pnpm: "pnpm-lock.yaml", yarn: "yarn.lock" };

/** Makes vendor/<name>-<version>.tgz, a package as a registry would serve it; returns its spec from a package's directory. */
function tarball(ws: Workspace, name: string, version: string): string {
  const source = join(ws.root, "vendor-src", `${name}-${version}`, "package");
  mkdirSync(source, { recursive: true });
  writeFileSync(join(source, "package.json"), JSON.stringify({ name, version, main: "index.js" }));
  writeFileSync(join(source, "index.js"), `module.exports = ${JSON.stringify(version)};\n`);
  mkdirSync(join(ws.root, "vendor"), { recursive: true });
  const made = spawnSync("tar", ["-czf", `vendor/${name}-${version}.tgz`, "-C", `vendor-src/${name}-${version}`, "package"], { cwd: ws.root, encoding: "utf8" });
  expect([made.status, made.stderr]).toEqual([0, ""]);
  return `file:../../vendor/${name}-${version}.tgz`;
}

function install(ws: Workspace, manager: Manager): void {
  const args: Record<Manager, string[]> = {
    npm: ["install", "--offline", "--no-audit", "--no-fund", "--no-update-notifier", "--loglevel", "error"],
    // pnpm freezes the lockfile when CI is set: these installs are what change it.
    pnpm: ["install", "--offline", "--no-frozen-lockfile", "--store-dir", join(ws.root, ".store"), "--reporter", "silent"],
    yarn: ["install", "--offline", "--silent", "--non-interactive", "--cache-folder", join(ws.root, ".store")],
  };
  const done = spawnSync(manager, args[manager], { cwd: ws.root, env: { ...process.env, ...env, HOME: ws.root }, encoding: "utf8" });
  expect([done.status, done.stderr]).toEqual([0, ""]);
}

const manifest = (name: string, deps: Record<string, string>, scripts: Record<string, string>) => JSON.stringify({ name, version: "1.0.0", scripts, dependencies: deps });
/** What each build saw of its dependency, as installed: its version. */
const build = (name: string, dep: string) => `mkdir -p dist && node -p 'require("${dep}")' > dist/out.txt && echo ${name} >> ../../order.log`;
const order = (ws: Workspace): string[] => readFileSync(join(ws.root, "order.log"), "utf8").split("\n").filter(Boolean);

describe.each(["npm", "pnpm", "yarn"] as const)("a %s workspace", (manager) => {
  test(`22.2: a dependency bump in one package reruns that package's task only; a change in another package's entries reruns neither (${manager})`, async () => {
    const ws = testWorkspace({});
    const lockfile = LOCKFILE[manager];
    ws.write({
      "package.json": JSON.stringify({ name: "root", private: true, ...(manager === "pnpm" ? {} : { workspaces: ["packages/*"] }) }),
      ...(manager === "pnpm" ? { "pnpm-workspace.yaml": "packages:\n  - packages/*\n" } : {}),
      ".gitignore": "node_modules\n*.log\n.store\n",
      "Buildfile.ts": `import { scripts, task } from "rbuild";
export const build = task({ name: "build", deps: scripts("build", { outputs: ["dist/**"] }) });
`,
      "packages/a/package.json": manifest("a", { "dep-a": tarball(ws, "dep-a", "1.0.0") }, { build: build("a", "dep-a") }),
      "packages/b/package.json": manifest("b", { "dep-b": tarball(ws, "dep-b", "1.0.0") }, { build: build("b", "dep-b") }),
      "packages/c/package.json": manifest("c", {}, { lint: "true" }),
    });
    install(ws, manager);
    const first = await ws.run(["build", "-j", "1", "--output-logs", "none"], { env });
    expect([first.exitCode, first.stdout, first.stderr]).toEqual([0, "> a#build\n✓ a#build (<t>)\n> b#build\n✓ b#build (<t>)\n", "rbuild: ok: 2 ran, 0 cached in <t>\n"]);
    expect([ws.read("packages/a/dist/out.txt"), ws.read("packages/b/dist/out.txt")]).toEqual(["1.0.0\n", "1.0.0\n"]);

    // a's dependency bumped: a runs again, b's entries are as they were.
    writeFileSync(join(ws.root, "packages/a/package.json"), manifest("a", { "dep-a": tarball(ws, "dep-a", "1.1.0") }, { build: build("a", "dep-a") }));
    install(ws, manager);
    expect(await ws.run(["why", "a#build"], { env })).toEqual({
      exitCode: 0,
      stdout: `a#build would run:\n  input-changed: packages/a/package.json\n  key-part-changed: ${lockfile} entries of packages/a\n`,
      stderr: "",
    });
    const bumped = await ws.run(["build", "-j", "1", "--output-logs", "none"], { env });
    // A cached task's line may come before or after the running one's.
    expect([bumped.exitCode, byTask(bumped.stdout), bumped.stderr]).toEqual([0, "> a#build\n✓ a#build (<t>)\n✓ b#build (cached, local)\n", "rbuild: ok: 1 ran, 1 cached in <t>\n"]);
    expect([order(ws), ws.read("packages/a/dist/out.txt")]).toEqual([["a", "b", "a"], "1.1.0\n"]);

    // A dependency of c, which neither a nor b installs: the lockfile changed, their entries did not.
    writeFileSync(join(ws.root, "packages/c/package.json"), manifest("c", { "dep-c": tarball(ws, "dep-c", "1.0.0") }, { lint: "true" }));
    install(ws, manager);
    const elsewhere = await ws.run(["build", "-j", "1", "--output-logs", "none"], { env });
    expect([elsewhere.exitCode, byTask(elsewhere.stdout), elsewhere.stderr, order(ws)]).toEqual([0, "✓ a#build (cached, local)\n✓ b#build (cached, local)\n", "rbuild: ok: 0 ran, 2 cached in <t>\n", ["a", "b", "a"]]);

    // A damaged cache of the entries' digests is read past and written again: still the right answer.
    writeFileSync(join(ws.root, ".rbuild/lockfile-entries.json"), '{"format":1,"source":');
    writeFileSync(join(ws.root, "packages/b/package.json"), manifest("b", { "dep-b": tarball(ws, "dep-b", "2.0.0") }, { build: build("b", "dep-b") }));
    install(ws, manager);
    const damaged = await ws.run(["build", "-j", "1", "--output-logs", "none"], { env });
    expect([damaged.exitCode, byTask(damaged.stdout), damaged.stderr]).toEqual([0, "✓ a#build (cached, local)\n> b#build\n✓ b#build (<t>)\n", "rbuild: ok: 1 ran, 1 cached in <t>\n"]);
    expect([order(ws), ws.read("packages/b/dist/out.txt")]).toEqual([["a", "b", "a", "b"], "2.0.0\n"]);
    expect(JSON.parse(ws.read(".rbuild/lockfile-entries.json"))).toMatchObject({ format: 1, parts: { a: expect.any(String), b: expect.any(String), c: expect.any(String) } });
    // Four installs and five builds, on a machine that may be busy.
  }, 180_000);
});
