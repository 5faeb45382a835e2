import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { collectTasks, task, type Task } from "@rbuild/core";
import { afterEach, describe, expect, test } from "vitest";
import { discoverWorkspace, scripts, workspace } from "./index.js";
import { gitignoreGlobs, gitignoreLines } from "./gitignore.js";

let roots: string[] = [];
afterEach(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
  roots = [];
});

function tree(files: Record<string, unknown>): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-scripts-")));
  roots.push(root);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), typeof content === "string" ? content : JSON.stringify(content));
  }
  return root;
}

/** A pnpm workspace: app -> lib -> types -> base, where types has no build script. */
const MONOREPO = {
  "package.json": { name: "root", private: true },
  "pnpm-workspace.yaml": "packages: ['packages/*']\n",
  // A format rbuild does not read by entries (pnpm 7's): its tasks key on the whole file.
  "pnpm-lock.yaml": "lockfileVersion: '5.4'\n",
  ".gitignore": "node_modules\n*.log\n/coverage\n",
  "packages/base/package.json": { name: "base", version: "1.0.0", scripts: { build: "tsc", test: "vitest" } },
  "packages/types/package.json": { name: "types", version: "1.0.0", dependencies: { base: "workspace:*" } },
  "packages/lib/package.json": { name: "lib", version: "1.0.0", scripts: { build: "tsc", lint: "eslint ." }, dependencies: { types: "workspace:*" } },
  "packages/lib/.gitignore": "generated/\n",
  "packages/app/package.json": { name: "app", version: "1.0.0", scripts: { build: "vite build", test: "vitest" }, dependencies: { lib: "workspace:*", base: "workspace:*" } },
};

const declare = (declareTasks: () => void): Task[] => {
  const stop = collectTasks();
  try {
    declareTasks();
  } finally {
    stop();
  }
  return stop();
};

describe("scripts", () => {
  test("22.2: one task per package with the script, `^build` looking through a package without it, run by the package manager", () => {
    const root = tree(MONOREPO);
    const ws = discoverWorkspace(root);
    const built = scripts("build", { workspace: ws, deps: ["^build", "lint"], outputs: ["dist/**"], rootInputs: ["tsconfig.base.json"] });
    expect(built.map((t) => [t.name, t.options.cwd, t.options.run, t.options.deps])).toEqual([
      ["base#build", "packages/base", "pnpm run build", []],
      ["lib#build", "packages/lib", "pnpm run build", ["base#build", "lib#lint"]],
      ["app#build", "packages/app", "pnpm run build", ["base#build", "lib#build"]],
    ]);
    expect(built[1]!.options.inputs).toEqual([
      "packages/lib/**",
      "!packages/lib/node_modules/**",
      "!packages/lib/**/node_modules",
      "!packages/lib/**/node_modules/**",
      "!packages/lib/**/*.log",
      "!packages/lib/**/*.log/**",
      "!packages/lib/**/generated/**",
      "packages/lib/package.json",
      // The packages it depends on, transitively (types has no build, base does): their files, less this call's outputs.
      "packages/base/**",
      "!packages/base/node_modules/**",
      "!packages/base/**/node_modules",
      "!packages/base/**/node_modules/**",
      "!packages/base/**/*.log",
      "!packages/base/**/*.log/**",
      "!packages/base/dist/**",
      "packages/types/**",
      "!packages/types/node_modules/**",
      "!packages/types/**/node_modules",
      "!packages/types/**/node_modules/**",
      "!packages/types/**/*.log",
      "!packages/types/**/*.log/**",
      "!packages/types/dist/**",
      "!packages/lib/dist/**",
      "pnpm-lock.yaml",
      "tsconfig.base.json",
    ]);
    expect(built[1]!.options.outputs).toEqual(["packages/lib/dist/**"]);
  });

  test("22.2: `packages` selects by name glob, overrides replace options per package, `#` names a task exactly", () => {
    const root = tree(MONOREPO);
    const ws = discoverWorkspace(root);
    const lint = task({ name: "lint-all", run: "true" });
    const tested = scripts("test", {
      workspace: ws,
      packages: ["*", "!base"],
      deps: ["build", lint, "base#build"],
      overrides: { app: { inputs: ["src/**"], pure: false, env: ["CI"] } },
    });
    expect(tested.map((t) => [t.name, t.options.deps?.map((d) => (typeof d === "string" ? d : d.name)), t.options.pure, t.options.env])).toEqual([
      ["app#test", ["app#build", "lint-all", "base#build"], false, ["CI"]],
    ]);
    // `inputs` replaces the package's own files; its dependencies' files and the lockfile stay.
    expect(tested[0]!.options.inputs!.filter((glob) => !glob.startsWith("!"))).toEqual(["packages/app/src/**", "packages/app/package.json", "packages/base/**", "packages/types/**", "packages/lib/**", "pnpm-lock.yaml"]);
    // A dependency that this call leaves out is looked through for the same script.
    expect(scripts("build", { workspace: ws, packages: ["app", "base"], deps: ["^build"] }).map((t) => [t.name, t.options.deps])).toEqual([
      ["base#build", []],
      ["app#build", ["base#build"]],
    ]);
  });

  test("22.2: a task's location is the Buildfile's call of scripts(), and workspace() is read once per evaluation", () => {
    const root = tree(MONOREPO);
    const cwd = process.cwd();
    process.chdir(root);
    try {
      let first: unknown;
      let second: unknown;
      const tasks = declare(() => {
        first = workspace();
        second = workspace();
        scripts("build");
      });
      expect(first).toBe(second);
      expect(tasks.map((t) => t.name)).toEqual(["base#build", "lib#build", "app#build"]);
      expect(tasks[0]!.location?.file).toBe(new URL(import.meta.url).pathname);
      // Outside an evaluation, each call reads the files as they are now.
      expect(workspace()).not.toBe(workspace());
    } finally {
      process.chdir(cwd);
    }
  });

  test("22.2: a .gitignore with a negation is not used, since an exclude cannot be undone", () => {
    const root = tree({ ".gitignore": "*.log\n!keep.log\n", "a/.gitignore": "# note\n/out/\nbuild\n\\#odd\n" });
    expect(gitignoreLines(root, "")).toEqual([]);
    expect(gitignoreLines(root, "b")).toEqual([]);
    expect(gitignoreGlobs(gitignoreLines(root, "a"), "a", "a")).toEqual(["a/out/**", "a/**/build", "a/**/build/**", "a/**/#odd", "a/**/#odd/**"]);
  });
});
