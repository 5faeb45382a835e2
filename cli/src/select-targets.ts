/**
 * `--filter`, then `--since`: the one selection `rbuild run` and `rbuild graph`
 * make from their targets (filter-targets.ts, since.ts). `--since` sees only
 * what `--filter` kept, and is not asked (nor git) when nothing is left.
 */
import { ok, type Result, type SetupFailure } from "@rbuild/core";
import { filterTargets } from "./filter-targets.js";
import { sinceTargets } from "./since.js";
import type { Workspace } from "./workspace.js";

export type Selection =
  /** The targets to plan (the given ones without --filter or --since), and how --since chose them. */
  | { readonly targets: readonly string[]; readonly info?: string }
  /** Nothing is selected: why, for the user. */
  | { readonly nothing: string };

export interface SelectOptions {
  readonly filters: readonly string[];
  readonly since: string | undefined;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The targets are every task of the Buildfile (`rbuild graph` with no names): the messages say so. */
  readonly wholeBuildfile?: boolean;
}

/** The targets `--filter` and `--since` leave of `targets` in `workspace`. */
export async function selectTargets(workspace: Workspace, targets: readonly string[], options: SelectOptions): Promise<Result<Selection, SetupFailure>> {
  const whole = options.wholeBuildfile === true;
  let selected = [...targets];
  if (options.filters.length > 0) {
    const filtered = filterTargets(workspace.definitions, selected, options.filters, options.cwd, whole ? "the Buildfile's tasks" : undefined);
    if (!filtered.ok || "nothing" in filtered.value) return filtered;
    selected = filtered.value.targets;
  }
  if (options.since === undefined || selected.length === 0) return ok({ targets: selected });
  return sinceTargets(workspace, selected, options.since, options.env, whole && options.filters.length === 0 ? "tasks in the Buildfile" : undefined);
}
