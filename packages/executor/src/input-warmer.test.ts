import { mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { writeFiles } from "../../../test-support/files.js";
import { describeFailure, task, type Task } from "@rbuild/core";
import { digestFile, FileHasher, MemoryStatCache, type FileState } from "@rbuild/hash";
import { defineTasks, plan } from "@rbuild/planner";
import { DirectoryCache } from "@rbuild/remote";
import { Store } from "@rbuild/store";
// The compiled modules: the helper thread runs the module's own file, which Node cannot run as TypeScript.
import { InputWarmer, type WarmJob } from "../dist/input-warmer.js";
import { execute, type BuildOutcome } from "../dist/executor.js";
import { LocalRunner } from "@rbuild/runners";

let root: string;
beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-warmer-")));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** Waits until the filesystem's clock has passed every file written so far, so that a store opened next trusts their stats. */
async function untilFsClockPasses(paths: readonly string[]): Promise<void> {
  const newest = Math.max(...paths.map((path) => statSync(join(root, path)).ctimeMs));
  for (;;) {
    writeFileSync(join(root, ".clock"), "");
    if (statSync(join(root, ".clock")).mtimeMs > newest) return;
    await delay(1);
  }
}

const write = (files: Record<string, string>): void => writeFiles(root, files);

/** A time on the filesystem's clock after everything written so far (as Store.fsClock takes it). */
async function fsClockNow(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 20));
  writeFileSync(join(root, ".clock"), "");
  return statSync(join(root, ".clock")).mtimeMs;
}

/** Runs a warmer over `inputs` to its end and collects what it sends. */
async function warm(inputs: string[][], trustBefore: number): Promise<Map<string, FileState>> {
  const found = new Map<string, FileState>();
  const job: WarmJob = { root, inputs, ignore: [], trustBefore };
  const sends: string[] = [];
  const warmer = new InputWarmer(job, (path, state) => {
    sends.push(path);
    found.set(path, state);
  });
  await warmer.ended;
  expect(sends.length).toBe(found.size); // Each file once, however many tasks name it.
  return found;
}

describe("InputWarmer", () => {
  test("sends each input file's stat and digest, once, for files older than trustBefore", async () => {
    write({ "a/one.txt": "one", "a/two.txt": "two", "b/three.txt": "three", "b/skip.md": "no" });
    const trustBefore = await fsClockNow();
    write({ "a/new.txt": "written after trustBefore" });
    const found = await warm([["a/**"], ["b/*.txt", "a/one.txt"], ["missing/**"]], trustBefore);
    expect([...found.keys()].sort()).toEqual(["a/one.txt", "a/two.txt", "b/three.txt"]);
    for (const [path, state] of found) {
      const stat = statSync(join(root, path));
      expect(state).toEqual({ size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, ino: stat.ino, digest: digestFile(join(root, path)) });
    }
  });

  test("a file changed after the helper read it is hashed again by the main thread, never taken stale", async () => {
    write({ "src/f.txt": "before" });
    const trustBefore = await fsClockNow();
    const cache = new MemoryStatCache();
    for (const [path, state] of await warm([["src/**"]], trustBefore)) cache.set(path, state);
    expect(cache.entries.size).toBe(1);
    const hasher = new FileHasher(root, cache, trustBefore);
    expect(hasher.digest("src/f.txt")).toBe(digestFile(join(root, "src/f.txt")));
    expect(hasher.filesHashed).toBe(0); // The helper's entry was used.
    writeFileSync(join(root, "src/f.txt"), "after!"); // Same size, new bytes.
    expect(hasher.digest("src/f.txt")).toBe(digestFile(join(root, "src/f.txt")));
    expect(hasher.filesHashed).toBe(1);
  });

  test("21.6: in a build with a remote, the main thread takes every input's digest from the helper, and computes the keys it computes alone", async () => {
    // 120 tasks with inputs: enough for the executor to start the helper (at least WARM_MIN_TASKS).
    const TASKS = 120;
    const inputs: string[] = [];
    for (let i = 0; i < TASKS; i++) inputs.push(`src/t${i}/a.txt`, `src/t${i}/b.txt`);
    write(Object.fromEntries(inputs.map((path) => [path, `${path}\n`])));
    await untilFsClockPasses(inputs);

    /**
     * Builds the tasks with the store in `dir` and, if given, the remote in
     * `remote`. They all wait on `gate`, which holds until `until` is true: a
     * build can be made to reach the inputs only once the helper has handed
     * every one over, however late the helper thread starts on a loaded
     * machine (the store has no event for a new entry: the gate looks again
     * every few ms). A helper that never hands them over times the test out.
     */
    const build = async (dir: string, remote: string | undefined, until: (store: Store) => boolean): Promise<BuildOutcome> => {
      const store = Store.open({ dir: join(root, dir) });
      const gate = task({
        name: "gate",
        pure: false,
        run: async () => {
          while (!until(store)) await delay(5);
        },
      });
      const tasks: Task[] = [gate];
      for (let i = 0; i < TASKS; i++) tasks.push(task({ name: `t${i}`, deps: [gate], inputs: [`src/t${i}/**`], run: async () => {} }));
      const defs = defineTasks(tasks, root);
      if (!defs.ok) throw new Error(defs.error.map((f) => describeFailure(f, { cwd: root })).join("\n"));
      const graph = plan(defs.value, tasks.map((t) => t.name));
      if (!graph.ok) throw new Error(graph.error.map((f) => describeFailure(f, { cwd: root })).join("\n"));
      try {
        return await execute({
          graph: graph.value,
          jobs: 2,
          runner: new LocalRunner(),
          reporter: { report: () => {} },
          env: { PATH: process.env.PATH },
          cache: { store },
          ...(remote === undefined ? {} : { remote: { cache: new DirectoryCache(join(root, remote)) } }),
        });
      } finally {
        store.close();
      }
    };

    const helped = await build("store-helped", "remote", (store) => inputs.every((path) => store.get(path) !== undefined));
    expect(helped.ok).toBe(true);
    expect(helped.inputsHashed).toEqual({ here: 0, helper: 2 * TASKS }); // Every input hashed once, by the helper.
    // Without a remote there is no helper: the main thread hashes each input itself, to the same digests.
    const alone = await build("store-alone", undefined, () => true);
    expect(alone.inputsHashed).toEqual({ here: 2 * TASKS, helper: 0 });
    const keys = (outcome: BuildOutcome): (string | null)[] => outcome.results.filter((r) => r.name !== "gate").map((r) => r.key);
    expect(keys(alone).every((key) => key !== null)).toBe(true);
    expect(keys(helped)).toEqual(keys(alone));
  });
});
