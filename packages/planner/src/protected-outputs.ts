/**
 * Outputs that would delete the workspace. Before a task runs on a miss,
 * rbuild removes what its output globs match (clear-outputs.ts in the
 * executor), so `outputs: ["**"]` (or `.`, `./`, `src/..`, which normalise to
 * `**`) deleted the Buildfile, the sources and node_modules. Refused when the
 * Buildfile is defined, with the excludes considered:
 *
 * - a glob that covers the workspace root: it matches any file in any
 *   directory at the root (`**`, `**\/*`, `*\/**`, `*\/*`), even with some
 *   paths excluded, as the files it leaves are only the ones named;
 * - a glob that matches the Buildfile or a file it imports (`*.ts`, `lib/**`
 *   when the Buildfile imports `./lib/x.ts`), unless an exclude leaves it out.
 *
 * Root globs that match neither stay legal: `*.log`, `**\/*.map`.
 */
import { expansionMatcher, splitPatterns, staticBase } from "@rbuild/hash";

/** Why a task's outputs are refused: the include glob (normal form) and what it would delete. */
export type ProtectedOutput = { readonly glob: string; readonly covers: "workspace" } | { readonly glob: string; readonly covers: "buildfile"; readonly path: string };

/**
 * A path no workspace holds on purpose: a glob that matches it matches any file in any directory at the
 * root (`src/`, `node_modules/`), whatever the name.
 */
const PROBE = "rbuild-any-name/rbuild-any-name";

/**
 * The first of `outputs` (normal forms, `!` for excludes) that covers the
 * workspace or matches one of `kept` (the Buildfile and its sources, relative
 * to the workspace root), or undefined when none does.
 */
export function protectedOutput(outputs: readonly string[], kept: readonly string[]): ProtectedOutput | undefined {
  const { include, exclude } = splitPatterns(outputs);
  const excludes = exclude.map((glob) => `!${glob}`);
  for (const glob of include) {
    // Most outputs sit below a directory that holds none of the kept files: nothing to compile.
    const base = staticBase(glob);
    if (base !== "" && !kept.some((path) => path === base || path.startsWith(`${base}/`))) continue;
    const matches = expansionMatcher([glob, ...excludes]);
    if (base === "" && matches(PROBE)) return { glob, covers: "workspace" };
    const path = kept.find(matches);
    if (path !== undefined) return { glob, covers: "buildfile", path };
  }
  return undefined;
}
