/** Where a build's reports go (`--summary`, `--junit`): checked before the build, written whole. */
import { accessSync, constants as fsConstants, lstatSync, statSync, type Stats } from "node:fs";
import { dirname } from "node:path";
import { makeDirectories, writeFileAtomically } from "@rbuild/core";
import type { TextOut } from "./terminal.js";

/**
 * Why the report `flag` names (`--summary FILE`, `--junit FILE`) cannot be
 * written, checked before the build starts (its directory is made if missing),
 * so that a long build does not end in a report that is lost.
 */
export function reportFileProblem(flag: string, file: string): string | undefined {
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
