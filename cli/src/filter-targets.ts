/**
 * `--filter`: the targets' tasks that belong to the selected workspace
 * packages become the targets (what they depend on still runs, as for any
 * target). A task belongs to a package when its name is `<package>#<anything>`,
 * as scripts() names them and as a hand-written `app#deploy` may be named.
 *
 * A filter that matches no package is an error (a typo must not build
 * nothing and succeed); packages that have none of the targets' tasks are
 * nothing to do, as in turbo, so that a CI loop over changed packages passes
 * over one without, say, a test script.
 */
import { err, ok, type Result, type SetupFailure } from "@rbuild/core";
import { closure, type Definitions } from "@rbuild/planner";
import { discoverWorkspace, selectPackages, WorkspaceError } from "@rbuild/workspaces";

export type Filtered =
  /** The targets to build instead (unchanged when one is unknown: the planner says which). */
  | { readonly targets: string[] }
  /** The selected packages have none of the targets' tasks. */
  | { readonly nothing: string };

/** The package a task name belongs to, if its part before the last `#` is one of `packages`. */
function packageOf(task: string, packages: ReadonlySet<string>): string | undefined {
  const hash = task.lastIndexOf("#");
  if (hash <= 0) return undefined;
  const name = task.slice(0, hash);
  return packages.has(name) ? name : undefined;
}

/** `reaching` names the targets in the message when nothing is selected (`rbuild graph` with no names: "the Buildfile's tasks"). */
export function filterTargets(
  definitions: Definitions,
  targets: readonly string[],
  filters: readonly string[],
  cwd: string,
  reaching = `the tasks ${targets.join(", ")} reaches`,
): Result<Filtered, SetupFailure> {
  if (targets.some((target) => !definitions.tasks.has(target))) return ok({ targets: [...targets] });
  let selected: Set<string>;
  let all: Set<string>;
  try {
    const ws = discoverWorkspace(definitions.root);
    all = new Set(ws.packages.map((pkg) => pkg.name));
    selected = selectPackages(ws, filters, cwd);
  } catch (error) {
    if (error instanceof WorkspaceError) return err({ reason: "usage", message: error.message });
    throw error;
  }
  const reached = closure(definitions, targets);
  // A cycle: the targets stay as they are, and the planner says where it is.
  if (!reached.ok) return ok({ targets: [...targets] });
  const kept = reached.value.filter((name) => {
    const pkg = packageOf(name, all);
    return pkg !== undefined && selected.has(pkg);
  });
  if (kept.length > 0) return ok({ targets: kept.sort() });
  const chosen = [...selected].sort().join(", ");
  return ok({
    nothing: `--filter ${filters.join(" --filter ")} selects ${chosen === "" ? "no package" : chosen}, and none of ${reaching} belongs to ${selected.size === 1 ? "it" : "them"} (tasks named <package>#<script>, as scripts() declares them): nothing to do.`,
  });
}
