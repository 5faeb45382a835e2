/**
 * Outputs a transform took over (issue 27.3): the entry a build leaves its
 * dep when the transform rewrote or deleted some of the dep's outputs, and the
 * reverse pass that keeps such a dep fresh only with its transform fresh too.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { describeFailure, task, type TaskOptions } from "@rbuild/core";
import type { Digest } from "@rbuild/hash";
import { defineTasks, plan, type Graph } from "@rbuild/planner";
import { settle } from "./covered-outputs.js";
import { entryStat, trustedEntry, type Succeeded } from "./fresh-entry.js";

const TASKS: TaskOptions[] = [
  { name: "base", outputs: ["t/**"], run: "make-tree" },
  { name: "s1", deps: ["base"], transform: "base", outputs: ["t/**"], run: "edit" },
  { name: "s2", deps: ["s1"], transform: "s1", outputs: ["t/**"], run: "edit" },
  // Not a transform: it only reads the base's outputs.
  { name: "use", deps: ["base"], outputs: ["u.txt"], run: "read" },
  { name: "all", deps: ["s2", "use"] },
  { name: "after", deps: ["all"], outputs: ["z.txt"], run: "last" },
  { name: "apart", outputs: ["a.txt"], run: "alone" },
];

function graphOf(targets: string[]): Graph {
  const defs = defineTasks(TASKS.map((t) => task(t)), "/work/ws");
  if (!defs.ok) throw new Error(defs.error.map((f) => describeFailure(f, { cwd: "/work/ws" })).join("\n"));
  const planned = plan(defs.value, targets);
  if (!planned.ok) throw new Error("plan failed");
  return planned.value;
}

/** What is left fresh of `fresh` (name, and the transform that covers it or "-"), in `graph`. */
function settled(graph: Graph, fresh: Record<string, string | undefined>): string[] {
  const map = new Map(Object.entries(fresh).map(([name, by]) => [name, by === undefined ? {} : { coveredBy: by }]));
  settle(graph.tasks, map);
  return [...graph.tasks.keys()].filter((name) => map.has(name));
}

describe("settle: a dep whose outputs a transform took over is fresh only with that transform", () => {
  const chain = { base: "s1", s1: "s2", s2: undefined, use: undefined, after: undefined, apart: undefined };

  test("27.3: a whole chain fresh stays fresh", () => {
    expect(settled(graphOf(["after", "apart"]), chain)).toEqual(["base", "s1", "s2", "use", "after", "apart"]);
  });

  test("27.3: the chain's last step not fresh takes out every step before it, and what depends on them", () => {
    const { s2: _, ...rest } = chain;
    // "use" only reads the base, but the base is restored: it is checked again too; "apart" depends on nothing taken out.
    expect(settled(graphOf(["after", "apart"]), rest)).toEqual(["apart"]);
  });

  test("27.3: a middle step not fresh takes out the base before it and the step after it", () => {
    const { s1: _, ...rest } = chain;
    expect(settled(graphOf(["after", "apart"]), rest)).toEqual(["apart"]);
  });

  test("27.3: a graph without the transform (the base built alone) does not take the covered entry", () => {
    expect(settled(graphOf(["base"]), { base: "s1" })).toEqual([]);
    expect(settled(graphOf(["s1"]), { base: "s1", s1: "s2" })).toEqual([]);
    // The chain up to s1, where s1's last entry covers nothing (it was the last step when it was made).
    expect(settled(graphOf(["s1"]), { base: "s1", s1: undefined })).toEqual(["base", "s1"]);
  });

  test("27.3: an entry naming a task that is not its transform is not taken", () => {
    expect(settled(graphOf(["after"]), { ...chain, base: "use" })).toEqual([]);
    expect(settled(graphOf(["after"]), { ...chain, base: "s2" })).toEqual([]);
  });
});

describe("the entry a build leaves a transform's dep", () => {
  let root: string;
  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-covered-")));
    mkdirSync(join(root, "t"));
    for (const name of ["a", "b", "c"]) writeFileSync(join(root, `t/${name}.txt`), `${name}\n`);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const d = (c: string) => c.repeat(64) as Digest;

  function succeeded(): Succeeded {
    return {
      entry: { def: "definition", deps: [], key: d("b"), outputsDigest: d("c"), layer: null, exitCode: 0, log: [], logBlob: null, files: [], dirs: [] },
      outputs: ["t", "t/a.txt", "t/b.txt", "t/c.txt"].map((path) => entryStat(path, statSync(join(root, path)))),
    };
  }

  test("27.3: outputs its transform rewrote or deleted are left to it; without a transform with an entry, no entry", () => {
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
