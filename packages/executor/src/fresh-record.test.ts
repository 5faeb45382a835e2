/**
 * The freshness record: one per workspace root, shared by every set of
 * targets, and the daemon's deferred writes of it (kept in memory and used
 * by the process's next build, carried over its own next taking of the build
 * lock, written when asked, and dropped unwritten once another taking of the
 * lock may have changed what the record on disk says).
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { describeFailure, task, type TaskOptions } from "@rbuild/core";
import type { Digest } from "@rbuild/hash";
import { defineTasks, plan, type Graph } from "@rbuild/planner";
import { acquireBuildLock, freshRecordFiles } from "@rbuild/store";
import { FreshRecords, targetsKey, type RecordChange } from "./fresh-record.js";
import { entryStat, fileStat, taskDefinition, type NewEntry } from "./fresh-entry.js";

let root: string;
let store: string;
/** A daemon's records: deferred. */
let records: FreshRecords;
const env = { PATH: "/usr/bin:/bin" };
const platform = "test-platform";

beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-fresh-")));
  store = join(root, ".rbuild");
  mkdirSync(store);
  mkdirSync(join(root, "src"));
  mkdirSync(join(root, "out"));
  for (const name of ["a", "b", "c"]) {
    writeFileSync(join(root, `src/${name}.txt`), `${name}\n`);
    writeFileSync(join(root, `out/${name}.txt`), `${name.toUpperCase()}\n`);
  }
  records = new FreshRecords({ deferWrites: true });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const TASKS: TaskOptions[] = [
  { name: "a", inputs: ["src/a.txt"], outputs: ["out/a.txt"], run: "tr a-z A-Z < src/a.txt > out/a.txt" },
  { name: "b", deps: ["a"], inputs: ["src/b.txt"], outputs: ["out/b.txt"], run: "cat out/a.txt src/b.txt > out/b.txt" },
  { name: "c", inputs: ["src/c.txt"], outputs: ["out/c.txt"], run: "tr a-z A-Z < src/c.txt > out/c.txt" },
];

function graphOf(targets: string[], tasks: TaskOptions[] = TASKS): Graph {
  const defs = defineTasks(tasks.map((t) => task(t)), root);
  if (!defs.ok) throw new Error(defs.error.map((f) => describeFailure(f, { cwd: root })).join("\n"));
  const planned = plan(defs.value, targets);
  if (!planned.ok) throw new Error("plan failed");
  return planned.value;
}

const digest = (name: string, kind: string): Digest => `${kind}${name}`.padEnd(64, "0") as Digest;

/** The entry a build of `name` makes: its result and the stats of its input, dir and output as they are. */
function entryOf(graph: Graph, name: string): NewEntry {
  const t = graph.tasks.get(name)!;
  return {
    def: taskDefinition(t, graph.sourceDigest, env, platform).def,
    deps: t.deps.map((dep) => [dep, digest(dep, "d")] as const),
    key: digest(name, "k"),
    outputsDigest: digest(name, "d"),
    layer: null,
    exitCode: 0,
    log: [["o", `made ${name}`]],
    logBlob: null,
    files: [fileStat(`src/${name}.txt`, statSync(join(root, `src/${name}.txt`)))],
    dirs: [entryStat("src", statSync(join(root, "src")))],
    outputs: [entryStat(`out/${name}.txt`, statSync(join(root, `out/${name}.txt`)))],
    covered: null,
  };
}

/** What build `id` of `graph` changes in the record. */
function change(graph: Graph, id: number, set: ReadonlyMap<string, NewEntry>, drop: readonly string[] = [], ok = true): RecordChange {
  return { root, set, drop: new Set(drop), order: [...graph.tasks.keys()], targets: targetsKey(graph), build: { id, ok, definitions: records.definitionsDigest(graph, env, platform) } };
}

/** What a successful build of `graph` (number `build`) writes: an entry for every task. */
function write(graph: Graph, build: number, names = [...graph.tasks.keys()], ok = true): void {
  const base = records.read(store, root);
  records.write(store, base, change(graph, build, new Map(names.map((name) => [name, entryOf(graph, name)])), [], ok));
}

/** A build as run-command.ts runs it under the lock; `ours` says whether this process's own deferred records carry over. */
async function underLock(ours: boolean, work: () => void): Promise<void> {
  const lock = (await acquireBuildLock(store, () => {}))!;
  if (ours) records.carry(store, lock.previousGeneration);
  try {
    work();
  } finally {
    lock.release();
  }
}

const noOp = (graph: Graph) => records.check(store, graph, env, platform).upToDate;
const stillFresh = (graph: Graph) => [...records.partly(store, records.read(store, root), graph, env, platform).keys()];

test("a deferred record answers this process's next builds from memory until it is written", async () => {
  const graph = graphOf(["b"]);
  await underLock(true, () => write(graph, 1));
  expect(freshRecordFiles(store)).toEqual([]);
  expect(noOp(graph)?.build).toBe(1);
  // This process's own next build takes the lock: the record still stands.
  await underLock(true, () => expect(stillFresh(graph)).toEqual(["a", "b"]));
  records.writeDeferred();
  expect(freshRecordFiles(store)).toHaveLength(1);
  expect(noOp(graph)?.build).toBe(1);
  // Another process reads the file.
  expect(new FreshRecords().check(store, graph, env, platform).upToDate?.results.get("b")?.log).toEqual([["o", "made b"]]);
});

test("another taking of the build lock drops a deferred record unwritten", async () => {
  const graph = graphOf(["b"]);
  await underLock(true, () => write(graph, 1));
  await underLock(false, () => {});
  expect(noOp(graph)).toBeUndefined();
  records.writeDeferred();
  expect(freshRecordFiles(store)).toEqual([]);
});

test("a record removed meanwhile (an index started over) drops the deferred one", async () => {
  const graph = graphOf(["b"]);
  await underLock(true, () => write(graph, 1));
  records.writeDeferred();
  await underLock(true, () => write(graph, 2));
  expect(noOp(graph)?.build).toBe(2);
  // What removeIndexFiles does, without the build lock.
  rmSync(join(store, "fresh"), { recursive: true });
  expect(noOp(graph)).toBeUndefined();
  records.writeDeferred();
  expect(freshRecordFiles(store)).toEqual([]);
});

test("21.2: one record per root: a build of other targets keeps the entries it does not have, and entries serve any graph", () => {
  records = new FreshRecords();
  write(graphOf(["b"]), 1);
  write(graphOf(["c"]), 2);
  expect(freshRecordFiles(store)).toHaveLength(1);
  // Each set of targets is a no-op that repeats its own last build.
  expect([noOp(graphOf(["b"]))?.build, noOp(graphOf(["c"]))?.build]).toEqual([1, 2]);
  // Targets never built together are not a no-op (no build to repeat), but every task is still fresh.
  const both = graphOf(["b", "c"]);
  expect(noOp(both)).toBeUndefined();
  expect(stillFresh(both)).toEqual(["a", "b", "c"]);
  // A failed build of some targets: the next build of them is not a no-op; the other targets' still is.
  write(graphOf(["c"]), 3, [], false);
  expect([noOp(graphOf(["b"]))?.build, noOp(graphOf(["c"]))]).toEqual([1, undefined]);
});

test("21.2: an entry holds for its definition, deps' outputs and stats only; what depends on a stale one is not fresh", () => {
  records = new FreshRecords();
  const graph = graphOf(["b", "c"]);
  write(graph, 1);
  expect(noOp(graph)?.build).toBe(1);
  // An edited input: that task and everything after it are checked the full way.
  writeFileSync(join(root, "src/a.txt"), "again\n");
  expect([noOp(graph), stillFresh(graph)]).toEqual([undefined, ["c"]]);
  write(graph, 2, ["a"]);
  expect(noOp(graph)?.build).toBe(2);
  // Another command for c: c's entry is not its entry any more.
  const edited = graphOf(["b", "c"], TASKS.map((t) => (t.name === "c" ? { ...t, run: "cp src/c.txt out/c.txt" } : t)));
  expect([noOp(edited), stillFresh(edited)]).toEqual([undefined, ["a", "b"]]);
  // b's dep a with other outputs (a's entry made again with another digest): b is not fresh.
  const base = records.read(store, root);
  records.write(store, base, change(graph, 3, new Map([["a", { ...entryOf(graph, "a"), outputsDigest: digest("a", "x") }]])));
  expect([noOp(graph), stillFresh(graph)]).toEqual([undefined, ["a", "c"]]);
  // A task checked the full way without a trusted entry loses its entry.
  records.write(store, records.read(store, root), change(graph, 4, new Map(), ["c"]));
  expect(stillFresh(graph)).toEqual(["a"]);
});

test("21.2: an entry made after the build the record names is checked by its own definition", () => {
  records = new FreshRecords();
  const graph = graphOf(["b", "c"]);
  write(graph, 1);
  // A build of c alone with another command for it: c's entry is that command's.
  const other = graphOf(["c"], TASKS.map((t) => (t.name === "c" ? { ...t, run: "cp src/c.txt out/c.txt" } : t)));
  write(other, 2);
  // Back to the first command: the graph's definitions are build 1's again, but c's entry (made by build 2) is not c's.
  const again = graphOf(["b", "c"]);
  expect([noOp(again), stillFresh(again)]).toEqual([undefined, ["a", "b"]]);
});

test("21.2: a record kept in memory is read again once another process replaced the file", () => {
  records = new FreshRecords();
  const graph = graphOf(["b"]);
  write(graph, 1);
  expect(noOp(graph)?.build).toBe(1);
  // Another rbuild's build of the same targets.
  const other = new FreshRecords();
  other.write(store, other.read(store, root), { ...change(graph, 2, new Map()), build: { id: 2, ok: true, definitions: other.definitionsDigest(graph, env, platform) } });
  expect(noOp(graph)?.build).toBe(2);
});
