/** Small file helpers every package needs the same way. */
import { accessSync, constants as fsConstants, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";

/**
 * Writes `contents` to `path` so that readers see the old file or the new
 * one, never a part: into a temporary file beside it (unique to this process
 * and call), then renamed over it. Creates the parent directory.
 */
export function writeFileAtomically(path: string, contents: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    writeFileSync(temp, contents);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** Where `program` is on the PATH of `env`, as a shell would find it; undefined if nowhere. */
export function onPath(program: string, env: Readonly<Record<string, string | undefined>>): string | undefined {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, program);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}
