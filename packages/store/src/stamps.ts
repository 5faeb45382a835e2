/**
 * Build stamps on disk: `up-to-date/<id>.json` in the store directory, one per
 * workspace root and set of targets, written at the end of a build that left
 * every task up to date (what they hold and how they are checked is the
 * executor's business, see build-stamp.ts there). Reading one needs no index:
 * a build that finds everything up to date never opens SQLite.
 *
 * Such a build leaves its history in `up-to-date/builds.jsonl`, one line per
 * build; the next Store to open folds those lines into the index.
 */
import { appendFileSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomically } from "@rbuild/core";

const DIR = "up-to-date";
const HISTORY = "builds.jsonl";

/** A build answered from a stamp: it repeated build `from` with every task cached. */
export interface StampedBuild {
  readonly from: number;
  readonly started: number;
  readonly finished: number;
  readonly targets: readonly string[];
}

function stampPath(storeDir: string, id: string): string {
  return join(storeDir, DIR, `${id}.json`);
}

export function readStamp(storeDir: string, id: string): string | undefined {
  try {
    return readFileSync(stampPath(storeDir, id), "utf8");
  } catch {
    return undefined;
  }
}

/** Which file the stamp is now, cheaply: a new write or a removal changes it (writes are renames: a new inode). */
export function stampFileId(storeDir: string, id: string): string {
  const stat = statSync(stampPath(storeDir, id), { throwIfNoEntry: false });
  return stat === undefined ? "none" : `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
}

export function writeStamp(storeDir: string, id: string, text: string): void {
  writeFileAtomically(stampPath(storeDir, id), text);
}

export function removeStamp(storeDir: string, id: string): void {
  rmSync(stampPath(storeDir, id), { force: true });
}

export function removeAllStamps(storeDir: string): void {
  rmSync(join(storeDir, DIR), { recursive: true, force: true });
}

/**
 * Appends one build to the history waiting to be folded. One short append:
 * lines of concurrent builds do not interleave.
 */
export function noteStampedBuild(storeDir: string, build: StampedBuild): void {
  mkdirSync(join(storeDir, DIR), { recursive: true });
  appendFileSync(join(storeDir, DIR, HISTORY), `${JSON.stringify(build)}\n`);
}

export function stampedBuildsFile(storeDir: string): string {
  return join(storeDir, DIR, HISTORY);
}
