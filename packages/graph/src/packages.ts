/** The JavaScript workspace's packages as the hints see them: which one holds a path, which tasks build one. */
import { splitPatterns, staticBase } from "@rbuild/hash";
import type { TaskFacts, WorkspacePackageFacts } from "./input.js";
import type { Reach } from "./reach.js";

/** `dir` is `path` itself or a directory above it. */
export function within(path: string, dir: string): boolean {
  return dir === "" || path === dir || path.startsWith(`${dir}/`);
}

/** The package whose directory holds `path` (the innermost, for nested packages), if any. */
export function packageOf(path: string, packages: readonly WorkspacePackageFacts[]): WorkspacePackageFacts | undefined {
  let best: WorkspacePackageFacts | undefined;
  for (const pkg of packages) {
    if (pkg.dir !== "" && within(path, pkg.dir) && (best === undefined || pkg.dir.length > best.dir.length)) best = pkg;
  }
  return best;
}

/**
 * The package a module specifier names (`@scope/name/sub` → `@scope/name`,
 * `name/sub` → `name`), or undefined for a relative, absolute or `node:` one.
 */
export function packageName(specifier: string): string | undefined {
  if (specifier === "" || specifier.startsWith(".") || specifier.startsWith("/") || specifier.startsWith("node:") || specifier.startsWith("#")) return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? (parts.length >= 2 ? `${parts[0]}/${parts[1]}` : undefined) : parts[0];
}

/**
 * Each package's producing tasks: the tasks with outputs that stand in its
 * directory (their `cwd`, or the static base of an output glob, is inside it,
 * and no package nested deeper holds it), by package name. Of those, only the
 * first ones are kept: a producer that depends on another of the same
 * package (its `test` after its `build`) is not one a dependent needs.
 */
export function producersByPackage(tasks: readonly TaskFacts[], packages: readonly WorkspacePackageFacts[], reach: Reach): Map<string, string[]> {
  const byPackage = new Map<string, string[]>();
  for (const task of tasks) {
    const { include } = splitPatterns(task.outputs);
    if (include.length === 0) continue;
    const homes = new Set<string>();
    for (const place of [task.cwd, ...include.map(staticBase)]) {
      const pkg = packageOf(place, packages);
      if (pkg !== undefined) homes.add(pkg.name);
    }
    for (const home of homes) byPackage.set(home, [...(byPackage.get(home) ?? []), task.name]);
  }
  for (const [name, producers] of byPackage) byPackage.set(name, producers.filter((task) => !producers.some((other) => other !== task && reach.dependsOn(task, other))));
  return byPackage;
}
