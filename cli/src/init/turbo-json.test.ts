import type { Workspace, WorkspacePackage } from "@rbuild/workspaces";
import { describe, expect, test } from "vitest";
import { buildfileText } from "./buildfile-text.js";
import { translateTurbo, type PackageTurboConfig } from "./turbo-json.js";

const pkg = (name: string, scripts: string[], dependencies: string[] = []): WorkspacePackage => ({
  name,
  version: "1.0.0",
  dir: `packages/${name}`,
  scripts: Object.fromEntries(scripts.map((script) => [script, `echo ${script}`])),
  dependencies,
});

/** ui <- web, ui <- docs; web and docs have dev servers. */
const WS: Workspace = {
  root: "/ws",
  packageManager: "pnpm",
  lockfile: "pnpm-lock.yaml",
  packages: [pkg("ui", ["build", "test", "lint"]), pkg("web", ["build", "test", "dev", "e2e"], ["ui"]), pkg("docs", ["build", "dev"], ["ui"])],
};

function translated(turbo: unknown, packageConfigs: PackageTurboConfig[] = []): string {
  const text = typeof turbo === "string" ? turbo : JSON.stringify(turbo, null, 2);
  const plan = translateTurbo({ file: "turbo.json", text }, packageConfigs, WS);
  if (!plan.ok) throw new Error(plan.error);
  return buildfileText(plan.value);
}

const failure = (text: string, packageConfigs: PackageTurboConfig[] = []): unknown => translateTurbo({ file: "turbo.json", text }, packageConfigs, WS);

describe("translateTurbo", () => {
  test("22.4: turbo 2 tasks: dependsOn, outputs, env, cache: false, a persistent task, pkg#task overrides and notes", () => {
    const text = translated({
      $schema: "https://turborepo.com/schema.json",
      ui: "tui",
      globalEnv: ["CI", "NEXT_PUBLIC_*"],
      globalDependencies: ["tsconfig.base.json"],
      globalPassThroughEnv: ["AWS_*"],
      tasks: {
        build: { description: "Compile every package.", dependsOn: ["^build"], outputs: ["dist/**"], env: ["NODE_ENV", "$API_URL"] },
        "web#build": { dependsOn: ["^build"], outputs: [".next/**", "!.next/cache/**"], env: ["NODE_ENV"], outputLogs: "new-only" },
        "docs#build": { dependsOn: ["^build"], outputs: ["dist/**"], env: ["NODE_ENV", "API_URL"], cache: false },
        test: { dependsOn: ["build", "//#codegen"], inputs: ["src/**", "test/**"], passThroughEnv: ["TOKEN"] },
        lint: { dependsOn: ["^lint"] },
        e2e: { dependsOn: ["ui#build", "dev", "web#nope"], cache: false, persistent: false, interactive: true },
        "check-types": { dependsOn: ["^build"] },
        dev: { persistent: true, cache: false, dependsOn: ["^build"] },
        "//#codegen": { outputs: ["generated/**"] },
        "missing#build": {},
      },
    });
    expect(text).toBe(`// Written by \`rbuild init\` from turbo.json: each task runs one script in every package that has it.
// Read the \`rbuild init:\` notes, then run \`rbuild build\`.
import { scripts, task } from "rbuild";

// rbuild init: ui "tui" not translated: rbuild shows plain lines on a terminal and in CI, or JSON with \`--output json\`
// rbuild init: globalPassThroughEnv ["AWS_*"] not translated: a task sees only the variables in its env, and those enter its key; add the ones tasks need to their env
// rbuild init: globalEnv "NEXT_PUBLIC_*" not translated: rbuild declares variables by their exact names; add the ones the task reads to env

// Compile every package.
// rbuild init: missing#build not translated: no workspace package is named "missing"
// rbuild init: web#build outputLogs "new-only" not translated: choose what a run shows with \`rbuild --output-logs\`
export const build = task({
  name: "build",
  deps: scripts("build", {
    deps: ["^build"],
    outputs: ["dist/**"],
    rootInputs: ["tsconfig.base.json"],
    env: ["CI", "NODE_ENV", "API_URL"],
    overrides: {
      web: { outputs: [".next/**", "!.next/cache/**"], env: ["CI", "NODE_ENV"] },
      docs: { pure: false },
    },
  }),
});

// rbuild init: dependsOn "//#codegen" not translated: it names a root task, which this Buildfile does not declare (see the note on it)
// rbuild init: passThroughEnv ["TOKEN"] not translated: a task sees only the variables in its env, and those enter its key; add the ones it needs to env
export const test = task({
  name: "test",
  deps: scripts("test", {
    deps: ["build"],
    inputs: ["src/**", "test/**", "package.json"],
    rootInputs: ["tsconfig.base.json"],
    env: ["CI"],
  }),
});

export const lint = task({
  name: "lint",
  deps: scripts("lint", { deps: ["^lint"], rootInputs: ["tsconfig.base.json"], env: ["CI"] }),
});

// rbuild init: dependsOn "dev" not translated: the Buildfile declares no "dev" tasks (see the note on it)
// rbuild init: dependsOn "web#nope" not translated: the Buildfile declares no task web#nope
// rbuild init: interactive true not translated: rbuild gives tasks no terminal input
export const e2e = task({
  name: "e2e",
  deps: scripts("e2e", {
    deps: ["ui#build"],
    rootInputs: ["tsconfig.base.json"],
    env: ["CI"],
    pure: false,
  }),
});

// rbuild init: no workspace package has a "check-types" script yet, so this declares no task until one does
export const checkTypes = task({
  name: "check-types",
  deps: scripts("check-types", {
    deps: ["^build"],
    rootInputs: ["tsconfig.base.json"],
    env: ["CI"],
  }),
});

// rbuild init: dev not translated: it is persistent (a dev server or watcher, which never finishes), and a build task must finish; run it with \`pnpm run dev\` in a package

// rbuild init: //#codegen not translated: a root task runs the root package.json's \`codegen\` script, and scripts() declares the packages' scripts; declare it with task({ name: "codegen", run: "pnpm run codegen", inputs: [...] }) if rbuild should run it
`);
  });

  test("22.4: a package-specific task resets what it does not set; one without a shared definition names its packages", () => {
    const text = translated({
      tasks: {
        build: { dependsOn: ["^build"], inputs: ["src/**"], outputs: ["dist/**"], env: ["NODE_ENV"], cache: false },
        "web#build": { dependsOn: ["^build"] },
        "web#e2e": { dependsOn: ["build"], outputs: ["playwright-report/**"] },
        "docs#dev": { persistent: true },
        test: {},
        "web#test": { persistent: true },
      },
    });
    expect(text).toBe(`// Written by \`rbuild init\` from turbo.json: each task runs one script in every package that has it.
// Read the \`rbuild init:\` notes, then run \`rbuild build\`.
import { scripts, task } from "rbuild";

export const build = task({
  name: "build",
  deps: scripts("build", {
    deps: ["^build"],
    inputs: ["src/**", "package.json"],
    outputs: ["dist/**"],
    env: ["NODE_ENV"],
    pure: false,
    overrides: { web: { inputs: undefined, outputs: [], env: [], pure: true } },
  }),
});

export const e2e = task({
  name: "e2e",
  deps: scripts("e2e", { deps: ["build"], outputs: ["playwright-report/**"], packages: ["web"] }),
});

// rbuild init: dev not translated: it is persistent (a dev server or watcher, which never finishes), and a build task must finish; run it with \`pnpm run dev\` in a package

// rbuild init: web#test not translated: it is persistent (a dev server or watcher, which never finishes); run it with \`pnpm run test\` in web
export const test = task({ name: "test", deps: scripts("test", { packages: ["!web"] }) });
`);
  });

  test("22.4: turbo 1 `pipeline` with comments, $TURBO_DEFAULT$, $TURBO_ROOT$, $VAR dependencies and a package's turbo.json", () => {
    const turbo = `{
  // turbo 1, with comments and trailing commas
  "pipeline": {
    "build": {
      "dependsOn": ["^build", "$GIT_SHA"],
      "inputs": ["$TURBO_DEFAULT$", "$TURBO_ROOT$/tsconfig.base.json", "!README.md"],
      "outputs": ["dist/**", "$TURBO_ROOT$/coverage/**", "../out/**"],
    },
    "test": { "inputs": ["$TURBO_DEFAULT$", "fixtures/**"], "outputs": [] }, /* a block comment with a "quote" */
    "lint": { "inputs": ["../shared/**"], "cache": "no", "weird": 1 },
  },
  "envMode": "loose",
  "somethingNew": true,
}`;
    const web: PackageTurboConfig = {
      pkg: "web",
      file: "packages/web/turbo.json",
      text: JSON.stringify({ extends: ["//"], tasks: { build: { outputs: ["$TURBO_EXTENDS$", ".next/**"] }, test: { env: ["PLAYWRIGHT"] }, "ui#lint": {} } }),
    };
    expect(translated(turbo, [web])).toBe(`// Written by \`rbuild init\` from turbo.json: each task runs one script in every package that has it.
// Read the \`rbuild init:\` notes, then run \`rbuild build\`.
import { scripts, task } from "rbuild";

// rbuild init: envMode "loose" not translated: rbuild's env is always strict: a task sees only the variables in its env (and PATH, HOME and the like), so npm_config_* and the others a script may read are not passed unless declared; declare the variables each task needs in its env
// rbuild init: somethingNew not translated: it is not a turbo.json setting rbuild init knows
// rbuild init: packages/web/turbo.json "ui#lint" not translated: a package's turbo.json names its own tasks without \`package#\`

// rbuild init: $TURBO_DEFAULT$ with excludes not translated: rbuild's default inputs cannot be narrowed, so the inputs are the package's files less node_modules/ and the excludes, gitignored files included. So a file the task writes that .gitignore ignores and outputs do not name (.eslintcache, *.tsbuildinfo) becomes its input, and the task is never cached: add such files to the excludes ("!.eslintcache"), or list the inputs without $TURBO_DEFAULT$
// rbuild init: outputs "$TURBO_ROOT$/coverage/**" not translated: scripts() outputs are relative to the package and stay inside it
// rbuild init: outputs "../out/**" not translated: scripts() outputs are relative to the package and stay inside it
export const build = task({
  name: "build",
  deps: scripts("build", {
    deps: ["^build"],
    inputs: ["**", "!node_modules/**", "!README.md"],
    outputs: ["dist/**"],
    rootInputs: ["tsconfig.base.json"],
    env: ["GIT_SHA"],
    overrides: { web: { outputs: ["dist/**", ".next/**"] } },
  }),
});

// rbuild init: inputs "fixtures/**" not translated: rbuild's default inputs (the package's files less what .gitignore ignores) hold them already, unless .gitignore ignores them
export const test = task({
  name: "test",
  deps: scripts("test", { overrides: { web: { env: ["PLAYWRIGHT"] } } }),
});

// rbuild init: inputs "../shared/**" not translated: it leaves the package; write it as $TURBO_ROOT$/... (a root input)
// rbuild init: weird not translated: it is not a turbo task setting rbuild init knows
// rbuild init: cache not translated: it must be true or false
export const lint = task({ name: "lint", deps: scripts("lint", { inputs: ["package.json"] }) });
`);
  });

  test("22.4: a turbo.json that is not JSON, or has no tasks, is a message that says what to fix", () => {
    const parseError = (text: string): string => {
      try {
        JSON.parse(text);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error(`${text} parses`);
    };
    expect(failure("{ tasks: {} }")).toEqual({ ok: false, error: `turbo.json is not valid JSON (${parseError("{ tasks: {} }")}); fix it, then run \`rbuild init\` again` });
    expect(failure('{ "globalEnv": [] }')).toEqual({ ok: false, error: "turbo.json has no `tasks` (turbo 2) or `pipeline` (turbo 1) object, so there is nothing to translate" });
    expect(failure("[]")).toEqual({ ok: false, error: "turbo.json must hold a JSON object" });
    expect(failure('{ "tasks": { "dev": { "persistent": true }, "//#lint": {} } }')).toEqual({
      ok: false,
      error: "turbo.json has no task rbuild can declare (only persistent tasks and root tasks), so there is nothing to translate",
    });
    expect(failure('{ "tasks": {} }', [{ pkg: "web", file: "packages/web/turbo.json", text: "{" }])).toEqual({
      ok: false,
      error: `packages/web/turbo.json is not valid JSON (${parseError("{")}); fix it, then run \`rbuild init\` again`,
    });
  });

  test("22.adopt: outputs two tasks of a package share go to the narrower task, in the shared options or per package", () => {
    const text = (packages: WorkspacePackage[], tasks: unknown): string => {
      const plan = translateTurbo({ file: "turbo.json", text: JSON.stringify({ tasks }) }, [], { ...WS, packages });
      if (!plan.ok) throw new Error(plan.error);
      return buildfileText(plan.value).split("\n").slice(3).join("\n");
    };
    const types = { outputs: ["dist/**/*.d.ts"] };
    // Every package with a build has a build:types: build's shared outputs leave out the declarations,
    // whichever turbo.json lists first.
    const both = [pkg("ui", ["build", "build:types"]), pkg("docs", ["build", "build:types"])];
    const shared = `
// rbuild init: build outputs leave out "dist/**/*.d.ts", those of build:types: both would match dist/x.d.ts. In rbuild an output file is one task's (turbo lets two tasks declare it)
export const build = task({
  name: "build",
  deps: scripts("build", { outputs: ["dist/**", "!dist/**/*.d.ts"] }),
});
`;
    expect(text(both, { build: { outputs: ["dist/**"] }, "build:types": types })).toBe(`${shared}
export const buildTypes = task({
  name: "build:types",
  deps: scripts("build:types", { outputs: ["dist/**/*.d.ts"] }),
});
`);
    expect(text(both, { "build:types": types, build: { outputs: ["dist/**"] } })).toBe(`
export const buildTypes = task({
  name: "build:types",
  deps: scripts("build:types", { outputs: ["dist/**/*.d.ts"] }),
});
${shared}`);

    // web has no build:types: its build keeps its declarations; ui's own outputs get the exclusion too.
    const some = [pkg("ui", ["build", "build:types"]), pkg("web", ["build"]), pkg("docs", ["build", "build:types"])];
    expect(text(some, { build: { outputs: ["dist/**"] }, "ui#build": { outputs: ["dist/**", "lib/**"] }, "build:types": types })).toBe(`
// rbuild init: build outputs of ui, docs leave out "dist/**/*.d.ts", those of build:types: both would match dist/x.d.ts. In rbuild an output file is one task's (turbo lets two tasks declare it)
export const build = task({
  name: "build",
  deps: scripts("build", {
    outputs: ["dist/**"],
    overrides: {
      ui: { outputs: ["dist/**", "lib/**", "!dist/**/*.d.ts"] },
      docs: { outputs: ["dist/**", "!dist/**/*.d.ts"] },
    },
  }),
});

export const buildTypes = task({
  name: "build:types",
  deps: scripts("build:types", { outputs: ["dist/**/*.d.ts"] }),
});
`);

    // The same outputs twice: the later task gives them up, and says it keeps none.
    expect(text(both, { build: { outputs: ["dist/**"] }, "build:types": { outputs: ["dist/**"] } })).toBe(`
export const build = task({ name: "build", deps: scripts("build", { outputs: ["dist/**"] }) });

// rbuild init: build:types outputs leave out "dist/**", those of build: both would match dist, and build:types keeps no outputs of its own. In rbuild an output file is one task's (turbo lets two tasks declare it)
export const buildTypes = task({
  name: "build:types",
  deps: scripts("build:types", { outputs: ["dist/**", "!dist/**"] }),
});
`);
  });

  test("22.adopt: notes say what to do: a task named like an rbuild command, envMode, $TURBO_DEFAULT$ with excludes", () => {
    const ws: Workspace = { ...WS, packages: [pkg("ui", ["clean", "lint"])] };
    const plan = translateTurbo(
      { file: "turbo.json", text: JSON.stringify({ envMode: "loose", tasks: { clean: { cache: false }, lint: { inputs: ["$TURBO_DEFAULT$", "!README.md"] } } }) },
      [],
      ws,
    );
    if (!plan.ok) throw new Error(plan.error);
    expect(buildfileText(plan.value)).toBe(`// Written by \`rbuild init\` from turbo.json: each task runs one script in every package that has it.
// Read the \`rbuild init:\` notes, then run \`rbuild run clean\`.
import { scripts, task } from "rbuild";

// rbuild init: envMode "loose" not translated: rbuild's env is always strict: a task sees only the variables in its env (and PATH, HOME and the like), so npm_config_* and the others a script may read are not passed unless declared; declare the variables each task needs in its env

// rbuild init: run this task with \`rbuild run clean\`: \`rbuild clean\` is rbuild's own command
export const clean = task({ name: "clean", deps: scripts("clean", { pure: false }) });

// rbuild init: $TURBO_DEFAULT$ with excludes not translated: rbuild's default inputs cannot be narrowed, so the inputs are the package's files less node_modules/ and the excludes, gitignored files included. So a file the task writes that .gitignore ignores and outputs do not name (.eslintcache, *.tsbuildinfo) becomes its input, and the task is never cached: add such files to the excludes ("!.eslintcache"), or list the inputs without $TURBO_DEFAULT$
export const lint = task({
  name: "lint",
  deps: scripts("lint", { inputs: ["**", "!node_modules/**", "!README.md"] }),
});
`);
  });
});
