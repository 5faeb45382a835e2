/** Where a workspace keeps its cache; a file of its own so that what only reads the history need not load workspace.ts. */
import { resolve } from "node:path";

/** `.rbuild/` in the workspace root, unless `RBUILD_CACHE_DIR` says otherwise. */
export function cacheDirFor(root: string, env: Readonly<Record<string, string | undefined>>): string {
  const override = env.RBUILD_CACHE_DIR;
  return override !== undefined && override !== "" ? resolve(override) : resolve(root, ".rbuild");
}
