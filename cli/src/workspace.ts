/** Finding and loading the workspace: the Buildfile, its tasks, the cache directory. */
import { statSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { err, ok, type Result, type SetupFailure, type StrayErrors } from "@rbuild/core";
import { defineTasks, findBuildfile, loadBuildfile, type Definitions, type LoadedBuildfile } from "@rbuild/planner";
import { lockPathProblem } from "@rbuild/store";
import { cacheAccessFailure, cacheWriteProblem } from "./cache-access.js";
import { cacheDirFor } from "./cache-dir.js";

export { cacheDirFor };

/**
 * The module `import ... from "rbuild"` resolves to in a Buildfile: this
 * package's API. The bundled CLI's entry module registers itself (one copy of
 * the API for the CLI and the Buildfile); unbundled, it is ./index.js.
 */
export function apiModule(): string {
  const bundled = (globalThis as { [key: symbol]: unknown })[Symbol.for("rbuild.api-module")];
  return fileURLToPath(typeof bundled === "string" ? bundled : new URL("./index.js", import.meta.url));
}

export interface Workspace {
  readonly buildfile: string;
  readonly root: string;
  readonly cacheDir: string;
  readonly definitions: Definitions;
  /** Whether the Buildfile imports npm packages (see LoadedBuildfile.externals). */
  readonly importsPackages: boolean;
  /** What the Buildfile's code comes from (see LoadedBuildfile.sources). */
  readonly buildfileSources: LoadedBuildfile["sources"];
}

export interface OpenOptions {
  /** The directory rbuild was started in (`-C` is relative to it). Default: the process's. */
  readonly from?: string;
  /** Where the Buildfile's stray errors go (see StrayErrors). */
  readonly strays?: StrayErrors;
  /** Told what was healed on the way (a damaged compiled Buildfile). */
  readonly onInfo?: (code: string, message: string) => void;
  /**
   * Whether the command writes in the cache directory (all but `list` do):
   * then one this user cannot write is a failure before anything is done (see cache-access.ts).
   */
  readonly writesCache?: boolean;
  /** Told the workspace's root and cache directory once they are known, before the Buildfile loads. */
  readonly onFound?: (root: string, cacheDir: string) => void;
}

/**
 * The Buildfile and the files it imports that lie inside the workspace, relative to
 * `root` with POSIX separators, the Buildfile first: what no task's outputs may match.
 */
function keptFiles(root: string, buildfile: string, sources: readonly string[]): string[] {
  const kept = new Set<string>();
  for (const file of [buildfile, ...sources]) {
    const path = relative(root, file);
    if (path !== "" && path !== ".." && !path.startsWith(`..${sep}`) && !isAbsolute(path)) kept.add(path.split(sep).join("/"));
  }
  return [...kept];
}

export async function openWorkspace(
  directory: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  options: OpenOptions = {},
): Promise<Result<Workspace, SetupFailure[]>> {
  const { strays, onInfo = (_code, message) => process.stderr.write(`rbuild: ${message}\n`) } = options;
  const cwd = resolve(options.from ?? process.cwd(), directory ?? ".");
  if (directory !== undefined && !statSync(cwd, { throwIfNoEntry: false })?.isDirectory()) {
    return err([{ reason: "usage", message: `-C/--directory: ${cwd} is not a directory.` }]);
  }
  const buildfile = findBuildfile(cwd);
  if (buildfile === undefined) return err([{ reason: "buildfile-not-found", cwd }]);
  const root = resolve(buildfile, "..");
  const cacheDir = cacheDirFor(root, env);
  const unwritable = options.writesCache === false ? undefined : cacheWriteProblem(cacheDir);
  if (unwritable !== undefined) return err([unwritable]);
  // Something at the lock's path that is no lock: every build would wait for it forever.
  const badLock = options.writesCache === false ? undefined : lockPathProblem(cacheDir);
  if (badLock !== undefined) return err([{ reason: "lock-not-a-file", ...badLock }]);
  options.onFound?.(root, cacheDir);
  let loaded;
  try {
    loaded = await loadBuildfile(buildfile, { apiModule: apiModule(), cacheDir, onInfo, ...(strays === undefined ? {} : { strays }) });
  } catch (error) {
    // Compiling the Buildfile into a cache directory this user cannot write.
    const failure = cacheAccessFailure(error, cacheDir);
    if (failure === undefined) throw error;
    return err([failure]);
  }
  if (!loaded.ok) return err([loaded.error]);
  const definitions = defineTasks(loaded.value.tasks, root, loaded.value.sourceDigest, keptFiles(root, buildfile, loaded.value.sources.files), loaded.value.stages);
  if (!definitions.ok) return definitions;
  return ok({ buildfile, root, cacheDir, definitions: definitions.value, importsPackages: loaded.value.externals.length > 0, buildfileSources: loaded.value.sources });
}
