import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { Workspace } from "./test-support/workspace.js";

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.remove());

interface SummaryTask {
  name: string;
  status: string;
  reasons: string[];
}

async function build(args: string[]): Promise<{ exitCode: number | undefined; stdout: string; stderr: string; tasks: [string, string, string[]][] }> {
  const result = await ws.run([...args, "--summary", ".summary.json"]);
  const summary = JSON.parse(ws.read(".summary.json")) as { tasks: SummaryTask[] };
  return { ...result, tasks: summary.tasks.map((t) => [t.name, t.status, t.reasons]) };
}

/** The events of a `--output json` run, each as its type and what it is about. */
function events(stdout: string): string[] {
  return stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as { type: string; task?: string; stage?: string; ok?: boolean; result?: { name: string } })
    .filter((event) => event.type.startsWith("stage-") || event.type === "task-started" || event.type === "task-finished")
    .map((event) => `${event.type} ${event.stage ?? event.task ?? event.result?.name}${event.ok === undefined ? "" : ` ${event.ok}`}`);
}

// Stages of tasks with no deps between them: only the stages order them. Each task writes when it
// started and ended (ns).
const PIPELINE = `import { stage, task } from "rbuild";
const stamp = (name: string, work: string) => \`echo "\${name} start $(date +%s%N)" >> times.log; \${work}; echo "\${name} end $(date +%s%N)" >> times.log\`;
const compile = task({ name: "compile", run: stamp("compile", "true") });
const bundle = task({ name: "bundle", run: stamp("bundle", "true") });
const unit = task({ name: "unit", run: stamp("unit", "true") });
const lint = task({ name: "lint", run: stamp("lint", "true") });
task({ name: "free", run: stamp("free", "touch free.started") });
const built = stage("build", { tasks: [compile, bundle] });
const tested = stage("test", { tasks: [unit, lint], after: [built] });
stage("ship", { tasks: [task({ name: "deploy", pure: false, run: stamp("deploy", "true") })], after: [tested] });
`;

function times(): Map<string, { start: bigint; end: bigint }> {
  const found = new Map<string, { start: bigint; end: bigint }>();
  for (const line of ws.read("times.log").trim().split("\n")) {
    const [name, what, ns] = line.split(" ") as [string, "start" | "end", string];
    const entry = found.get(name) ?? { start: 0n, end: 0n };
    entry[what] = BigInt(ns);
    found.set(name, entry);
  }
  return found;
}

describe("stages", () => {
  test("26.6: a task of a stage never starts before every task of the stages it follows has finished, even with free -j", async () => {
    // "compile" ends only once "free" (in no stage) has started, or after 30 s: "test" would start
    // before it ended if nothing held it back.
    const wait = "for i in $(seq 600); do [ -e free.started ] && break; sleep 0.05; done";
    ws.write({ "Buildfile.ts": PIPELINE.replace('stamp("compile", "true")', `stamp("compile", "${wait}")`) });
    const result = await ws.run(["deploy", "free", "-j", "8", "--output", "json"]);
    expect(result.exitCode).toBe(0);
    const t = times();
    expect([...t.keys()].sort()).toEqual(["bundle", "compile", "deploy", "free", "lint", "unit"]);
    for (const later of ["unit", "lint"]) for (const earlier of ["compile", "bundle"]) expect(t.get(later)!.start >= t.get(earlier)!.end, `${later} after ${earlier}`).toBe(true);
    for (const earlier of ["unit", "lint"]) expect(t.get("deploy")!.start >= t.get(earlier)!.end, `deploy after ${earlier}`).toBe(true);
    // A task in no stage is not held back: it starts while "compile" waits for it.
    expect(t.get("free")!.start < t.get("compile")!.end).toBe(true);

    // The events: each stage starts once the stage before it finished, and its tasks start after that.
    const seen = events(result.stdout);
    const at = (event: string): number => {
      const index = seen.indexOf(event);
      expect(index, event).toBeGreaterThanOrEqual(0);
      return index;
    };
    expect(at("stage-started build")).toBeLessThan(Math.min(at("task-started compile"), at("task-started bundle")));
    expect(at("stage-finished build true")).toBeGreaterThan(Math.max(at("task-finished compile"), at("task-finished bundle")));
    expect(at("stage-started test")).toBeGreaterThan(at("stage-finished build true"));
    expect(at("stage-started test")).toBeLessThan(Math.min(at("task-started unit"), at("task-started lint")));
    expect(at("stage-started ship")).toBeGreaterThan(at("stage-finished test true"));
    expect(at("stage-finished ship true")).toBeGreaterThan(at("task-finished deploy"));
    expect(seen.filter((event) => event.startsWith("stage-"))).toEqual([
      "stage-started build",
      "stage-finished build true",
      "stage-started test",
      "stage-finished test true",
      "stage-started ship",
      "stage-finished ship true",
    ]);
  });

  test("26.6: the plain output marks where each stage starts", async () => {
    ws.write({ "Buildfile.ts": PIPELINE });
    const result = await ws.run(["deploy", "-j", "1"]);
    expect(result).toEqual({
      exitCode: 0,
      stdout:
        "── stage build ──\n> bundle\n✓ bundle (<t>)\n> compile\n✓ compile (<t>)\n" +
        "── stage test ──\n> lint\n✓ lint (<t>)\n> unit\n✓ unit (<t>)\n" +
        "── stage ship ──\n> deploy\n✓ deploy (<t>)\n",
      stderr: "rbuild: ok: 5 ran, 0 cached in <t>\n",
    });
  });

  test("26.6: a target may name a stage: its tasks are built, with the tasks of the stages it follows", async () => {
    ws.write({ "Buildfile.ts": PIPELINE });
    const first = await build(["build", "-j", "1"]);
    expect([first.exitCode, first.tasks]).toEqual([0, [["compile", "ran", ["no-record"]], ["bundle", "ran", ["no-record"]]]]);
    const tested = await build(["test", "-j", "1"]);
    expect([tested.exitCode, tested.tasks]).toEqual([
      0,
      [
        ["compile", "cached", []],
        ["bundle", "cached", []],
        ["unit", "ran", ["no-record"]],
        ["lint", "ran", ["no-record"]],
      ],
    ]);
    expect(await ws.run(["why", "test"])).toEqual({ exitCode: 0, stdout: "test is a stage: of its tasks and what they need (the stages it follows too), none would run.\n", stderr: "" });
    ws.write({ "src.txt": "x" });
    writeFileSync(join(ws.root, "Buildfile.ts"), PIPELINE.replace('name: "unit", run:', 'name: "unit", inputs: ["src.txt"], run:'));
    expect(await ws.run(["why", "test"])).toEqual({
      exitCode: 0,
      stdout: "test is a stage: of its tasks and what they need (the stages it follows too), 1 would run:\n  unit (input-changed: src.txt)\n",
      stderr: "",
    });
    const unknown = await ws.run(["tset"]);
    expect(unknown).toEqual({ exitCode: 2, stdout: "", stderr: `rbuild: error: Unknown task "tset". Did you mean "test"? Run \`rbuild list\` to see every task.\n` });
  });

  test("26.6: a failure in a stage skips the stages after it, with --keep-going too; tasks in no stage still run", async () => {
    ws.write({
      "Buildfile.ts": PIPELINE.replace(`stamp("bundle", "true")`, `"echo broken >&2; exit 3"`),
    });
    const stopped = await build(["deploy", "-j", "1"]);
    expect(stopped.exitCode).toBe(1);
    expect(stopped.tasks).toEqual([
      ["compile", "ran", ["no-record"]],
      ["bundle", "failed", ["no-record"]],
      ["unit", "skipped", ["stage-failed: build"]],
      ["lint", "skipped", ["stage-failed: build"]],
      ["deploy", "skipped", ["stage-failed: build"]],
    ]);
    expect(stopped.stdout).toBe(
      "── stage build ──\n> bundle\n✗ bundle (<t>)\n- unit skipped (stage-failed: build)\n- lint skipped (stage-failed: build)\n- deploy skipped (stage-failed: build)\n> compile\n✓ compile (<t>)\n",
    );

    const going = await build(["deploy", "free", "-k", "-j", "1"]);
    expect(going.exitCode).toBe(1);
    expect(going.tasks).toEqual([
      ["compile", "cached", []],
      ["bundle", "failed", ["previous-run-failed"]],
      ["unit", "skipped", ["stage-failed: build"]],
      ["lint", "skipped", ["stage-failed: build"]],
      ["deploy", "skipped", ["stage-failed: build"]],
      ["free", "ran", ["no-record"]],
    ]);
  });

  test("26.6: a task in two stages, a cycle of stages, an unknown stage in `after`, a stage named like a task: planning errors naming them", async () => {
    ws.write({
      "Buildfile.ts": `import { stage, task } from "rbuild";
const a = task({ name: "a", run: "true" });
const b = task({ name: "b", run: "true" });
task({ name: "c", run: "true" });
stage("one", { tasks: [a, "b"], after: ["two"] });
stage("two", { tasks: [b, "nope"], after: ["one", "thre"] });
stage("three", { tasks: [] });
stage("c", { tasks: ["c"] });
`,
    });
    const result = await ws.run(["a"]);
    expect(result).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        `rbuild: error: Buildfile.ts:6:1: Stage "two": names the task "b", which is in the stage "one" already: a task belongs to one stage at most.\n` +
        `rbuild: error: Buildfile.ts:6:1: Stage "two": names the task "nope", but no task has that name.\n` +
        `rbuild: error: Buildfile.ts:8:1: Stage "c": has the name of a task, so \`rbuild c\` could mean either: rename one of them.\n` +
        `rbuild: error: Buildfile.ts:6:1: Stage "two": follows the stage "thre", but no stage has that name. Did you mean "three"?\n` +
        `rbuild: error: Buildfile.ts:5:1: Stage "one": Stage cycle: one -> two -> one (each follows the next through \`after\`). A stage cannot follow itself, directly or through others; remove one of these.\n`,
    });
  });

  test("26.6: deps that run against the order of stages are a planning error naming the circle", async () => {
    ws.write({
      "Buildfile.ts": `import { stage, task } from "rbuild";
const unit = task({ name: "unit", run: "true" });
const pack = task({ name: "pack", deps: [unit], run: "true" });
const built = stage("build", { tasks: [pack] });
stage("test", { tasks: [unit], after: [built] });
`,
    });
    const result = await ws.run(["pack"]);
    expect(result).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        `rbuild: error: Buildfile.ts:4:15: Stage "build": its tasks can never start: unit -> (every task of stage "build") -> pack -> unit wait for each other in a circle ` +
        "(a task waits for its deps, and a task of a stage for every task of the stages it follows). Remove one of these deps, or change the stages' `after`.\n",
    });
  });

  test("26.6: \`rbuild graph\` draws each stage as a cluster (dot) and names each task's stage (json)", async () => {
    ws.write({
      "Buildfile.ts": `import { stage, task } from "rbuild";
const compile = task({ name: "compile", run: "true" });
const unit = task({ name: "unit", deps: [compile], run: "true" });
task({ name: "free", run: "true" });
const built = stage("build", { tasks: [compile] });
stage("test", { tasks: [unit], after: [built] });
`,
    });
    const dot = await ws.run(["graph", "test", "free", "--format", "dot"]);
    expect(dot).toEqual({
      exitCode: 0,
      stdout:
        'digraph rbuild {\n  rankdir=TB;\n  node [shape=box, fontname="Helvetica", fontsize=11];\n  edge [color="#555555"];\n' +
        '  subgraph "cluster_0" {\n    label="stage build";\n    style=rounded;\n    color="#888888";\n    "compile" [label="compile", color="#cc2222", penwidth=2];\n  }\n' +
        '  subgraph "cluster_1" {\n    label="stage test";\n    style=rounded;\n    color="#888888";\n    "unit" [label="unit", color="#cc2222", penwidth=2];\n  }\n' +
        '  "free" [label="free"];\n  "compile" -> "unit" [color="#cc2222", penwidth=2];\n}\n',
      stderr: "",
    });
    const json = await ws.run(["graph", "test", "--format", "json"]);
    const report = JSON.parse(json.stdout) as { tasks: { name: string; stage?: string }[] };
    expect(report.tasks.map((task) => [task.name, task.stage])).toEqual([
      ["compile", "build"],
      ["unit", "test"],
    ]);
  });

  test("26.6: an interrupt during a stage skips the stages after it as interrupted, not as failed", async () => {
    ws.write({
      "Buildfile.ts": `import { stage, task } from "rbuild";
const built = stage("build", { tasks: [task({ name: "slow", run: "touch slow.started; sleep 300" })] });
stage("test", { tasks: [task({ name: "unit", run: "true" })], after: [built] });
`,
    });
    const running = ws.start(["unit", "-j", "1", "--summary", ".summary.json"]);
    for (let i = 0; i < 2000 && !existsSync(join(ws.root, "slow.started")); i++) await sleep(10);
    running.kill("SIGINT");
    const result = await running;
    expect(result.exitCode).toBe(130);
    const summary = JSON.parse(ws.read(".summary.json")) as { tasks: { name: string; status: string; reasons: string[] }[] };
    expect(summary.tasks.map((t) => [t.name, t.status, t.reasons])).toEqual([
      ["slow", "interrupted", ["no-record"]],
      ["unit", "skipped", ["interrupted"]],
    ]);
  });

  test("26.6: \`rbuild list\` lists the stages after the tasks, with their tasks and the stages they follow", async () => {
    ws.write({ "Buildfile.ts": PIPELINE });
    const result = await ws.run(["list"]);
    expect(result).toEqual({
      exitCode: 0,
      stdout:
        "compile\nbundle\nunit\nlint\nfree\ndeploy   impure\n\n" +
        "stages:\n  build  tasks: compile, bundle\n  test   tasks: unit, lint  after: build\n  ship   tasks: deploy  after: test\n",
      stderr: "",
    });
  });
});
