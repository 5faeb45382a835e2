import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

export const BUILDFILE = "Buildfile.ts";

/** The nearest `Buildfile.ts` in `cwd` or a directory above it, like make and git look upward. */
export function findBuildfile(cwd: string): string | undefined {
  for (let dir = cwd; ; dir = dirname(dir)) {
    const candidate = join(dir, BUILDFILE);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}
