/** Loading a Buildfile for a test: its tasks, checked as `rbuild` checks them, without touching its workspace. */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { BUILDFILE, type Definitions } from "@rbuild/planner";
import { openWorkspace } from "../workspace.js";
import { PipelineError } from "./pipeline-error.js";

/** A loaded Buildfile (see {@link loadBuildfile}). */
export class Pipeline {
  readonly #definitions: Definitions;
  constructor(
    /** The Buildfile's directory: the workspace root. */
    readonly root: string,
    /** The Buildfile's path. */
    readonly buildfile: string,
    definitions: Definitions,
  ) {
    this.#definitions = definitions;
  }

  /** Every task's name, in declaration order. */
  get tasks(): readonly string[] {
    return [...this.#definitions.tasks.keys()];
  }

  /**
   * The validated tasks, as the planner has them (for plan() and runInCopy()).
   * @internal
   */
  definitions(): Definitions {
    return this.#definitions;
  }
}

/** The Buildfile `path` names: a `Buildfile.ts`, or a directory holding one (not one above it). */
export function buildfileAt(path: string): string {
  const full = resolve(path);
  const stats = statSync(full, { throwIfNoEntry: false });
  if (stats?.isDirectory() === true) {
    if (statSync(join(full, BUILDFILE), { throwIfNoEntry: false })?.isFile() !== true) throw new Error(`rbuild/testing: ${full} holds no ${BUILDFILE}.`);
    return join(full, BUILDFILE);
  }
  if (stats?.isFile() !== true) throw new Error(`rbuild/testing: ${full} does not exist.`);
  if (basename(full) !== BUILDFILE) throw new Error(`rbuild/testing: ${full} is not a ${BUILDFILE}; give the Buildfile or its directory.`);
  return full;
}

/**
 * Loads the Buildfile at `path` (a `Buildfile.ts` or its directory) and checks
 * its tasks as `rbuild` does. The compiled Buildfile goes to a temporary cache
 * directory, removed after: the workspace is left exactly as it was.
 *
 * Throws a {@link PipelineError} with rbuild's message when the Buildfile does
 * not load or a task is invalid.
 *
 * ```ts
 * const pipeline = await loadBuildfile("fixtures/deploy-pipeline");
 * expect(pipeline.tasks).toContain("deploy-staging");
 * ```
 */
export async function loadBuildfile(path: string, options: { readonly env?: Readonly<Record<string, string | undefined>> } = {}): Promise<Pipeline> {
  const buildfile = buildfileAt(path);
  const cacheDir = mkdtempSync(join(tmpdir(), "rbuild-testing-load-"));
  try {
    const env = { ...process.env, ...options.env, RBUILD_CACHE_DIR: cacheDir };
    const opened = await openWorkspace(dirname(buildfile), env, { onInfo: () => {} });
    if (!opened.ok) throw new PipelineError(opened.error, process.cwd());
    return new Pipeline(opened.value.root, buildfile, opened.value.definitions);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}
