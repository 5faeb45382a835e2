/**
 * `--filter`: which workspace packages a build is about, in the syntax pnpm
 * and turbo share.
 *
 * - `name` or a name glob (`@acme/*`): the packages with that name;
 * - `./dir` (or `{./dir}`): the packages in that directory or below it, the
 *   path taken from the directory rbuild was started in; `./dir/*`, a glob of
 *   package directories;
 * - `pkg...`: those packages and everything they depend on, transitively;
 *   `pkg^...` only what they depend on;
 * - `...pkg`: those packages and everything that depends on them;
 *   `...^pkg` only their dependents; `...pkg...` both ways;
 * - `!filter`: leaves out what that filter selects.
 *
 * Several filters select what any of them selects, less what the `!` ones
 * select. A filter that selects nothing is an error naming it (a typo should
 * not make a build of nothing that reports success).
 */
import { posix, relative, resolve } from "node:path";
import type { Workspace, WorkspacePackage } from "./discover.js";
import { globMatcher } from "@rbuild/hash";
import { WorkspaceError } from "./errors.js";
import { nameMatcher } from "./name-matcher.js";

const GLOB = /[*?[\]{}]/;

interface Parsed {
  readonly exclude: boolean;
  readonly dependents: "none" | "with" | "only";
  readonly dependencies: "none" | "with" | "only";
  readonly matches: (pkg: WorkspacePackage) => boolean;
}

function parse(filter: string, ws: Workspace, cwd: string): Parsed {
  let rest = filter;
  const exclude = rest.startsWith("!");
  if (exclude) rest = rest.slice(1);
  let dependents: Parsed["dependents"] = "none";
  let dependencies: Parsed["dependencies"] = "none";
  if (rest.startsWith("...")) {
    rest = rest.slice(3);
    dependents = rest.startsWith("^") ? "only" : "with";
    if (dependents === "only") rest = rest.slice(1);
  }
  if (rest.endsWith("...")) {
    rest = rest.slice(0, -3);
    dependencies = rest.endsWith("^") ? "only" : "with";
    if (dependencies === "only") rest = rest.slice(0, -1);
  }
  const braced = /^\{(.*)\}$/.exec(rest);
  if (braced !== null) rest = braced[1]!;
  // pnpm's `[ref]`, alone or after `{./dir}`: the packages changed since a git revision.
  if (/^\[.+\]$/.test(rest) || /\}\[.+\]$/.test(rest)) {
    throw new WorkspaceError(`--filter ${JSON.stringify(filter)}: selecting the packages changed since a git revision is not supported yet; name the packages, or a ./directory`);
  }
  if (rest === "") throw new WorkspaceError(`--filter ${JSON.stringify(filter)} names no package: give a name, a name glob or a ./directory`);
  if (rest.startsWith(".")) {
    const dir = relative(ws.root, resolve(cwd, rest)).split("\\").join("/");
    if (dir === ".." || dir.startsWith("../")) throw new WorkspaceError(`--filter ${JSON.stringify(filter)} names a directory outside the workspace (${ws.root})`);
    const normal = posix.normalize(dir === "" ? "." : dir);
    if (GLOB.test(normal)) {
      // A directory glob (`./packages/*`): the packages whose directory it matches.
      const matches = globMatcher([normal]);
      return { exclude, dependents, dependencies, matches: (pkg) => matches(pkg.dir) };
    }
    return { exclude, dependents, dependencies, matches: (pkg) => normal === "." || pkg.dir === normal || pkg.dir.startsWith(`${normal}/`) };
  }
  const named = nameMatcher([rest]);
  return { exclude, dependents, dependencies, matches: (pkg) => named(pkg.name) };
}

/** Everything reachable from `start` along `next`, without `start` itself unless reached again. */
function reach(start: Iterable<string>, next: (name: string) => readonly string[]): Set<string> {
  const found = new Set<string>();
  const stack = [...start].flatMap(next);
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (found.has(name)) continue;
    found.add(name);
    stack.push(...next(name));
  }
  return found;
}

/** The names of the packages `filters` select (see the module comment); `cwd` is where `./dir` paths start. */
export function selectPackages(ws: Workspace, filters: readonly string[], cwd: string): Set<string> {
  const byName = new Map(ws.packages.map((pkg) => [pkg.name, pkg]));
  const dependents = new Map<string, string[]>(ws.packages.map((pkg) => [pkg.name, []]));
  for (const pkg of ws.packages) for (const dep of pkg.dependencies) dependents.get(dep)!.push(pkg.name);

  const selectedBy = (filter: string): Set<string> => {
    const parsed = parse(filter, ws, cwd);
    const seeds = ws.packages.filter(parsed.matches).map((pkg) => pkg.name);
    if (seeds.length === 0) {
      const names = ws.packages.map((pkg) => pkg.name);
      const shown = names.length > 12 ? `${names.slice(0, 12).join(", ")}, ... (${names.length} in all)` : names.join(", ");
      throw new WorkspaceError(`--filter ${JSON.stringify(filter)} matches no package of the workspace; its packages are: ${shown}`);
    }
    const chosen = new Set(parsed.dependents === "only" || parsed.dependencies === "only" ? [] : seeds);
    if (parsed.dependencies !== "none") for (const name of reach(seeds, (n) => byName.get(n)!.dependencies)) chosen.add(name);
    if (parsed.dependents !== "none") for (const name of reach(seeds, (n) => dependents.get(n)!)) chosen.add(name);
    return chosen;
  };

  const includes = filters.filter((filter) => !filter.startsWith("!"));
  const selected = new Set<string>(includes.length === 0 ? ws.packages.map((pkg) => pkg.name) : includes.flatMap((filter) => [...selectedBy(filter)]));
  for (const filter of filters.filter((f) => f.startsWith("!"))) for (const name of selectedBy(filter)) selected.delete(name);
  return selected;
}
