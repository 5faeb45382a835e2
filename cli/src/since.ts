/**
 * `--since <ref>`: of the tasks the targets reach, the ones whose inputs
 * changed since the ref (git-changes.ts says which paths did), and every task
 * within that reach that depends on one of them, directly or not, become the
 * targets (less groups: a group that holds an affected task would bring in
 * all its other members). What those need still runs or is restored, as for any target: a
 * task cannot run without its deps' outputs, and in a fresh CI checkout they
 * are not on disk; unchanged since the ref, they are usually cache hits. Every
 * other task the targets reach is neither run nor checked.
 *
 * A task is affected when a changed path is one its inputs would expand to
 * (expansionMatcher: the same includes, excludes and never-entered excluded
 * directories as hashing, so scripts()' default inputs count as they are
 * hashed). A task whose inputs match no changed path is not affected, however
 * else its key may differ (an env var: --since is about files). A change to the
 * Buildfile or to a file it imports may change any task: then every task the
 * targets reach is kept, and one info line says why.
 */
import { relative } from "node:path";
import { ok, type Result, type SetupFailure } from "@rbuild/core";
import { expansionMatcher } from "@rbuild/hash";
import { closure, type Definitions } from "@rbuild/planner";
import { changedSince, type ChangedPaths } from "./git-changes.js";
import type { Workspace } from "./workspace.js";

export type SinceSelection =
  /** The targets to build instead, and one line that says how they were chosen (none when a target is unknown: the planner says so). */
  | { readonly targets: string[]; readonly info?: string }
  /** No task the targets reach is affected. */
  | { readonly nothing: string };

/** The first changed path that is one of the Buildfile's sources, or lies in a directory its computed imports search (also `rbuild watch`'s test). */
export function changedSource(changed: ChangedPaths, root: string, sources: Workspace["buildfileSources"]): string | undefined {
  const files = new Set(sources.files.map((file) => relative(root, file)));
  // As the compiled Buildfile's cache lists such a directory: node_modules and dot-directories are not its modules.
  const searched = sources.searched.map((dir) => relative(root, dir)).map((dir) => (dir === "" ? "" : `${dir}/`));
  const inSearched = (path: string): boolean =>
    searched.some((dir) => path.startsWith(dir) && !path.slice(dir.length).split("/").slice(0, -1).some((segment) => segment === "node_modules" || segment.startsWith(".")));
  return changed.find((path) => files.has(path) || inSearched(path));
}

/** Up to this many tasks are named in the info line. */
const NAMED = 5;

const plural = (count: number, one: string, many = `${one}s`): string => `${count} ${count === 1 ? one : many}`;

/**
 * The selection for `changed` (paths relative to the workspace root), from
 * the tasks `targets` reach; pure. `ignore`: globs never matched (a cache
 * directory inside the workspace). `reaching` names those tasks in messages
 * ("tasks build reaches", "tasks in the Buildfile").
 */
export function selectAffected(
  definitions: Definitions,
  targets: readonly string[],
  ref: string,
  changed: ChangedPaths,
  sources: Workspace["buildfileSources"],
  options: { readonly ignore: readonly string[]; readonly reaching: string },
): SinceSelection {
  const since = `--since ${ref}`;
  const reach = closure(definitions, targets);
  // A cycle: the targets stay as they are, and the planner says where it is.
  if (!reach.ok) return { targets: [...targets] };
  const reached = new Set(reach.value);
  const source = changedSource(changed, definitions.root, sources);
  if (source !== undefined) {
    return { targets: [...targets], info: `${since}: ${source} changed, and the Buildfile's code may change any task: building all the ${options.reaching}.` };
  }
  // Paths outside the workspace (`../`) can be the Buildfile's sources, never a task's inputs.
  const inside = changed.filter((path) => !path.startsWith("../"));
  const changedSet = new Set(inside);
  const affected = [...reached].filter((name) => {
    const { inputs, keyPartsFrom } = definitions.tasks.get(name)!;
    // A key part's file (a lockfile) changed: the part may have, and only building says.
    if (keyPartsFrom.some((path) => changedSet.has(path))) return true;
    if (inputs.length === 0) return false;
    const matches = expansionMatcher(inputs, options.ignore);
    return inside.some(matches);
  });
  // What depends on an affected task, within the reach: a dep's new outputs change its key.
  const dependents = new Map<string, string[]>();
  for (const name of reached) {
    for (const dep of definitions.tasks.get(name)!.deps) {
      const list = dependents.get(dep);
      if (list === undefined) dependents.set(dep, [name]);
      else list.push(name);
    }
  }
  const kept = new Set<string>();
  const stack = [...affected];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (kept.has(name)) continue;
    kept.add(name);
    stack.push(...(dependents.get(name) ?? []));
  }
  if (kept.size === 0) {
    const none = inside.length === 0 ? `no file changed since ${ref}` : `${plural(inside.length, "file")} changed since ${ref}, and none is an input of the ${options.reaching}`;
    return { nothing: `${since}: ${none}: nothing to do.` };
  }
  // A group that depends on a kept task is no target itself: it would bring in all of its other members.
  const real = [...kept].filter((name) => definitions.tasks.get(name)!.run !== undefined);
  const chosen = (real.length > 0 ? real : [...kept]).sort();
  const more = chosen.filter((name) => !affected.includes(name)).length;
  const them = inside.length === 1 ? "it" : "them";
  const named = chosen.length <= NAMED ? chosen.join(", ") : `these ${chosen.length}`;
  return {
    targets: chosen,
    info:
      `${since}: ${plural(inside.length, "file")} changed since ${ref}; ${affected.length} of the ${reached.size} ${options.reaching} ${affected.length === 1 ? "reads" : "read"} ${them}` +
      `${more === 0 ? "" : `, ${more} more ${more === 1 ? "depends" : "depend"} on ${affected.length === 1 ? "it" : "them"}`}: building ${named} (and what ${chosen.length === 1 ? "it needs" : "they need"}).`,
  };
}

/** `--since ref` for `targets` in `workspace`: asks git what changed, then selects (see selectAffected). */
export async function sinceTargets(
  workspace: Workspace,
  targets: readonly string[],
  ref: string,
  env: Readonly<Record<string, string | undefined>>,
  reaching = `tasks ${targets.join(", ")} reaches`,
): Promise<Result<SinceSelection, SetupFailure>> {
  const { definitions, root, cacheDir } = workspace;
  // An unknown target: the planner says which, with suggestions, before git is asked anything.
  if (targets.some((target) => !definitions.tasks.has(target))) return ok({ targets: [...targets] });
  const changed = await changedSince(ref, root, env);
  if (!changed.ok) return changed;
  // A cache directory inside the workspace is never an input (as the executor hashes).
  const ignore = cacheDir.startsWith(`${root}/`) ? [`${cacheDir.slice(root.length + 1)}/**`] : [];
  return ok(selectAffected(definitions, targets, ref, changed.value, workspace.buildfileSources, { ignore, reaching }));
}
