/** Small file helpers every package needs the same way. */
import { accessSync, constants as fsConstants, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";

/**
 * Creates `dir` and the directories above it that are missing, as `mkdir -p`
 * does, failing with the error of the first one that cannot be made. Node's
 * own `recursive: true` retries for ever where mkdir answers ENOENT under an
 * existing parent (as in /proc), spinning a core and deaf to signals.
 */
export function makeDirectories(dir: string): void {
  const missing: string[] = [];
  for (let at = dir; !existsSync(at); at = dirname(at)) {
    missing.push(at);
    if (dirname(at) === at) break;
  }
  for (const path of missing.reverse()) {
    try {
      mkdirSync(path);
    } catch (error) {
      // Made meanwhile by another process: as good as made here.
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}

/**
 * Writes `contents` to `path` so that readers see the old file or the new
 * one, never a part: into a temporary file beside it (unique to this process
 * and call), then renamed over it. Creates the parent directory.
 */
export function writeFileAtomically(path: string, contents: string | Uint8Array): void {
  makeDirectories(dirname(path));
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

/**
 * Makes `cacheDir` (if missing) and keeps it out of version control with a
 * `.gitignore` of `*` inside it, as pytest and ruff do with theirs: nothing in
 * the cache is ever committed, wherever the cache directory is.
 */
export function makeCacheDirectory(cacheDir: string): void {
  const ignore = join(cacheDir, ".gitignore");
  if (existsSync(ignore)) return;
  writeFileAtomically(ignore, "# Written by rbuild: its cache is never committed.\n*\n");
}
