/** Where a build's reports go (`--summary`, `--junit`): checked before the build, written whole. */
import { accessSync, constants as fsConstants, lstatSync, realpathSync, statSync, type Stats } from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import { makeDirectories, writeFileAtomically } from "@rbuild/core";
import { findBuildfile } from "@rbuild/planner";
import type { TextOut } from "./terminal.js";
import { cacheDirFor } from "./workspace.js";

/**
 * What no report may replace (a report replaces the file it names, whatever it held): the
 * Buildfile rbuild would load, and anything in its cache directory or in a `.git` directory.
 */
export interface KeptPaths {
  readonly buildfile: string | undefined;
  readonly cacheDir: string | undefined;
}

/** The kept paths of the workspace rbuild would open from `cwd` with `-C directory`: found as openWorkspace finds them. */
export function keptPaths(cwd: string, directory: string | undefined, env: Readonly<Record<string, string | undefined>>): KeptPaths {
  const buildfile = findBuildfile(resolve(cwd, directory ?? "."));
  return { buildfile, cacheDir: buildfile === undefined ? undefined : cacheDirFor(dirname(buildfile), env) };
}

/** `path` with its directory's links resolved (a path reached through a link names the same file), or as it is. */
function realPath(path: string): string {
  try {
    return join(realpathSync(dirname(path)), basename(path));
  } catch {
    return path;
  }
}

/** Why the report `flag` names may not be written at `file` (absolute): it is a kept path (see KeptPaths). */
export function keptPathProblem(flag: string, file: string, kept: KeptPaths): string | undefined {
  const real = realPath(file);
  if (kept.buildfile !== undefined && real === realPath(kept.buildfile)) {
    return `${flag} ${file} is the Buildfile: rbuild would replace it with the report. Give the report a file of its own.`;
  }
  const inside = (what: string, dir: string): string => `${flag} ${file} is inside ${what} ${dir}: rbuild does not write reports there. Give the report a file outside it.`;
  const segments = file.split(sep);
  const git = segments.indexOf(".git");
  if (git !== -1) return inside("the git directory", segments.slice(0, git + 1).join(sep));
  if (kept.cacheDir !== undefined && real.startsWith(`${realPath(kept.cacheDir)}${sep}`)) return inside("rbuild's cache directory", kept.cacheDir);
  return undefined;
}

/**
 * Why the report `flag` names (`--summary FILE`, `--junit FILE`) cannot be
 * written, checked before the build starts (its directory is made if missing),
 * so that a long build does not end in a report that is lost, nor in one that
 * replaced the Buildfile.
 */
export function reportFileProblem(flag: string, file: string, kept: KeptPaths): string | undefined {
  const isKept = keptPathProblem(flag, file, kept);
  if (isKept !== undefined) return isKept;
  // A report replaces the file by a rename: a device, fifo or link there would be replaced too.
  let existing: Stats | undefined;
  try {
    existing = lstatSync(file, { throwIfNoEntry: false });
  } catch {
    // ENOTDIR: a file where one of its directories should be, named below.
  }
  if (existing !== undefined && !existing.isFile()) {
    return `${flag} ${file} exists and is not a regular file; rbuild replaces the file it names, so give the path of a new or regular file.`;
  }
  const dir = dirname(file);
  // Checked first: a writable file where the directory should be passes the access check.
  const inTheWay = fileInTheWay(dir);
  if (inTheWay !== undefined) return `${flag} ${file}: ${inTheWay} is a file, not a directory. Give a file in a directory you can write.`;
  try {
    makeDirectories(dir);
    accessSync(dir, fsConstants.W_OK);
    return undefined;
  } catch (error) {
    return `${flag} ${file}: cannot write in ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}). Give a file in a directory you can write.`;
  }
}

/** The nearest existing path at or above `dir` if it is not a directory (a file where a directory should be). */
function fileInTheWay(dir: string): string | undefined {
  for (let path = dir; ; path = dirname(path)) {
    let stat: Stats | undefined;
    try {
      stat = statSync(path, { throwIfNoEntry: false });
    } catch {
      stat = undefined; // ENOTDIR: something above is the file.
    }
    if (stat !== undefined) return stat.isDirectory() ? undefined : path;
    if (dirname(path) === path) return undefined;
  }
}

/**
 * Writes a report by a rename of a temp file, so a reader never sees half of
 * one; false (with the reason on `stderr`) when it cannot.
 */
export function writeReport(flag: string, file: string, text: string, stderr: TextOut): boolean {
  try {
    writeFileAtomically(file, text);
    return true;
  } catch (error) {
    stderr.write(`rbuild: error: ${flag} ${file}: ${(error as Error).message}\n`);
    return false;
  }
}
