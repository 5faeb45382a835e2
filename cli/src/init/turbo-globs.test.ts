import type { Workspace, WorkspacePackage } from "@rbuild/workspaces";
import { expect, test } from "vitest";
import { buildfileText } from "./buildfile-text.js";
import { translateTurbo } from "./turbo-json.js";

const pkg = (name: string): WorkspacePackage => ({ name, version: "1.0.0", dir: `packages/${name}`, scripts: { build: "tsc", "build:types": "tsc -d" }, dependencies: [] });
const WS: Workspace = { root: "/ws", packageManager: "npm", lockfile: "package-lock.json", packages: [pkg("ui")] };

function translated(turbo: unknown): string {
  const plan = translateTurbo({ file: "turbo.json", text: JSON.stringify(turbo) }, [], WS);
  if (!plan.ok) throw new Error(plan.error);
  return buildfileText(plan.value);
}

test("20.N4: init writes turbo's globs in the planner's normal form, sees overlaps through it, and notes the globs the planner would refuse", () => {
  const text = translated({
    globalDependencies: ["./tsconfig.base.json", "$TURBO_ROOT$/../secrets.json"],
    tasks: {
      build: { outputs: ["./dist/./**", "lib/*/../x/**", "src/../../out/**"], inputs: ["./src/**", "$TURBO_ROOT$/config/../shared.json"] },
      // The same files as build's through another spelling: init must see the overlap and resolve it.
      "build:types": { outputs: ["dist/./**/*.d.ts"] },
    },
  });
  expect(text).toBe(`// Written by \`rbuild init\` from turbo.json: each task runs one script in every package that has it.
// Read the \`rbuild init:\` notes, then run \`rbuild build\`.
import { scripts, task } from "rbuild";

// rbuild init: globalDependencies "../secrets.json" not translated: it leaves the workspace; rbuild reads only files inside it

// rbuild init: outputs "lib/*/../x/**" not translated: ".." after a wildcard cannot be resolved from the text; write the glob without ".."
// rbuild init: outputs "src/../../out/**" not translated: scripts() outputs are relative to the package and stay inside it
// rbuild init: build outputs leave out "dist/**/*.d.ts", those of build:types: both would match dist/x.d.ts. In rbuild an output file is one task's (turbo lets two tasks declare it)
export const build = task({
  name: "build",
  deps: scripts("build", {
    inputs: ["src/**", "package.json"],
    outputs: ["dist/**", "!dist/**/*.d.ts"],
    rootInputs: ["tsconfig.base.json", "shared.json"],
  }),
});

export const buildTypes = task({
  name: "build:types",
  deps: scripts("build:types", { outputs: ["dist/**/*.d.ts"], rootInputs: ["tsconfig.base.json"] }),
});
`);
});
