import type { WorkspacePackage } from "./discover.js";

/** Every workspace package `pkg` depends on, directly or not, in workspace order. */
export function dependencyClosure(pkg: WorkspacePackage, byName: ReadonlyMap<string, WorkspacePackage>): WorkspacePackage[] {
  const found = new Set<string>();
  const stack = [...pkg.dependencies];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (found.has(name)) continue;
    found.add(name);
    stack.push(...byName.get(name)!.dependencies);
  }
  return [...byName.values()].filter((other) => found.has(other.name));
}
