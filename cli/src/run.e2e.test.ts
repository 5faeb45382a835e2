import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { Workspace } from "./test-support/workspace.js";

const KEY = expect.stringMatching(/^[0-9a-f]{64}$/);

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.remove());

const DIAMOND = `import { task } from "rbuild";
const a = task({ name: "a", run: "echo from a" });
const b = task({ name: "b", deps: [a], run: "echo from b" });
const c = task({ name: "c", deps: [a], run: "echo from c >&2" });
export const d = task({ name: "d", deps: [b, c], run: "echo from d" });
task({ name: "broken", deps: [a], run: "echo bad news >&2; exit 7" });
task({ name: "after-broken", deps: ["broken"], run: "echo never" });
`;

describe("rbuild <task...>", () => {
  test("runs a diamond in dependency order and reports each task", async () => {
    ws.write({ "Buildfile.ts": DIAMOND });
    const result = await ws.run(["d", "-j", "1"]);
    expect(result).toEqual({
      exitCode: 0,
      stdout: "> a\n[a] from a\n✓ a (<t>)\n> b\n[b] from b\n✓ b (<t>)\n> c\n✓ c (<t>)\n> d\n[d] from d\n✓ d (<t>)\n",
      stderr: "[c] from c\nrbuild: ok: 4 ran, 0 cached in <t>\n",
    });
  });

  test("21.3: tasks start through the shipped python helper; RBUILD_SPAWN=direct forks them from rbuild's own Node", async () => {
    // A task's parent is whatever started it.
    ws.write({ "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "parent", run: "cat /proc/$PPID/comm" });\n` });
    const parent = async (spawn: string | undefined): Promise<string> => {
      const result = await ws.run(["parent", "--force"], { env: spawn === undefined ? {} : { RBUILD_SPAWN: spawn } });
      return /\[parent\] (.*)/.exec(result.stdout)?.[1] ?? result.stdout;
    };
    expect(await parent(undefined)).toMatch(/^python3/);
    expect(await parent("direct")).toBe("node");
  });

  test("a failing task exits 1, skips its dependents and says why", async () => {
    ws.write({ "Buildfile.ts": DIAMOND });
    const result = await ws.run(["after-broken", "-j", "1"]);
    expect(result).toEqual({
      exitCode: 1,
      stdout: "> a\n[a] from a\n✓ a (<t>)\n> broken\n✗ broken (<t>)\n- after-broken skipped (dependency-failed: broken)\n",
      stderr: `[broken] bad news\nerror: Task "broken" failed: its command exited with code 7.\nrbuild: failed: 1 ran, 0 cached, 1 failed, 1 skipped in <t>\n`,
    });
  });

  test("--keep-going runs what does not depend on the failure; --summary records every task", async () => {
    ws.write({ "Buildfile.ts": DIAMOND });
    const result = await ws.run(["after-broken", "d", "-k", "-j", "1", "--summary", "out/summary.json"]);
    expect(result.exitCode).toBe(1);
    const summary = JSON.parse(ws.read("out/summary.json"));
    expect(summary).toEqual({
      version: 1,
      ok: false,
      durationMs: expect.any(Number),
      tasks: [
        { name: "a", status: "ran", cache: null, key: KEY, durationMs: expect.any(Number), exitCode: 0, reasons: ["no-record"] },
        {
          name: "broken",
          status: "failed",
          cache: null,
          key: KEY,
          durationMs: expect.any(Number),
          exitCode: 7,
          reasons: ["no-record"],
          error: 'Task "broken" failed: its command exited with code 7.',
        },
        { name: "after-broken", status: "skipped", cache: null, key: null, durationMs: 0, exitCode: null, reasons: ["dependency-failed: broken"] },
        { name: "b", status: "ran", cache: null, key: KEY, durationMs: expect.any(Number), exitCode: 0, reasons: ["no-record"] },
        { name: "c", status: "ran", cache: null, key: KEY, durationMs: expect.any(Number), exitCode: 0, reasons: ["no-record"] },
        { name: "d", status: "ran", cache: null, key: KEY, durationMs: expect.any(Number), exitCode: 0, reasons: ["no-record"] },
      ],
    });
  });

  test("strict env: a task sees what it declares and the pass-through set, nothing else", async () => {
    ws.write({
      "Buildfile.ts": `import { task } from "rbuild";
task({ name: "env", env: ["DECLARED"], run: "echo \\"declared=$DECLARED secret=$SECRET home=$HOME lang=$LANG\\"" });
`,
    });
    const result = await ws.run(["env"], { env: { DECLARED: "yes", SECRET: "s3cr3t", LANG: "C.UTF-8" } });
    expect(result.stdout.split("\n")[1]).toBe("[env] declared=yes secret= home=<root> lang=C.UTF-8");
  });

  test("names and paths with spaces and non-ASCII characters work end to end", async () => {
    const odd = new Workspace("rbuild e2e wörk ");
    try {
      odd.write({
        "Buildfile.ts": `import { task } from "rbuild";
const gen = task({ name: "gén-éré", cwd: "sub dir/ñ", run: "mkdir -p 'out put' && cat 'ïn put.txt' > 'out put/résumé.txt'" });
task({ name: "показать", deps: [gen], run: "cat 'sub dir/ñ/out put/résumé.txt'" });
`,
        "sub dir/ñ/ïn put.txt": "contenu ünïcode\n",
      });
      const result = await odd.run(["показать", "-j", "1"]);
      expect(result).toEqual({
        exitCode: 0,
        stdout: "> gén-éré\n✓ gén-éré (<t>)\n> показать\n[показать] contenu ünïcode\n✓ показать (<t>)\n",
        stderr: "rbuild: ok: 2 ran, 0 cached in <t>\n",
      });
    } finally {
      odd.remove();
    }
  });

  test("finds the Buildfile from a subdirectory and runs tasks relative to it", async () => {
    ws.write({ "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "where", run: "pwd" });\n`, "deep/er/.keep": "" });
    const result = await ws.run(["where"], { cwd: `${ws.root}/deep/er` });
    expect(result.stdout).toBe("> where\n[where] <root>\n✓ where (<t>)\n");
  });

  test("-C runs in another directory; `run` runs a task named like a subcommand", async () => {
    ws.write({ "proj/Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "list", run: "echo listing" });\n` });
    const result = await ws.run(["-C", "proj", "run", "list"]);
    expect(result).toMatchObject({ exitCode: 0, stdout: "> list\n[list] listing\n✓ list (<t>)\n" });
  });

  test("a task named default runs when no task is given", async () => {
    ws.write({ "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "default", run: "echo defaulted" });\n` });
    expect((await ws.run([])).stdout).toBe("> default\n[default] defaulted\n✓ default (<t>)\n");
  });

  test("--output json prints one event per line", async () => {
    ws.write({ "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "one", run: "echo hi" });\n` });
    const result = await ws.start(["one", "--output", "json"]);
    const events = String(result.stdout).split("\n").filter(Boolean).map((line) => JSON.parse(line));
    expect(events.map((e) => e.type)).toEqual(["build-started", "task-started", "task-output", "task-finished", "build-finished"]);
    expect(events[2]).toEqual({ type: "task-output", task: "one", stream: "stdout", line: "hi" });
    expect(events[4]).toMatchObject({ type: "build-finished", ok: true, interrupted: false });
  });

  test("a function task runs in process, with exec and log", async () => {
    ws.write({
      "Buildfile.ts": `import { task } from "rbuild";
task({ name: "fn", run: async ({ exec, log }) => {
  const { stdout } = await exec("echo from-exec");
  log("captured", stdout.trim());
} });
`,
    });
    expect((await ws.run(["fn"])).stdout).toBe("> fn\n[fn] from-exec\n[fn] captured from-exec\n✓ fn (<t>)\n");
  });
});

describe("rbuild list", () => {
  test("shows every task with its kind and deps, in declaration order", async () => {
    ws.write({
      "Buildfile.ts": `import { task } from "rbuild";
const build = task({ name: "build", run: "true" });
const test = task({ name: "test", deps: [build], run: "true" });
task({ name: "deploy", deps: [test], pure: false, run: "true" });
task({ name: "all", deps: [build, test] });
`,
    });
    expect(await ws.run(["list"])).toEqual({
      exitCode: 0,
      stdout: "build\ntest    deps: build\ndeploy  impure  deps: test\nall     group  deps: build, test\n",
      stderr: "",
    });
  });
});
