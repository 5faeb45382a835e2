/**
 * Gathering the analysis input from a planned graph and the workspace on
 * disk: each task's input and output globs expanded (as the executor expands
 * them, the store directory left out), the JavaScript workspace's packages, and the
 * imports of its scripts. Reads files, writes nothing.
 */
import { existsSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { excludesTouching, expandGlobs, globMatcher, splitPatterns } from "@rbuild/hash";
import type { Definitions, Graph, TaskDef } from "@rbuild/planner";
import { discoverWorkspace, WorkspaceError } from "@rbuild/workspaces";
import { isScript, scanImports } from "./imports.js";
import type { GraphAnalysisInput, TaskFacts, TaskHistory, WorkspacePackageFacts } from "./input.js";
import { packageName } from "./packages.js";

export interface GatherOptions {
  readonly graph: Graph;
  readonly definitions: Definitions;
  /** The store directory (absolute). */
  readonly storeDir: string;
  readonly history: ReadonlyMap<string, TaskHistory>;
  readonly jobs: number;
  /** The tasks the hints are about (GraphAnalysisInput.focus); undefined for every planned task. */
  readonly focus?: ReadonlySet<string>;
}

export function factsOf(task: TaskDef & { readonly stage?: string | undefined }): TaskFacts {
  return {
    ...(task.stage === undefined ? {} : { stage: task.stage }),
    name: task.name,
    kind: task.run === undefined ? "group" : task.pure ? "pure" : "impure",
    deps: task.deps,
    inputs: task.inputs,
    outputs: task.outputs,
    cwd: task.cwd,
  };
}

/** The workspace's packages, or none when the root's package.json declares no workspaces (or is unreadable). */
export function workspacePackages(root: string): WorkspacePackageFacts[] {
  if (!existsSync(join(root, "package.json"))) return [];
  try {
    return discoverWorkspace(root).packages.map((pkg) => ({ name: pkg.name, dir: pkg.dir }));
  } catch (error) {
    if (error instanceof WorkspaceError) return [];
    throw error;
  }
}

/**
 * Expands globs as expandGlobs does, crawling each include pattern once for
 * all the tasks that have it: a package's `src/**` stands in the inputs of
 * every package that depends on it (scripts()), each time with other
 * excludes. A pattern's files are filtered by each task's excludes (a
 * directory excluded excludes what is below it, as in expandGlobs).
 */
function expander(root: string, ignore: readonly string[]): (patterns: readonly string[]) => string[] {
  const byPattern = new Map<string, readonly string[]>();
  const matchers = new Map<string, (path: string) => boolean>();
  return (patterns) => {
    const { include, exclude } = splitPatterns(patterns);
    const touching = excludesTouching(exclude);
    const files = new Set<string>();
    for (const pattern of include) {
      let found = byPattern.get(pattern);
      if (found === undefined) byPattern.set(pattern, (found = expandGlobs(root, [pattern], { ignore })));
      if (exclude.length === 0) {
        for (const file of found) files.add(file);
        continue;
      }
      // The pattern with the excludes that can touch it, compiled once for every task that has the same.
      const scoped = [pattern, ...touching(pattern).map((glob) => `!${glob}`)];
      const id = scoped.join("\0");
      let kept = matchers.get(id);
      if (kept === undefined) matchers.set(id, (kept = globMatcher(scoped)));
      for (const file of found) if (kept(file)) files.add(file);
    }
    return [...files].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  };
}

export function gatherInput(options: GatherOptions): GraphAnalysisInput {
  const { graph, definitions } = options;
  const root = graph.root;
  const store = relative(root, options.storeDir).split(sep).join("/");
  const storeDir = store === "" || store.startsWith("..") || store.startsWith("/") ? undefined : store;
  const ignore = storeDir === undefined ? [] : [`${storeDir}/**`];
  const tasks = [...graph.tasks.values()].map(factsOf);
  const outside = [...definitions.tasks.values()].filter((task) => !graph.tasks.has(task.name)).map(factsOf);

  const inputFiles = new Map<string, readonly string[]>();
  const expand = expander(root, ignore);
  for (const task of tasks) {
    if (task.inputs.length > 0) inputFiles.set(task.name, expand(task.inputs));
  }

  const outputFiles = new Map<string, readonly string[]>();
  for (const task of [...tasks, ...outside]) {
    if (task.outputs.length === 0) continue;
    const files = expandGlobs(root, task.outputs, { ignore });
    if (files.length > 0) outputFiles.set(task.name, files);
  }

  // Packages and imports matter only to tasks that read scripts: a workspace of other files is not even discovered.
  const files = new Set([...inputFiles.values()].flat());
  const packages = [...files].some(isScript) ? workspacePackages(root) : [];
  const names = new Set(packages.map((pkg) => pkg.name));
  const imports = packages.length === 0 ? new Map<string, readonly string[]>() : scanImports(root, files);
  // Keep what names a workspace package: the rest (relative paths, npm packages) no hint looks at.
  for (const [file, specifiers] of imports) {
    const kept = specifiers.filter((specifier) => names.has(packageName(specifier) ?? ""));
    if (kept.length === 0) imports.delete(file);
    else imports.set(file, kept);
  }
  return { tasks, outside, inputFiles, outputFiles, imports, packages, history: options.history, storeDir, jobs: options.jobs, focus: options.focus };
}
