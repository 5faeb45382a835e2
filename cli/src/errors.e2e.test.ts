import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { TASK_FIELDS } from "@rbuild/planner";
import { Workspace } from "./test-support/workspace.js";

const KNOWN_FIELDS = TASK_FIELDS.join(", ");

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.remove());

const HEADER = `import { task } from "rbuild";\n`;

/** Every setup error exits 2, prints nothing on stdout, and says what to do. */
async function setupError(args: string[], buildfile?: string): Promise<string> {
  if (buildfile !== undefined) ws.write({ "Buildfile.ts": buildfile });
  const result = await ws.run(args);
  expect({ exitCode: result.exitCode, stdout: result.stdout }).toEqual({ exitCode: 2, stdout: "" });
  return result.stderr;
}

describe("planner errors", () => {
  test("unknown target, with the nearest names", async () => {
    const stderr = await setupError(["tset"], `${HEADER}task({ name: "test", run: "true" });\ntask({ name: "test:e2e", run: "true" });\n`);
    expect(stderr).toBe('rbuild: error: Unknown task "tset". Did you mean "test"? Run `rbuild list` to see every task.\n');
  });

  test("duplicate task names, with both places", async () => {
    const stderr = await setupError(["a"], `${HEADER}task({ name: "a", run: "true" });\n  task({ name: "a", run: "false" });\n`);
    expect(stderr).toBe(
      'rbuild: error: Task name "a" is declared more than once (at Buildfile.ts:2:1 and Buildfile.ts:3:3). Task names must be unique: rename one of them.\n',
    );
  });

  test("a dependency cycle, with its path", async () => {
    const stderr = await setupError(
      ["top"],
      `${HEADER}task({ name: "a", deps: ["c"], run: "true" });\ntask({ name: "b", deps: ["a"], run: "true" });\ntask({ name: "c", deps: ["b"], run: "true" });\ntask({ name: "top", deps: ["c"] });\n`,
    );
    expect(stderr).toBe(
      "rbuild: error: Buildfile.ts:4:1: Dependency cycle: c -> b -> a -> c. A task cannot depend on itself, directly or through other tasks; remove one of these deps.\n",
    );
  });

  test("an unknown dep", async () => {
    const stderr = await setupError(["test"], `${HEADER}task({ name: "build", run: "true" });\ntask({ name: "test", deps: ["buidl"], run: "true" });\n`);
    expect(stderr).toBe('rbuild: error: Buildfile.ts:3:1: Task "test" depends on "buidl", but no task has that name. Did you mean "build"?\n');
  });

  test("invalid fields, every one at once", async () => {
    const stderr = await setupError(
      ["a"],
      `${HEADER}task({ name: "a", run: 42, outputs: "dist" } as any);\ntask({ name: "b", inputs: ["../up/**"], env: ["BAD NAME"], dependsOn: ["a"] } as any);\n`,
    );
    expect(stderr).toBe(
      [
        "rbuild: error: Buildfile.ts:2:1: Task \"a\": `run` must be a shell command string or an async function, got 42; leave it out for a group task",
        'rbuild: error: Buildfile.ts:2:1: Task "a": `outputs` must be an array of globs, got "dist"',
        "rbuild: error: Buildfile.ts:3:1: Task \"b\": `dependsOn` is not a task field. Did you mean `deps`? Known fields: " + KNOWN_FIELDS + ".",
        "rbuild: error: Buildfile.ts:3:1: Task \"b\": `env` contains \"BAD NAME\", which is not a valid environment variable name",
        "rbuild: error: Buildfile.ts:3:1: Task \"b\": `inputs` contains \"../up/**\", which leaves the workspace; globs must stay inside the Buildfile's directory",
        "",
      ].join("\n"),
    );
  });
});

describe("Buildfile errors", () => {
  test("a syntax error, as Buildfile.ts:LINE:COL with the line", async () => {
    const stderr = await setupError(["a"], `${HEADER}\ntask({ name: "a", run: "true" };\n`);
    expect(stderr).toBe('rbuild: error: Buildfile.ts:3:32: Expected ")" but found ";"\n    task({ name: "a", run: "true" };\n                                   ^\n');
  });

  test("an exception while loading, at the line that threw", async () => {
    const stderr = await setupError(["a"], `${HEADER}const tasks: string[] = [];\nif (tasks.length === 0) throw new Error("no tasks defined");\n`);
    expect(stderr).toBe("rbuild: error: Buildfile.ts:3:31: no tasks defined\n(thrown while loading Buildfile.ts; fix the Buildfile and run again)\n");
  });

  test("no Buildfile anywhere above", async () => {
    const stderr = await setupError(["a"]);
    expect(stderr).toBe(`rbuild: error: No Buildfile.ts found in <root> or any directory above it. Create one, or run rbuild from inside a workspace (or pass -C DIR).\n`);
  });

  test("errors are reported relative to where rbuild was started", async () => {
    ws.write({ "Buildfile.ts": `${HEADER}task({ name: "a", deps: ["zz"] });\n`, "sub/.keep": "" });
    const result = await ws.run(["a"], { cwd: `${ws.root}/sub` });
    expect(result.stderr).toBe('rbuild: error: ../Buildfile.ts:2:1: Task "a" depends on "zz", but no task has that name.\n');
  });

  test("a setup failure still writes the summary CI reads", async () => {
    await setupError(["nope", "--summary", "s.json"], `${HEADER}task({ name: "a", run: "true" });\n`);
    expect(JSON.parse(ws.read("s.json"))).toEqual({
      version: 1,
      ok: false,
      durationMs: 0,
      tasks: [],
      errors: ['Unknown task "nope". Run `rbuild list` to see every task.'],
    });
  });
});

describe("usage errors", () => {
  test("an unknown flag", async () => {
    expect(await setupError(["--frobnicate"])).toBe(
      "rbuild: error: Unknown option --frobnicate.\nRun `rbuild --help` for usage.\n",
    );
    // 20.20: one close to a known option says which.
    expect(await setupError(["--keep-gong", "a"])).toBe("rbuild: error: Unknown option --keep-gong. Did you mean --keep-going?\nRun `rbuild --help` for usage.\n");
  });

  test("a bad -j", async () => {
    expect(await setupError(["-j", "0", "a"])).toBe('rbuild: error: -j/--jobs needs a positive whole number, got "0".\nRun `rbuild --help` for usage.\n');
  });

  test("a bad --output", async () => {
    expect(await setupError(["--output", "xml", "a"])).toBe('rbuild: error: --output must be "tui", "plain" or "json", got "xml".\nRun `rbuild --help` for usage.\n');
  });

  test("no task and no default task", async () => {
    const stderr = await setupError([], `${HEADER}task({ name: "a", run: "true" });\n`);
    expect(stderr).toBe("rbuild: error: No task given. Name the tasks to run, e.g. `rbuild build`; `rbuild list` shows them all.\nRun `rbuild --help` for usage.\n");
  });

  test("-C to a directory that does not exist", async () => {
    expect(await setupError(["-C", "missing", "a"])).toBe("rbuild: error: -C/--directory: <root>/missing is not a directory.\nRun `rbuild --help` for usage.\n");
  });
});
