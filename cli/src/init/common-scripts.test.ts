import type { Workspace, WorkspacePackage } from "@rbuild/workspaces";
import { describe, expect, test } from "vitest";
import { buildfileText } from "./buildfile-text.js";
import { translateCommonScripts } from "./common-scripts.js";

const pkg = (name: string, scripts: string[]): WorkspacePackage => ({
  name,
  version: "1.0.0",
  dir: `packages/${name}`,
  scripts: Object.fromEntries(scripts.map((script) => [script, `echo ${script}`])),
  dependencies: [],
});

const ws = (...packages: WorkspacePackage[]): Workspace => ({ root: "/ws", packageManager: "npm", lockfile: "package-lock.json", packages });

function translated(workspace: Workspace): string {
  const plan = translateCommonScripts(workspace);
  if (!plan.ok) throw new Error(plan.error);
  return buildfileText(plan.value);
}

describe("translateCommonScripts", () => {
  test("22.4: build, test, lint and typecheck scripts become tasks, the others after the builds", () => {
    expect(translated(ws(pkg("lib", ["build", "test", "typecheck", "prepare"]), pkg("app", ["build", "lint", "dev"])))).toBe(`// Written by \`rbuild init\` from the packages' scripts: each task runs one script in every package that has it.
// Read the \`rbuild init:\` notes, then run \`rbuild build\`.
import { scripts, task } from "rbuild";

// Every package's \`build\` script, after the builds of the packages it depends on (\`^build\`).
// rbuild init: outputs guessed: check that the build scripts write dist/ (a cached build restores only its outputs)
export const build = task({
  name: "build",
  deps: scripts("build", { deps: ["^build"], outputs: ["dist/**"] }),
});

// Every package's \`test\` script, after its package's build and those of its dependencies.
export const test = task({ name: "test", deps: scripts("test", { deps: ["^build", "build"] }) });

// Every package's \`lint\` script, after its package's build and those of its dependencies.
export const lint = task({ name: "lint", deps: scripts("lint", { deps: ["^build", "build"] }) });

// Every package's \`typecheck\` script, after its package's build and those of its dependencies.
export const typecheck = task({
  name: "typecheck",
  deps: scripts("typecheck", { deps: ["^build", "build"] }),
});
`);
  });

  test("22.4: without a build script the other scripts depend on nothing", () => {
    expect(translated(ws(pkg("lib", ["test"]), pkg("app", ["lint"])))).toBe(`// Written by \`rbuild init\` from the packages' scripts: each task runs one script in every package that has it.
// Check it, then run \`rbuild test\`.
import { scripts, task } from "rbuild";

// Every package's \`test\` script.
export const test = task({ name: "test", deps: scripts("test") });

// Every package's \`lint\` script.
export const lint = task({ name: "lint", deps: scripts("lint") });
`);
  });

  test("22.4: a workspace with none of the common scripts is a message that says what to do", () => {
    expect(translateCommonScripts(ws(pkg("lib", ["dev"])))).toEqual({
      ok: false,
      error:
        'no workspace package has a build, test, lint, typecheck script and there is no turbo.json, so there is nothing to translate; write a Buildfile.ts with scripts() for the scripts you run (see rbuild\'s README, "A monorepo")',
    });
  });
});
