/**
 * Outputs a transform took over (issue 27.3): the entry a build leaves its
 * dep when the transform rewrote or deleted some of the dep's outputs, and
 * where such an entry holds: only in a graph that has that transform.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { describeFailure, task, type TaskOptions } from "@rbuild/core";
import type { Digest } from "@rbuild/hash";
import { defineTasks, plan, type Graph } from "@rbuild/planner";
import type { CoveredOutputs } from "@rbuild/store";
import { FreshRecords, targetsKey } from "./fresh-record.js";
import { entryStat, taskDefinition, trustedEntry, type NewEntry, type Succeeded } from "./fresh-entry.js";

let root: string;
let store: string;
beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-covered-")));
  store = join(root, ".rbuild");
  mkdirSync(store);
  mkdirSync(join(root, "t"));
  for (const name of ["a", "b", "c"]) writeFileSync(join(root, `t/${name}.txt`), `${name}\n`);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const d = (c: string) => c.repeat(64) as Digest;
const env = { PATH: "/usr/bin:/bin" };
const platform = "test-platform";

describe("the entry a build leaves a transform's dep", () => {
  function succeeded(): Succeeded {
    return {
      entry: { def: "definition", deps: [], key: d("b"), outputsDigest: d("c"), layer: null, exitCode: 0, log: [], logBlob: null, files: [], dirs: [] },
      outputs: ["t", "t/a.txt", "t/b.txt", "t/c.txt"].map((path) => entryStat(path, statSync(join(root, path)))),
    };
  }

  test("27.3: the outputs its transform rewrote or deleted are left to the transform; without one, no entry", () => {
    const done = succeeded();
    const later = Math.max(...done.outputs.map((stat) => stat[4])) + 1000;
    // As stored: every output in its stats, with or without a transform.
    expect(trustedEntry(root, done, later, later, "s1")).toEqual({ ...done.entry, outputs: done.outputs, covered: null });
    // The transform rewrote a.txt (a new inode, as a restore or a command writes it) and deleted c.txt, which changed the directory.
    rmSync(join(root, "t/a.txt"));
    writeFileSync(join(root, "t/a.txt"), "A\n");
    rmSync(join(root, "t/c.txt"));
    expect(trustedEntry(root, done, later, later + 5000, "s1")).toEqual({ ...done.entry, outputs: [done.outputs[2]], covered: ["s1", ["t", "t/a.txt", "t/c.txt"]] });
    expect(trustedEntry(root, done, later, later + 5000)).toBeUndefined();
    // What it kept must still be older than the build's end (the racily-clean rule).
    expect(trustedEntry(root, done, later, done.outputs[2]![4], "s1")).toBeUndefined();
  });
});

describe("where an entry with outputs taken over holds", () => {
  const TASKS: TaskOptions[] = [
    { name: "base", outputs: ["t/**"], run: "make-tree" },
    { name: "s1", deps: ["base"], transform: "base", outputs: ["t/**"], run: "edit" },
    { name: "s2", deps: ["s1"], transform: "s1", outputs: ["t/**"], run: "edit" },
    // Not a transform: it only reads the base's outputs (in a build without the transforms: with them it is refused).
    { name: "use", deps: ["base"], outputs: ["u.txt"], run: "read" },
  ];

  function graphOf(targets: string[], tasks = TASKS): Graph {
    const defs = defineTasks(tasks.map((t) => task(t)), root);
    if (!defs.ok) throw new Error(defs.error.map((f) => describeFailure(f, { cwd: root })).join("\n"));
    const planned = plan(defs.value, targets);
    if (!planned.ok) throw new Error("plan failed");
    return planned.value;
  }

  /** An entry of task `name`, its outputs `kept` in its stats and `covered` left to a transform. */
  function entryOf(graph: Graph, name: string, kept: string[], covered: CoveredOutputs | null): NewEntry {
    const t = graph.tasks.get(name)!;
    return {
      def: taskDefinition(t, graph.sourceDigest, env, platform).def,
      deps: t.deps.map((dep) => [dep, d("d")] as const),
      key: d("k"),
      outputsDigest: d("d"),
      layer: null,
      exitCode: 0,
      log: null,
      logBlob: null,
      files: [],
      dirs: [],
      outputs: kept.map((path) => entryStat(path, statSync(join(root, path)))),
      covered,
    };
  }

  /** What a successful build of s2 leaves (and an earlier one of use): base's a.txt was taken over by s1, s1's b.txt by s2. */
  function built(records: FreshRecords): void {
    const graph = graphOf(["s2"]);
    const entries: [string, NewEntry][] = [
      ["base", entryOf(graph, "base", ["t/c.txt"], ["s1", ["t/a.txt"]])],
      ["s1", entryOf(graph, "s1", ["t/a.txt"], ["s2", ["t/b.txt"]])],
      ["s2", entryOf(graph, "s2", ["t/a.txt", "t/b.txt", "t/c.txt"], null)],
      ["use", entryOf(graphOf(["use"]), "use", ["t/c.txt"], null)],
    ];
    const order = [...graph.tasks.keys()];
    records.write(store, undefined, { root, set: new Map(entries), drop: new Set(), order, targets: targetsKey(graph), build: { id: 1, ok: true, definitions: records.definitionsDigest(graph, env, platform) } });
  }

  const noOp = (records: FreshRecords, graph: Graph) => records.check(store, graph, env, platform).upToDate?.build;
  const stillFresh = (records: FreshRecords, graph: Graph) => [...records.partly(store, records.read(store, root), graph, env, platform).keys()];

  test("27.3: in a graph with the chain, the chain is a no-op; a step changed leaves the steps before it fresh", () => {
    const records = new FreshRecords();
    built(records);
    const graph = graphOf(["s2"]);
    expect(noOp(records, graph)).toBe(1);
    // s2's output edited: s2 is checked again, and restored or run it leaves its whole output area as its result has it.
    writeFileSync(join(root, "t/b.txt"), "edited\n");
    expect([noOp(records, graph), stillFresh(records, graph)]).toEqual([undefined, ["base", "s1"]]);
    // The base's own output edited: it and everything after it.
    writeFileSync(join(root, "t/c.txt"), "edited\n");
    expect(stillFresh(records, graph)).toEqual([]);
  });

  test("27.3: in a graph without the transform that took its outputs over, the dep's entry does not hold", () => {
    const records = new FreshRecords();
    built(records);
    // The base alone, or with only what reads it: restored, so the workspace holds its own files.
    expect(stillFresh(records, graphOf(["base"]))).toEqual([]);
    expect(stillFresh(records, graphOf(["use"]))).toEqual([]);
    // Up to s1: base's outputs are s1's, but s1's b.txt is s2's, which is not in the graph.
    expect(stillFresh(records, graphOf(["s1"]))).toEqual(["base"]);
    // A graph where the task named is there but is not the dep's transform (another Buildfile).
    const other: TaskOptions[] = [TASKS[0]!, { name: "s1", deps: ["base"], outputs: ["o/**"], run: "read" }];
    expect(stillFresh(records, graphOf(["s1"], other))).toEqual([]);
  });
});
