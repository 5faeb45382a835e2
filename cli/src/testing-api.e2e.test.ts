// rbuild/testing as a user's test imports it: the built package (run `npm run build` first).
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { expect, onTestFinished, test } from "vitest";
import { loadBuildfile, plan, PipelineError, runInCopy, type CopyRun } from "rbuild/testing";
import { testWorkspace } from "./test-support/workspace.js";

const BUILDFILE = `import { task } from "rbuild";
const build = task({ name: "build", inputs: ["src/**"], outputs: ["dist/app.txt"], env: ["VERSION"], run: "mkdir -p dist && cat src/*.txt > dist/app.txt && echo built" });
const test = task({ name: "test", deps: [build], inputs: ["dist/app.txt"], keyParts: { suite: "unit" }, run: "grep -q app dist/app.txt" });
const deploy = task({ name: "deploy", deps: [test], pure: false, env: ["TARGET"], run: "mkdir -p env && cp dist/app.txt env/ && echo deployed to env" });
const notify = task({ name: "notify", deps: [deploy], pure: false, run: async (ctx) => { ctx.log("notifying"); } });
export const release = task({ name: "release", deps: [notify] });
`;

/** Every file below `root` with its contents (links as "-> target"): to show a directory was not touched. */
function snapshot(root: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string, prefix: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isSymbolicLink()) files[`${prefix}${entry.name}`] = `-> ${readlinkSync(path)}`;
      else if (entry.isDirectory()) walk(path, `${prefix}${entry.name}/`);
      else files[`${prefix}${entry.name}`] = readFileSync(path, "utf8");
    }
  };
  walk(root, "");
  return files;
}

function cleanedUp(run: CopyRun): CopyRun {
  onTestFinished(() => run.cleanup());
  return run;
}

test("26.7: loadBuildfile and plan: the graph of a target as data, deps, what enters each key, impure or not", async () => {
  const ws = testWorkspace({ "Buildfile.ts": BUILDFILE, "src/a.txt": "app\n", "src/b.txt": "more\n" });
  const pipeline = await loadBuildfile(ws.root);
  expect([pipeline.root, pipeline.buildfile, pipeline.tasks]).toEqual([ws.root, join(ws.root, "Buildfile.ts"), ["build", "test", "deploy", "notify", "release"]]);
  const group = { command: null, inputs: [], inputFiles: [], outputs: [], env: [], keyParts: {}, cwd: "", context: {}, gives: [], stage: null, pool: null, retries: 0, undo: null };
  expect(plan(pipeline, "release")).toEqual({
    targets: ["release"],
    order: ["build", "test", "deploy", "notify", "release"],
    tasks: {
      build: {
        name: "build",
        kind: "command",
        command: "mkdir -p dist && cat src/*.txt > dist/app.txt && echo built",
        pure: true,
        deps: [],
        dependents: ["test"],
        inputs: ["src/**"],
        inputFiles: ["src/a.txt", "src/b.txt"],
        outputs: ["dist/app.txt"],
        env: ["VERSION"],
        keyParts: {},
        cwd: "",
        context: {},
        gives: [],
        stage: null,
        pool: null,
        retries: 0,
        undo: null,
      },
      test: { ...group, name: "test", kind: "command", command: "grep -q app dist/app.txt", pure: true, deps: ["build"], dependents: ["deploy"], inputs: ["dist/app.txt"], keyParts: { suite: "unit" } },
      deploy: { ...group, name: "deploy", kind: "command", command: "mkdir -p env && cp dist/app.txt env/ && echo deployed to env", pure: false, deps: ["test"], dependents: ["notify"], env: ["TARGET"] },
      notify: { ...group, name: "notify", kind: "function", pure: false, deps: ["deploy"], dependents: ["release"] },
      release: { ...group, name: "release", kind: "group", pure: true, deps: ["notify"], dependents: [] },
    },
    stages: [],
  });
  // Loading and planning leave the workspace as it was: no cache directory, no compiled Buildfile.
  expect(existsSync(join(ws.root, ".rbuild"))).toBe(false);
});

test("26.7: loadBuildfile and plan throw rbuild's own message: a Buildfile that throws, an unknown target", async () => {
  const ws = testWorkspace({ "Buildfile.ts": BUILDFILE, "src/a.txt": "app\n" });
  const pipeline = await loadBuildfile(join(ws.root, "Buildfile.ts"));
  expect(() => plan(pipeline, "relaese")).toThrow(new PipelineError([{ reason: "unknown-target", name: "relaese", suggestions: ["release"] }], ws.root));
  expect(() => plan(pipeline, "relaese")).toThrow('Unknown task "relaese". Did you mean "release"? Run `rbuild list` to see every task.');
  const broken = testWorkspace({ "Buildfile.ts": `throw new Error("no config");\n` });
  await expect(loadBuildfile(broken.root)).rejects.toThrow(/no config/);
  await expect(loadBuildfile(join(broken.root, "nowhere"))).rejects.toThrow(`rbuild/testing: ${join(broken.root, "nowhere")} does not exist.`);
});

test("26.7: runInCopy runs the build in a copy with a command stub, leaving the original workspace untouched", async () => {
  const ws = testWorkspace({ "Buildfile.ts": BUILDFILE, "src/a.txt": "app\n", ".git/HEAD": "ref: refs/heads/main\n", ".rbuild/junk": "old cache\n", "node_modules/dep/index.js": "export {};\n" });
  const before = snapshot(ws.root);
  const run = cleanedUp(await runInCopy(ws.root, "release", { stubs: { deploy: "echo stubbed deploy; echo stub > deployed.txt" } }));
  expect(snapshot(ws.root)).toEqual(before);
  expect(run.ok).toBe(true);
  expect(run.summary.tasks.map(({ name, status, reasons, stubbed }) => ({ name, status, reasons, stubbed }))).toEqual([
    { name: "build", status: "ran", reasons: ["no-record"], stubbed: undefined },
    { name: "test", status: "ran", reasons: ["no-record"], stubbed: undefined },
    { name: "deploy", status: "ran", reasons: ["stubbed"], stubbed: true },
    { name: "notify", status: "ran", reasons: ["impure"], stubbed: undefined },
    { name: "release", status: "ran", reasons: [], stubbed: undefined },
  ]);
  expect(run.results.deploy).toMatchObject({ status: "ran", stubbed: true, key: null });
  expect([run.lines("build"), run.lines("deploy"), run.lines("notify")]).toEqual([["built"], ["stubbed deploy"], ["notifying"]]);
  expect(run.events.filter((event) => event.type === "task-started").map((event) => event.task)).toEqual(["build", "test", "deploy", "notify"]);
  expect(run.output.replace(/\((stubbed, )?\d+ms\)/g, "($1<t>)").replace(/ in \d+ms/, " in <t>")).toBe(
    "> build\n[build] built\n✓ build (<t>)\n> test\n✓ test (<t>)\n> deploy\n[deploy] stubbed deploy\n✓ deploy (stubbed, <t>)\n> notify\n[notify] notifying\n✓ notify (<t>)\nrbuild: ok: 4 ran, 0 cached, 1 stubbed (deploy) in <t>\n",
  );
  // The copy: the build's outputs, its own cold cache; no .git, node_modules a link to the original's.
  expect([run.read("dist/app.txt"), run.read("deployed.txt"), existsSync(join(run.dir, "env"))]).toEqual(["app\n", "stub\n", false]);
  expect(existsSync(join(run.dir, ".git"))).toBe(false);
  expect(existsSync(join(run.dir, ".rbuild/junk"))).toBe(false);
  expect([lstatSync(join(run.dir, "node_modules")).isSymbolicLink(), readlinkSync(join(run.dir, "node_modules"))]).toEqual([true, join(ws.root, "node_modules")]);
  run.cleanup();
  expect(existsSync(run.dir)).toBe(false);
});

test("26.7: a function stub gets the task's context (exec, log, env); a no-op stub; a failing stub fails its task and skips what follows", async () => {
  const ws = testWorkspace({ "Buildfile.ts": BUILDFILE, "src/a.txt": "app\n" });
  const pipeline = await loadBuildfile(ws.root);
  const seen: string[] = [];
  const run = cleanedUp(
    await runInCopy(pipeline, ["release"], {
      env: { TARGET: "staging" },
      stubs: {
        deploy: async (ctx) => {
          seen.push(`${ctx.name} to ${ctx.env.TARGET} in ${ctx.cwd}`);
          const { stdout } = await ctx.exec("cat dist/app.txt");
          ctx.log(`would deploy ${stdout.trim()}`);
        },
        notify: null,
      },
    }),
  );
  expect(seen).toEqual([`deploy to staging in ${run.dir}`]);
  expect([run.ok, run.lines("deploy"), run.lines("notify")]).toEqual([true, ["app", "would deploy app"], []]);
  expect([run.results.deploy?.stubbed, run.results.notify?.stubbed, run.results.notify?.status]).toEqual([true, true, "ran"]);

  const failing = cleanedUp(await runInCopy(pipeline, "release", { stubs: { deploy: "echo no route to staging >&2; exit 4" } }));
  expect(failing.ok).toBe(false);
  expect(failing.summary.tasks.map(({ name, status, error }) => [name, status, error])).toEqual([
    ["build", "ran", undefined],
    ["test", "ran", undefined],
    ["deploy", "failed", 'Task "deploy" failed: its command exited with code 4.'],
    ["notify", "skipped", undefined],
    ["release", "skipped", undefined],
  ]);
  expect(failing.lines("deploy")).toEqual(["no route to staging"]);
});

test("26.7: runInCopy refuses a stub of a pure task or an unknown one, and removes its copy", async () => {
  const ws = testWorkspace({ "Buildfile.ts": BUILDFILE, "src/a.txt": "app\n" });
  const tmp = testWorkspace({}).root;
  await expect(runInCopy(ws.root, "release", { stubs: { build: "true" }, tmpDir: tmp })).rejects.toThrow(/^Cannot stub "build": it is a pure task\./);
  await expect(runInCopy(ws.root, "release", { stubs: { deplyo: null }, tmpDir: tmp })).rejects.toThrow(
    new PipelineError([{ reason: "unknown-stub", name: "deplyo", suggestions: ["deploy"] }], ws.root),
  );
  expect(readdirSync(tmp)).toEqual([]);
});
