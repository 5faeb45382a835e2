/**
 * What `rbuild watch` watches, and what a changed path means: pure, from the
 * workspace and the plan of the last build.
 *
 * - Watched: the static base directory of every include input glob of the
 *   plan's tasks (a file named outright: the file), the files key parts are
 *   computed from, and the Buildfile with the files it imports and the
 *   directories its computed imports search.
 * - Never entered: the cache directory, and `.git` and `node_modules`
 *   directories unless an input glob names them.
 * - A changed path is a Buildfile source (reload and plan again), or an input
 *   of some tasks (matched as hashing expands the globs: expansionMatcher, as
 *   `--since` does), which makes them and everything depending on them stale,
 *   or nothing. A task's declared output is never an input here: a build
 *   writing its outputs starts no other build.
 */
import { isAbsolute, join, relative, sep } from "node:path";
import { expansionMatcher, globMatcher, splitPatterns, staticBase } from "@rbuild/hash";
import type { Graph } from "@rbuild/planner";
import { changedSource } from "./since.js";
import type { Workspace } from "./workspace.js";

/** What a change to one path means for the watch. */
export type Change =
  | { readonly kind: "buildfile" }
  /** The tasks the change makes stale: those that read the path, and their dependents (in the plan). */
  | { readonly kind: "inputs"; readonly stale: ReadonlySet<string> }
  | { readonly kind: "none" };

/** Directories no watch enters unless an input glob names them. */
const SKIPPED_DIRECTORIES = [".git", "node_modules"];

export class WatchedInputs {
  readonly #root: string;
  readonly #cacheDir: string;
  readonly #sources: Workspace["buildfileSources"];
  readonly #buildfile: string;
  readonly #graph: Graph | undefined;
  /** The tasks with work to do, each with its input matcher. */
  readonly #readers: readonly { readonly name: string; readonly reads: (path: string) => boolean; readonly keyFiles: ReadonlySet<string> }[];
  readonly #isOutput: (path: string) => boolean;
  readonly #skipped: readonly string[];

  /** The inputs of `graph`'s tasks in `workspace`; without a graph (the last plan failed), the Buildfile's sources only. */
  constructor(workspace: Pick<Workspace, "root" | "cacheDir" | "buildfile" | "buildfileSources">, graph: Graph | undefined) {
    this.#root = workspace.root;
    this.#cacheDir = workspace.cacheDir;
    this.#sources = workspace.buildfileSources;
    this.#buildfile = workspace.buildfile;
    this.#graph = graph;
    const tasks = graph === undefined ? [] : [...graph.tasks.values()].filter((task) => task.run !== undefined);
    const inside = this.#cacheDir.startsWith(`${this.#root}/`) ? [`${relative(this.#root, this.#cacheDir).split(sep).join("/")}/**`] : [];
    this.#readers = tasks.map((task) => ({ name: task.name, reads: expansionMatcher(task.inputs, inside), keyFiles: new Set(task.keyPartsFrom) }));
    this.#isOutput = globMatcher(tasks.flatMap((task) => task.outputs));
    const globs = tasks.flatMap((task) => task.inputs);
    this.#skipped = SKIPPED_DIRECTORIES.filter((name) => !globs.some((glob) => glob.split("/").includes(name)));
  }

  /** How many tasks' inputs are watched. */
  get taskCount(): number {
    return this.#readers.length;
  }

  /** The absolute paths to watch (directories and files; some may not exist yet). */
  paths(): string[] {
    const paths = new Set<string>([this.#buildfile, ...this.#sources.files, ...this.#sources.searched]);
    for (const task of this.#graph?.tasks.values() ?? []) {
      if (task.run === undefined) continue;
      for (const glob of splitPatterns(task.inputs).include) paths.add(join(this.#root, staticBase(glob)));
      for (const file of task.keyPartsFrom) paths.add(join(this.#root, file));
    }
    // A directory already watched covers everything below it; a declared output's is never watched.
    const sorted = [...paths].filter((path) => !this.ignored(path)).sort();
    const kept: string[] = [];
    for (const path of sorted) {
      const last = kept.at(-1);
      if (last !== undefined && (path === last || path.startsWith(last.endsWith("/") ? last : `${last}/`))) continue;
      kept.push(path);
    }
    return kept;
  }

  /** Whether the watcher should leave `path` (absolute) alone: the store, `.git`, `node_modules`, declared outputs. */
  ignored(path: string): boolean {
    if (path === this.#cacheDir || path.startsWith(`${this.#cacheDir}/`)) return true;
    const rel = this.#relative(path);
    if (rel === undefined || rel === "") return false;
    if (rel.split("/").some((segment) => this.#skipped.includes(segment))) return true;
    return this.#isOutput(rel) && !this.#isSource(path);
  }

  /** What a change to `path` (absolute) means. */
  change(path: string): Change {
    if (path === this.#cacheDir || path.startsWith(`${this.#cacheDir}/`)) return { kind: "none" };
    if (this.#isSource(path)) return { kind: "buildfile" };
    const rel = this.#relative(path);
    if (rel === undefined || this.ignored(path)) return { kind: "none" };
    const readers = this.#readers.filter((task) => task.keyFiles.has(rel) || task.reads(rel)).map((task) => task.name);
    if (readers.length === 0) return { kind: "none" };
    const stale = new Set<string>();
    const stack = [...readers];
    while (stack.length > 0) {
      const name = stack.pop()!;
      if (stale.has(name)) continue;
      stale.add(name);
      stack.push(...(this.#graph?.tasks.get(name)?.dependents ?? []));
    }
    return { kind: "inputs", stale };
  }

  /** `path` as the watch names it: relative to the workspace root, or absolute outside it. */
  display(path: string): string {
    return this.#relative(path) ?? path;
  }

  /** `path` relative to the workspace root with POSIX separators; undefined outside it. */
  #relative(path: string): string | undefined {
    const rel = relative(this.#root, path);
    if (rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
    return rel.split(sep).join("/");
  }

  #isSource(path: string): boolean {
    if (path === this.#buildfile) return true;
    const rel = relative(this.#root, path).split(sep).join("/");
    return changedSource([rel], this.#root, this.#sources) !== undefined;
  }
}
