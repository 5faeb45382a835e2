import { mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { writeFiles } from "../../../test-support/files.js";
import { digestFile, FileHasher, MemoryStatCache, type FileState } from "@rbuild/hash";
// The compiled module: the helper thread runs the module's own file, which Node cannot run as TypeScript.
import { InputWarmer, type WarmJob } from "../dist/input-warmer.js";

let root: string;
beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-warmer-")));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

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
});
