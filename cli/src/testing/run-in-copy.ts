/**
 * A test build: the workspace copied to a temporary directory (see
 * copy-workspace.ts), the Buildfile loaded there, chosen impure tasks stubbed
 * (stubTasks in @rbuild/planner), and the build run in this process by the
 * engine `rbuild` uses, its events collected. The original workspace is not
 * touched: neither its files nor its cache.
 */
import { mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import type { BuildEvent, RunFunction, TaskResult } from "@rbuild/core";
import { Engine } from "@rbuild/executor";
import { stubTasks, type Stub } from "@rbuild/planner";
import { PlainReporter, runSummary, type RunSummary } from "@rbuild/ui";
import { copyWorkspace } from "./copy-workspace.js";
import { buildfileAt, loadBuildfile, type Pipeline } from "./pipeline.js";
import { graphOf } from "./planned-graph.js";
import { PipelineError } from "./pipeline-error.js";

export interface RunInCopyOptions {
  /**
   * Impure tasks to replace, by name: a shell command (run in the task's
   * directory), a function (as a task's `run`: it gets `exec`, `log`, `env`),
   * or `null` for a no-op that succeeds. A stubbed task is never cached and is
   * reported `stubbed: true`; a pure task, a group or an unknown name is refused.
   */
  readonly stubs?: Readonly<Record<string, string | RunFunction | null>>;
  /** Variables added to the environment tasks take theirs from (by default this process's). */
  readonly env?: Readonly<Record<string, string>>;
  /** How many tasks may run at once (`-j`); default 1, so the events come in one order. */
  readonly jobs?: number;
  /** Keep running what does not depend on a failure (`-k`). */
  readonly keepGoing?: boolean;
  /** Whether a failed build runs the undos of the impure tasks that succeeded in it; default true (false: `--no-undo`). */
  readonly undo?: boolean;
  /** Where the copy is made (a new directory below it); default the system's temporary directory. */
  readonly tmpDir?: string;
  /** Aborting it interrupts the build, as Ctrl-C would. */
  readonly signal?: AbortSignal;
}

/** The outcome of {@link runInCopy}; the copy stays until {@link CopyRun.cleanup}. */
export interface CopyRun {
  /** The copy's root: where the build ran and wrote its outputs. */
  readonly dir: string;
  /** Whether every task succeeded (and the build was not interrupted). */
  readonly ok: boolean;
  readonly interrupted: boolean;
  /** The run summary, as `rbuild --summary FILE` writes it. */
  readonly summary: RunSummary;
  /** Each task's result, by name. */
  readonly results: Readonly<Record<string, TaskResult>>;
  /** Every event of the build, in order (what `--output json` prints). */
  readonly events: readonly BuildEvent[];
  /** What `rbuild --output plain` would have printed (stdout and stderr, as written), without colour. */
  readonly output: string;
  /** The lines a task wrote (stdout and stderr), in order. */
  lines(task: string): string[];
  /** A file of the copy, relative to its root, as text. */
  read(path: string): string;
  /** Removes the copy. */
  cleanup(): void;
}

/**
 * Runs a build of `targets` in a temporary copy of the workspace of `pipeline`
 * (a loaded Buildfile, or the path of one or of its directory), with the
 * impure tasks named in `options.stubs` replaced. Throws a
 * {@link PipelineError} when the build cannot start (unknown target, refused
 * stub); a build that fails is a result with `ok: false`.
 *
 * Await one before starting the next in the same process: a build runs with
 * its workspace as the process's directory (so task functions' relative paths
 * mean what they do to commands). Vitest's default pool (`forks`) runs each
 * test file in a process of its own, so files may run side by side; its
 * `threads` pool cannot be used (a worker thread cannot change directory).
 *
 * ```ts
 * const run = await runInCopy("fixtures/deploy-pipeline", "promote", { stubs: { "deploy-prod": "echo deployed > prod.txt" } });
 * onTestFinished(() => run.cleanup());
 * expect(run.ok).toBe(true);
 * expect(run.read("prod.txt")).toBe("deployed\n");
 * ```
 */
export async function runInCopy(pipeline: Pipeline | string, targets: string | readonly string[], options: RunInCopyOptions = {}): Promise<CopyRun> {
  const buildfile = typeof pipeline === "string" ? buildfileAt(pipeline) : pipeline.buildfile;
  const dir = realpathSync(mkdtempSync(join(options.tmpDir ?? tmpdir(), "rbuild-testing-")));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    copyWorkspace(dirname(buildfile), dir);
    const env: Record<string, string | undefined> = { ...process.env, ...options.env };
    // The copy's own cache, inside it: a cold one, gone with the copy.
    delete env.RBUILD_CACHE_DIR;
    const copy = await loadBuildfile(join(dir, relative(dirname(buildfile), buildfile)), { env });
    const stubs = new Map<string, Stub>(Object.entries(options.stubs ?? {}));
    const graph = stubTasks(copy.definitions(), graphOf(copy, targets), stubs);
    if (!graph.ok) throw new PipelineError(graph.error, process.cwd());

    const events: BuildEvent[] = [];
    let output = "";
    const sink = { write: (text: string) => void (output += text) };
    const plain = new PlainReporter({ stdout: sink, stderr: sink, cwd: dir, color: false });
    const reporter = { report: (event: BuildEvent) => (events.push(event), plain.report(event)) };
    const engine = new Engine({ spawn: env.RBUILD_SPAWN === "direct" ? "direct" : "helper" });
    let outcome;
    try {
      outcome = await engine.build({
        graph: graph.value,
        cacheDir: join(dir, ".rbuild"),
        env,
        reporter,
        signal: options.signal ?? new AbortController().signal,
        jobs: options.jobs ?? 1,
        keepGoing: options.keepGoing ?? false,
        undo: options.undo === false ? "never" : "failure",
        onLockWait: () => {},
      });
    } finally {
      engine.close();
    }
    // Only a build waiting for another's lock ends without an outcome; nothing else builds in a fresh copy.
    if (outcome === undefined) throw new Error(`rbuild/testing: the build in ${dir} was interrupted before it started`);
    const results = Object.fromEntries(outcome.results.map((result) => [result.name, result]));
    return {
      dir,
      ok: outcome.ok,
      interrupted: outcome.interrupted,
      summary: runSummary(outcome, dir),
      results,
      events,
      output,
      lines: (task) => events.flatMap((event) => (event.type === "task-output" && event.task === task ? [event.line] : [])),
      read: (path) => readFileSync(join(dir, path), "utf8"),
      cleanup,
    };
  } catch (error) {
    cleanup();
    throw error;
  }
}
