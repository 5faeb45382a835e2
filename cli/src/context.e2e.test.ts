import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { Workspace } from "./test-support/workspace.js";

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.remove());

async function build(args: string[]): Promise<{ exitCode: number | undefined; stdout: string; stderr: string; tasks: [string, string, string[]][] }> {
  const result = await ws.run([...args, "--summary", ".summary.json"]);
  const summary = JSON.parse(ws.read(".summary.json")) as { tasks: { name: string; status: string; reasons: string[] }[] };
  return { ...result, tasks: summary.tasks.map((t) => [t.name, t.status, t.reasons]) };
}

// base sets MODE; mid depends on it and writes a constant; leaf (its grandchild) writes what it sees.
// other depends on nothing and is never touched by the context.
const STATIC = (mode: string): string => `import { task } from "rbuild";
const base = task({ name: "base", outputs: ["base.txt"], context: { MODE: "${mode}" }, run: "echo base > base.txt; echo \\"base sees '$MODE'\\"" });
const mid = task({ name: "mid", deps: [base], outputs: ["mid.txt"], run: "echo constant > mid.txt" });
task({ name: "leaf", deps: [mid], outputs: ["leaf.txt"], run: "echo \\"mode=$MODE\\" > leaf.txt" });
task({ name: "other", outputs: ["other.txt"], run: "echo \\"mode=$MODE\\" > other.txt" });
`;

describe("context", () => {
  test("26.6: a context value reaches a grandchild's env without `env`, and changing it reruns only the descendants", async () => {
    ws.write({ "Buildfile.ts": STATIC("debug") });
    const first = await build(["leaf", "other", "-j", "1"]);
    expect(first.exitCode).toBe(0);
    // The task itself does not see its own context, and a task not below it never does.
    expect(first.stdout).toContain("[base] base sees ''\n");
    expect([ws.read("leaf.txt"), ws.read("other.txt")]).toEqual(["mode=debug\n", "mode=\n"]);

    writeFileSync(join(ws.root, "Buildfile.ts"), STATIC("release"));
    const why = await ws.run(["why", "mid"]);
    expect(why).toEqual({ exitCode: 0, stdout: "mid would run:\n  context-changed: MODE from base\n", stderr: "" });
    const second = await build(["leaf", "other", "-j", "1"]);
    expect(second.tasks).toEqual([
      ["base", "cached", []],
      ["mid", "ran", ["context-changed: MODE from base"]],
      // mid wrote the same bytes, so only the context makes leaf run.
      ["leaf", "ran", ["context-changed: MODE from base"]],
      ["other", "cached", []],
    ]);
    expect(ws.read("leaf.txt")).toBe("mode=release\n");
    const third = await build(["leaf", "other", "-j", "1"]);
    expect(third.tasks.map(([name, status]) => [name, status])).toEqual([
      ["base", "cached"],
      ["mid", "cached"],
      ["leaf", "cached"],
      ["other", "cached"],
    ]);
  });

  test("26.6: a function context value is computed from the task's output file, and a new value reruns the descendants", async () => {
    ws.write({
      "src/version": "1.0.0\n",
      "Buildfile.ts": `import { task } from "rbuild";
const version = task({ name: "version", inputs: ["src/version"], outputs: ["out/version.txt"],
  context: { VERSION: (out) => out.read("out/version.txt").trim() },
  run: "mkdir -p out && cp src/version out/version.txt" });
const mid = task({ name: "mid", deps: [version], outputs: ["out/mid.txt"], run: "echo constant > out/mid.txt" });
task({ name: "stamp", deps: [mid], outputs: ["out/stamp.txt"], run: "echo \\"v$VERSION\\" > out/stamp.txt" });
`,
    });
    const first = await build(["stamp", "-j", "1"]);
    expect(first.exitCode).toBe(0);
    expect(ws.read("out/stamp.txt")).toBe("v1.0.0\n");
    // Nothing changed: restored or up to date, the value is computed again from the outputs in place.
    const again = await build(["stamp", "-j", "1"]);
    expect(again.tasks).toEqual([
      ["version", "cached", []],
      ["mid", "cached", []],
      ["stamp", "cached", []],
    ]);

    writeFileSync(join(ws.root, "src/version"), "1.1.0\n");
    const bumped = await build(["stamp", "-j", "1"]);
    expect(bumped.tasks).toEqual([
      ["version", "ran", ["input-changed: src/version"]],
      ["mid", "ran", ["context-changed: VERSION from version", "dep-output-changed: version"]],
      ["stamp", "ran", ["context-changed: VERSION from version"]],
    ]);
    expect(ws.read("out/stamp.txt")).toBe("v1.1.0\n");
  });

  test("26.6: the nearer ancestor's value wins; one name from two unrelated tasks is a planning error naming both", async () => {
    ws.write({
      "Buildfile.ts": `import { task } from "rbuild";
const top = task({ name: "top", context: { TARGET: "top", KEEP: "kept" }, run: "true" });
const near = task({ name: "near", deps: [top], context: { TARGET: "near" }, run: "true" });
task({ name: "low", deps: [near, top], run: "echo \\"$TARGET $KEEP\\"" });
`,
    });
    const won = await ws.run(["low", "-j", "1"]);
    expect(won.exitCode).toBe(0);
    expect(won.stdout).toContain("[low] near kept\n");

    ws.write({
      "Buildfile.ts": `import { task } from "rbuild";
const left = task({ name: "left", context: { TARGET: "left" }, run: "true" });
const right = task({ name: "right", context: { TARGET: "right" }, run: "true" });
task({ name: "join", deps: [left, right], run: "true" });
`,
    });
    const clash = await ws.run(["join"]);
    expect(clash).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        `rbuild: error: Buildfile.ts:4:1: Task "join": \`context\` would receive TARGET from both "left" and "right", and neither depends on the other, so neither is nearer. ` +
        "Set TARGET in one of them only, or give them different names.\n",
    });
  });

  test("26.6: a function value that reads what is not an output fails its task, and its dependents are skipped", async () => {
    ws.write({
      "Buildfile.ts": `import { task } from "rbuild";
const gen = task({ name: "gen", outputs: ["gen.txt"], context: { SECRET: (out) => out.read("Buildfile.ts") }, run: "echo x > gen.txt" });
task({ name: "use", deps: [gen], run: "echo $SECRET" });
task({ name: "bad", context: { N: 3 as unknown as string }, run: "true" });
`,
    });
    const invalid = await ws.run(["use"]);
    expect(invalid).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: `rbuild: error: Buildfile.ts:4:1: Task "bad": \`context\` must hold strings or functions of the task's outputs, got 3 for "N"\n`,
    });
    writeFileSync(join(ws.root, "Buildfile.ts"), ws.read("Buildfile.ts").replace(/task\(\{ name: "bad".*\n/, ""));
    const result = await ws.run(["use", "-j", "1"]);
    expect(result).toEqual({
      exitCode: 1,
      stdout: "> gen\n✗ gen (<t>)\n- use skipped (dependency-failed: gen)\n",
      stderr:
        `error: Buildfile.ts:2:13: Task "gen" failed: its context value SECRET could not be computed: read("Buildfile.ts"): not one of the outputs of task "gen" ("gen.txt"); paths are relative to the Buildfile's directory\n` +
        "rbuild: failed: 0 ran, 0 cached, 1 failed, 1 skipped in <t>\n",
    });
  });
});
