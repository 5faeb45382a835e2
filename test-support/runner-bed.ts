/**
 * The set-up the runner tests share: a fresh workspace root (a real temp
 * directory) and a fresh runner for each test, both cleaned up after it, and
 * a `run` that starts one task there and gathers what it streamed.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import type { RunFunction } from "@rbuild/core";
import type { RunOutcome, RunRequest, Runner } from "@rbuild/runners";

/** What one run gave: its outcome and its output as the runner streamed it. */
export interface Ran {
  readonly outcome: RunOutcome;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunnerBed<R> {
  /** This test's workspace root (real path). */
  readonly root: string;
  /** This test's runner. */
  readonly runner: R;
  /** Writes `files` (paths relative to the root) with their directories. */
  write(files: Readonly<Record<string, string>>): void;
  /** Runs task "t" at the root (PATH /usr/bin:/bin, nothing declared unless `fields` say). */
  run(run: string | RunFunction, fields?: Partial<RunRequest>): Promise<Ran>;
}

/** Registers the per-test set-up and clean-up (`prefix` names the temp directories) and gives what the tests use. */
export function runnerBed<R extends Runner & { close?(): void }>(prefix: string, make: () => R): RunnerBed<R> {
  let root = "";
  let runner: R | undefined;
  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
    runner = make();
  });
  afterEach(() => {
    runner?.close?.();
    runner = undefined;
    rmSync(root, { recursive: true, force: true });
  });
  const current = (): R => {
    if (runner === undefined) throw new Error("bug: the runner bed is used outside a test");
    return runner;
  };
  return {
    get root() {
      return root;
    },
    get runner() {
      return current();
    },
    write(files) {
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), text);
      }
    },
    async run(run, fields = {}) {
      let stdout = "";
      let stderr = "";
      const outcome = await current().run({
        task: "t",
        run,
        root,
        cwd: root,
        env: { PATH: "/usr/bin:/bin" },
        inputs: [],
        depOutputs: [],
        outputs: [],
        signal: new AbortController().signal,
        stdout: (chunk) => (stdout += chunk.toString()),
        stderr: (chunk) => (stderr += chunk.toString()),
        ...fields,
      });
      return { outcome, stdout, stderr };
    },
  };
}
