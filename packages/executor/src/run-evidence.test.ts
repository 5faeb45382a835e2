import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { describeFailure, task } from "@rbuild/core";
import { digestBytes } from "@rbuild/hash";
import { defineTasks, plan } from "@rbuild/planner";
import { LocalRunner } from "@rbuild/runners";
import { readHistory, Store } from "@rbuild/store";
import { execute } from "./executor.js";

let root: string;
beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-evidence-")));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const gen = task({ name: "gen", inputs: ["src/**"], outputs: ["out/**"], run: "mkdir -p out && cat src/a.txt src/b.txt > out/all.txt" });

/** One build of `gen` against the store in the workspace, as a command would run it. */
async function build(force = false): Promise<string> {
  const defs = defineTasks([gen], root);
  if (!defs.ok) throw new Error(defs.error.map((f) => describeFailure(f, { cwd: root })).join("\n"));
  const graph = plan(defs.value, ["gen"]);
  if (!graph.ok) throw new Error(graph.error.map((f) => describeFailure(f, { cwd: root })).join("\n"));
  const store = Store.open({ dir: join(root, ".rbuild") });
  try {
    const outcome = await execute({ graph: graph.value, jobs: 1, runner: new LocalRunner(), reporter: { report: () => {} }, env: { PATH: process.env.PATH }, cache: { store, force } });
    const result = outcome.results[0]!;
    return `${result.status}${result.cache === null ? "" : ` ${result.cache}`}`;
  } finally {
    store.close();
  }
}

describe("the history's evidence", () => {
  // A run found up to date by its freshness record has no evidence (see @rbuild/store readHistory's tests); whether
  // a build right after another finds it so depends on the clock (recent writes are not trusted), so none is here.
  test("23.4: each run that looks the cache up or runs records the inputs changed since the last, its outputs' digests, and a hit's restore time", async () => {
    mkdirSync(join(root, "src"));
    writeFileSync(join(root, "src/a.txt"), "a\n");
    writeFileSync(join(root, "src/b.txt"), "b\n");
    const statuses = [await build()];
    writeFileSync(join(root, "src/a.txt"), "A\n");
    statuses.push(await build());
    writeFileSync(join(root, "src/a.txt"), "a\n"); // Back: the first key, restored from the cache.
    statuses.push(await build());
    statuses.push(await build(true));
    expect(statuses).toEqual(["ran", "ran", "cached local", "ran"]);

    const runs = readHistory(join(root, ".rbuild")).tasks.get("gen")!.runs;
    const first = { "out/all.txt": digestBytes("a\nb\n") };
    expect(runs.map(({ build, status, restoreMs, changedInputs, outputs }) => ({ build, status, restored: restoreMs !== null, changedInputs, outputs }))).toEqual([
      { build: 4, status: "ran", restored: false, changedInputs: [], outputs: first },
      { build: 3, status: "cached", restored: true, changedInputs: ["src/a.txt"], outputs: first },
      { build: 2, status: "ran", restored: false, changedInputs: ["src/a.txt"], outputs: { "out/all.txt": digestBytes("A\nb\n") } },
      { build: 1, status: "ran", restored: false, changedInputs: [], outputs: first },
    ]);
    expect(runs[1]!.restoreMs).toBe(runs[1]!.durationMs);
  });
});
