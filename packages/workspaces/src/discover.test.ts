import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { discoverWorkspace } from "./index.js";

let roots: string[] = [];
afterEach(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
  roots = [];
});

function tree(files: Record<string, unknown>): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-ws-")));
  roots.push(root);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), typeof content === "string" ? content : JSON.stringify(content));
  }
  return root;
}

const summary = (root: string) => {
  const ws = discoverWorkspace(root);
  return { manager: ws.packageManager, lockfile: ws.lockfile, packages: ws.packages.map((pkg) => `${pkg.dir} ${pkg.name}@${pkg.version ?? "-"} <- [${pkg.dependencies.join(",")}]`) };
};

describe("discoverWorkspace", () => {
  test("22.1: npm workspaces, internal dependencies of every kind, in dependency order", () => {
    const root = tree({
      "package.json": { name: "root", workspaces: ["packages/*", "apps/*"] },
      "package-lock.json": "{}",
      "apps/web/package.json": { name: "web", version: "1.0.0", dependencies: { ui: "^2.0.0", react: "^18" }, devDependencies: { tools: "*" } },
      "packages/ui/package.json": { name: "ui", version: "2.1.0", peerDependencies: { core: "1.x" } },
      "packages/core/package.json": { name: "core", version: "1.4.0", optionalDependencies: { tools: "file:../tools" } },
      "packages/tools/package.json": { name: "tools", version: "0.1.0", scripts: { build: "tsc" } },
      // A range the local version does not satisfy comes from the registry: not internal.
      "packages/old/package.json": { name: "old", version: "1.0.0", dependencies: { ui: "^1.0.0" } },
      "packages/node_modules/x/package.json": { name: "x" },
      "packages/notes/README.md": "no package.json here",
    });
    expect(summary(root)).toEqual({
      manager: "npm",
      lockfile: "package-lock.json",
      packages: [
        "packages/tools tools@0.1.0 <- []",
        "packages/core core@1.4.0 <- [tools]",
        "packages/ui ui@2.1.0 <- [core]",
        "apps/web web@1.0.0 <- [tools,ui]",
        "packages/old old@1.0.0 <- []",
      ],
    });
    expect(discoverWorkspace(root).packages.find((pkg) => pkg.name === "tools")!.scripts).toEqual({ build: "tsc" });
  });

  test("22.1: pnpm-workspace.yaml with excludes and the workspace: protocol; packageManager wins over lockfiles", () => {
    const root = tree({
      "package.json": { name: "root", packageManager: "pnpm@9.12.0" },
      "pnpm-workspace.yaml": "packages:\n  - 'packages/**'\n  - '!packages/skip'\n",
      "yarn.lock": "",
      "packages/a/package.json": { name: "@acme/a", version: "0.0.0", dependencies: { "@acme/b": "workspace:*" } },
      "packages/nested/b/package.json": { name: "@acme/b", version: "3.0.0", dependencies: { "@acme/skip": "workspace:^" } },
      "packages/skip/package.json": { name: "@acme/skip", version: "1.0.0" },
    });
    expect(summary(root)).toEqual({
      manager: "pnpm",
      lockfile: undefined,
      packages: ["packages/nested/b @acme/b@3.0.0 <- []", "packages/a @acme/a@0.0.0 <- [@acme/b]"],
    });
  });

  test("22.1: yarn's { packages } form, and yarn from its lockfile", () => {
    const root = tree({
      "package.json": { name: "root", private: true, workspaces: { packages: ["libs/*"] } },
      "yarn.lock": "",
      "libs/one/package.json": { name: "one", version: "1.0.0" },
    });
    expect(summary(root)).toEqual({ manager: "yarn", lockfile: "yarn.lock", packages: ["libs/one one@1.0.0 <- []"] });
  });

  test("22.1: a dependency cycle is an error naming its packages in order", () => {
    const root = tree({
      "package.json": { workspaces: ["p/*"] },
      "p/a/package.json": { name: "a", version: "1.0.0", dependencies: { b: "1.0.0" } },
      "p/b/package.json": { name: "b", version: "1.0.0", devDependencies: { c: "workspace:*" } },
      "p/c/package.json": { name: "c", version: "1.0.0", dependencies: { a: "*" } },
    });
    expect(() => discoverWorkspace(root)).toThrow(
      "the workspace's packages depend on each other in a cycle: a -> b -> c -> a; no order builds them. Remove one of these dependencies (a devDependency is often the one to drop)",
    );
  });

  test("22.1: what is not a workspace says which file and what to change", () => {
    expect(() => discoverWorkspace(tree({ "package.json": { name: "solo" } }))).toThrow(
      "package.json has no `workspaces` and there is no pnpm-workspace.yaml: this is not a workspace root",
    );
    expect(() => discoverWorkspace(tree({ "package.json": "{ nope" }))).toThrow(/^package\.json is not valid JSON \(/);
    expect(() => discoverWorkspace(tree({ "package.json": { workspaces: ["pkgs/*"] } }))).toThrow(
      'the workspace globs in package.json ("pkgs/*") match no directory with a package.json',
    );
    expect(() => discoverWorkspace(tree({ "package.json": { workspaces: ["p/*"] }, "p/a/package.json": { version: "1.0.0" } }))).toThrow(
      "p/a/package.json has no `name`: every workspace package needs one, so that others can depend on it",
    );
    expect(() => discoverWorkspace(tree({ "package.json": { workspaces: ["p/*"] }, "p/a/package.json": { name: "x" }, "p/b/package.json": { name: "x" } }))).toThrow(
      'two workspace packages are named "x": p/a/package.json and p/b/package.json; rename one',
    );
    expect(() => discoverWorkspace(tree({ "package.json": { workspaces: ["p/*"], packageManager: "deno@2" }, "p/a/package.json": { name: "a" } }))).toThrow(
      'package.json `packageManager` is "deno@2"; rbuild runs scripts with npm, pnpm, yarn or bun (write e.g. "pnpm@9.12.0")',
    );
    expect(() => discoverWorkspace(tree({ "package.json": { name: "r" }, "pnpm-workspace.yaml": "packages: [a\n" }))).toThrow(/^pnpm-workspace\.yaml is not valid YAML: /);
  });
});
