// Issue 27.5: what the sandbox runner does per task to keep its cost down, each still keeping 27.1's guarantees.
import { existsSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import type { RunRequest } from "./runner.js";
import { SandboxTree } from "./sandbox-tree.js";

let root: string;
beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-sandbox-fast-")));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function request(outputs: readonly string[]): RunRequest {
  return { task: "t", run: "true", root, cwd: root, env: {}, inputs: [], depOutputs: [], outputs, signal: new AbortController().signal, stdout: () => {}, stderr: () => {} };
}

test.runIf(existsSync("/dev/shm"))("27.5: a run without outputs keeps its scratch directory in memory; one with outputs beside the temp files, to rename them into the workspace", () => {
  const none = new SandboxTree(request([]));
  const some = new SandboxTree(request(["out/**"]));
  try {
    expect([none.dir.startsWith("/dev/shm/rbuild-sandbox-"), some.dir.startsWith(join(tmpdir(), "rbuild-sandbox-"))]).toEqual([true, true]);
  } finally {
    none.remove();
    some.remove();
  }
  expect([existsSync(none.dir), existsSync(some.dir)]).toEqual([false, false]);
});
