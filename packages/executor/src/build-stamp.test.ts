/**
 * Deferred stamps (the daemon's): kept in memory and used by the process's
 * next build, carried over its own next taking of the build lock, written
 * when asked, and dropped unwritten once another taking of the lock may have
 * changed what the stamps on disk say.
 */
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { describeFailure, task } from "@rbuild/core";
import type { Digest } from "@rbuild/hash";
import { defineTasks, plan, type Graph } from "@rbuild/planner";
import { acquireBuildLock } from "@rbuild/store";
import { BuildStamps, type StampedResult } from "./build-stamp.js";
import { entryStat, fileStat } from "./snapshot.js";

let root: string;
let store: string;
let graph: Graph;
/** A daemon's stamps: deferred. */
let stamps: BuildStamps;
const env = { PATH: "/usr/bin:/bin" };
const platform = "test-platform";

beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-stamp-")));
  store = join(root, ".rbuild");
  mkdirSync(store);
  mkdirSync(join(root, "src"));
  mkdirSync(join(root, "out"));
  writeFileSync(join(root, "src/a.txt"), "alpha\n");
  writeFileSync(join(root, "out/a.txt"), "ALPHA\n");
  const defs = defineTasks([task({ name: "a", inputs: ["src/**"], outputs: ["out/a.txt"], run: "tr a-z A-Z < src/a.txt > out/a.txt" })], root);
  if (!defs.ok) throw new Error(defs.error.map((f) => describeFailure(f, { cwd: root })).join("\n"));
  const planned = plan(defs.value, ["a"]);
  if (!planned.ok) throw new Error("plan failed");
  graph = planned.value;
  stamps = new BuildStamps({ deferWrites: true });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** What a build of `a` leaves for the stamp: its result and the stats of its input, dir and output as they are. */
function snapshots(): Map<string, StampedResult> {
  return new Map([
    [
      "a",
      {
        key: "k".repeat(64) as Digest,
        outputsDigest: "d".repeat(64) as Digest,
        layer: null,
        exitCode: 0,
        log: [],
        logBlob: null,
        files: [fileStat("src/a.txt", statSync(join(root, "src/a.txt")))],
        dirs: [entryStat("src", statSync(join(root, "src")))],
        outputs: [entryStat("out/a.txt", statSync(join(root, "out/a.txt")))],
      },
    ],
  ]);
}

/** A build as run-command.ts runs it under the lock; `ours` says whether this process's own deferred stamps carry over. */
async function underLock(ours: boolean, work: () => void): Promise<void> {
  const lock = (await acquireBuildLock(store, () => {}))!;
  if (ours) stamps.carry(store, lock.previousGeneration);
  try {
    work();
  } finally {
    lock.release();
  }
}

const stampFiles = (): string[] => {
  try {
    return readdirSync(join(store, "up-to-date")).filter((name) => name.endsWith(".json"));
  } catch {
    return [];
  }
};

test("a deferred stamp answers this process's next builds from memory until it is written", async () => {
  await underLock(true, () => stamps.write(store, graph, 1, snapshots(), env, platform));
  expect(stampFiles()).toEqual([]);
  expect(stamps.check(store, graph, env, platform).upToDate?.build).toBe(1);
  // This process's own next build takes the lock: the stamp still stands.
  await underLock(true, () => expect([...stamps.partly(store, graph, env, platform).keys()]).toEqual(["a"]));
  stamps.writeDeferred();
  expect(stampFiles()).toHaveLength(1);
  expect(stamps.check(store, graph, env, platform).upToDate?.build).toBe(1);
});

test("another taking of the build lock drops a deferred stamp unwritten", async () => {
  await underLock(true, () => stamps.write(store, graph, 1, snapshots(), env, platform));
  await underLock(false, () => {});
  expect(stamps.check(store, graph, env, platform).upToDate).toBeUndefined();
  stamps.writeDeferred();
  expect(stampFiles()).toEqual([]);
});

test("a stamp removed meanwhile (an index started over) drops the deferred one", async () => {
  await underLock(true, () => stamps.write(store, graph, 1, snapshots(), env, platform));
  stamps.writeDeferred();
  await underLock(true, () => stamps.write(store, graph, 2, snapshots(), env, platform));
  expect(stamps.check(store, graph, env, platform).upToDate?.build).toBe(2);
  // What removeIndexFiles does, without the build lock.
  rmSync(join(store, "up-to-date"), { recursive: true });
  expect(stamps.check(store, graph, env, platform).upToDate).toBeUndefined();
  stamps.writeDeferred();
  expect(stampFiles()).toEqual([]);
});
