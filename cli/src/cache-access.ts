/**
 * A cache directory this user cannot write: most often root's, left by a
 * `sudo rbuild` or a CI step that ran as root, in a checkout a user builds
 * next. Every command that writes there (the lock, the index, the no-op
 * history, compiled Buildfiles, blobs) would fail on EACCES in its own place;
 * instead this is one setup failure (exit 2) that names the path, whose it is,
 * and what to do. It is checked once before a command writes (cacheWriteProblem),
 * and a write that fails there anyway is converted the same way (cacheAccessFailure).
 */
import { accessSync, constants, lstatSync } from "node:fs";
import { dirname, join } from "node:path";
import type { SetupFailure } from "@rbuild/core";
import { ExitCode, reportSetupFailures } from "./exit.js";

/** What a build writes in the cache directory, when it is there: [path, is a directory]. */
const WRITTEN: readonly (readonly [string, boolean])[] = [
  ["", true],
  ["index.sqlite", false],
  ["index.sqlite-wal", false],
  ["index.sqlite-shm", false],
  ["fresh", true],
  ["up-to-date", true],
  ["up-to-date/builds.jsonl", false],
  ["buildfile", true],
  ["cas", true],
  ["cas/tmp", true],
];

const ACCESS_CODES = new Set(["EACCES", "EPERM", "EROFS"]);

function failure(cacheDir: string, failed: string, code: string): SetupFailure {
  // A file that could not be made (a lock, a temporary file): what cannot be written is the directory it goes in.
  let path = failed;
  while (path !== cacheDir && path.startsWith(`${cacheDir}/`) && lstatSync(path, { throwIfNoEntry: false }) === undefined) path = dirname(path);
  const owner = lstatSync(path, { throwIfNoEntry: false })?.uid;
  const user = process.getuid?.();
  const group = process.getgid?.();
  return { reason: "cache-not-writable", cacheDir, path, code, ...(owner === undefined ? {} : { owner }), ...(user === undefined ? {} : { user }), ...(group === undefined ? {} : { group }) };
}

/** Why this user cannot write the cache directory `cacheDir`, if it cannot; undefined when it can, or when nothing is there yet. */
export function cacheWriteProblem(cacheDir: string): SetupFailure | undefined {
  for (const [name, isDir] of WRITTEN) {
    const path = name === "" ? cacheDir : join(cacheDir, name);
    try {
      accessSync(path, constants.R_OK | constants.W_OK | (isDir ? constants.X_OK : 0));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "";
      if (ACCESS_CODES.has(code)) return failure(cacheDir, path, code);
      // Not there (made when needed), or something odd that the write itself will report.
    }
  }
  return undefined;
}

/** `error` as a cache-not-writable failure when it is a permission error on a path in `cacheDir`; else undefined. */
export function cacheAccessFailure(error: unknown, cacheDir: string): SetupFailure | undefined {
  const { code, path } = (error ?? {}) as NodeJS.ErrnoException;
  if (code === undefined || !ACCESS_CODES.has(code) || typeof path !== "string") return undefined;
  if (path !== cacheDir && !path.startsWith(`${cacheDir}/`)) return undefined;
  return failure(cacheDir, path, code);
}

/**
 * Runs a command's `work` on the cache; a permission error on a path in
 * `cacheDir` is reported as cache-not-writable (exit 2) instead of reaching
 * the process as an internal error.
 */
export async function guardingCache(
  cacheDir: string,
  cwd: string,
  work: () => number | Promise<number>,
  stderr: { write(text: string): unknown } = process.stderr,
): Promise<number> {
  try {
    return await work();
  } catch (error) {
    const failure = cacheAccessFailure(error, cacheDir);
    if (failure === undefined) throw error;
    reportSetupFailures([failure], cwd, stderr);
    return ExitCode.Usage;
  }
}
