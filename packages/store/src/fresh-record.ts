/**
 * The freshness record: `fresh/<id>.json` in the store directory, one per
 * workspace root, saying for every task a build left up to date what it
 * produced and the stats of everything that showed it (ninja's stat check on
 * top of content keys). What the entries mean and how they are checked is the
 * executor's business (fresh-record.ts there); this module owns the file.
 *
 * Format (version FORMAT), one JSON object:
 * - `v`, `root`: a file of another version or another root is no record.
 * - `builds`: `[targets, build, definitions]` per set of targets last built
 *   successfully here: the targets (JSON of the sorted names), the build's id
 *   in the index history, and a digest of its graph's tasks' names, order,
 *   definitions and deps. A build answered without the index repeats that
 *   build's history.
 * - `tasks`: one entry per task, FreshTask below. An entry is valid for any
 *   graph that has the task with the same definition and the same deps'
 *   outputs; entries of tasks a build did not reach are kept.
 * - `files` `path, size, mtimeMs, ctimeMs, ino` (stat, following links),
 *   `dirs` and `outputs` `path, mode, size, mtimeMs, ctimeMs, ino` (stat and
 *   lstat): flat, one array per kind (a JSON array of numbers and strings
 *   parses far faster than as many small arrays), an entry shared by several
 *   tasks kept once. Tasks name their stats by entry number.
 * - A transform's dep (issue 27.3, format 2): the transform rewrites or
 *   deletes some of the dep's outputs in place, so their stats cannot vouch
 *   for the dep. Its entry then names the transform that took them over and
 *   those paths (`covered`), without their stats: it holds only in a graph
 *   that has that transform (the executor's covered-outputs.ts).
 *
 * Reading needs no index and no lock: a build that finds everything up to
 * date never opens SQLite. It is written atomically (a rename) under the build
 * lock, so a reader sees a whole old or a whole new file. A torn, damaged,
 * foreign or old file is no record (every task is checked the full way),
 * never a crash.
 */
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomically } from "@rbuild/core";
import { digestBytes } from "@rbuild/hash";
import type { LogLine } from "./store.js";

const DIR = "fresh";
/** The record format version: a file of another one is no record (1: before entries had `covered`). */
export const FRESH_RECORD_FORMAT = 2;
const FORMAT = FRESH_RECORD_FORMAT;

/**
 * `[transform, paths]`: the outputs of a task that its transform `transform`
 * rewrote or deleted, left to that transform instead of vouched for by stats.
 */
export type CoveredOutputs = readonly [string, readonly string[]];

/**
 * name, definition digest, deps (flat: name, outputs digest, ...), key,
 * outputs digest, layer, exit code, log (inline) or null, log blob or null,
 * the task's stats as entry numbers into `files`, `dirs` and `outputs`, the
 * id of the build that made the entry, and its outputs a transform took over
 * (or null: every output is in its stats).
 */
export type FreshTask = readonly [
  string,
  string,
  readonly string[],
  string,
  string,
  string | null,
  number | null,
  readonly LogLine[] | null,
  string | null,
  readonly number[],
  readonly number[],
  readonly number[],
  number,
  CoveredOutputs | null,
];

/** `[targets, build, digest of the graph's definitions]`. */
export type FreshBuild = readonly [string, number, string];

export interface FreshRecord {
  readonly v: typeof FORMAT;
  readonly root: string;
  readonly builds: readonly FreshBuild[];
  readonly tasks: readonly FreshTask[];
  readonly files: readonly (string | number)[];
  readonly dirs: readonly (string | number)[];
  readonly outputs: readonly (string | number)[];
}

/** Which file a workspace root's record is. */
function recordPath(storeDir: string, root: string): string {
  const id = digestBytes(`rbuild-fresh\0${root}`).slice(0, 32);
  return join(storeDir, DIR, `${id}.json`);
}

/** The record's text, if there is a file. */
export function readFreshRecord(storeDir: string, root: string): string | undefined {
  try {
    return readFileSync(recordPath(storeDir, root), "utf8");
  } catch {
    return undefined;
  }
}

/** Which file the record is now, cheaply: a new write or a removal changes it (writes are renames: a new inode). */
export function freshRecordFileId(storeDir: string, root: string): string {
  const stat = statSync(recordPath(storeDir, root), { throwIfNoEntry: false });
  return stat === undefined ? "none" : `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
}

/** Writes the record atomically; returns its text. Under the build lock. */
export function writeFreshRecord(storeDir: string, record: FreshRecord): string {
  const text = JSON.stringify(record);
  writeFileAtomically(recordPath(storeDir, record.root), text);
  return text;
}

/** Removes every record (an index started over: every task is checked again). */
export function removeFreshRecords(storeDir: string): void {
  rmSync(join(storeDir, DIR), { recursive: true, force: true });
}

/** The roots' record files in the store (for tests and tools). */
export function freshRecordFiles(storeDir: string): string[] {
  try {
    return readdirSync(join(storeDir, DIR))
      .filter((name) => name.endsWith(".json"))
      .map((name) => join(storeDir, DIR, name));
  } catch {
    return [];
  }
}

// The checks below run on every entry of every record read, in a process that has just started
// (a no-op is one): plain loops, no closures. Stat values are not checked one by one: a wrong one
// (a string for a number) only makes that stat differ from the disk's, and its task is checked again.

const isDigest = (value: unknown): boolean => typeof value === "string" && value.length === 64;

/** Whether every element is an entry number below `count`: one out of range would never be seen changed. */
function isEntryList(value: unknown, count: number): boolean {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) {
    const n: unknown = value[i];
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n >= count) return false;
  }
  return true;
}

function isDepList(value: unknown): boolean {
  if (!Array.isArray(value) || value.length % 2 !== 0) return false;
  for (let i = 0; i < value.length; i += 2) if (typeof value[i] !== "string" || !isDigest(value[i + 1])) return false;
  return true;
}

function isLog(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) {
    const line: unknown = value[i];
    if (!Array.isArray(line) || line.length !== 2 || typeof line[0] !== "string" || typeof line[1] !== "string") return false;
  }
  return true;
}

function isCovered(value: unknown): boolean {
  if (value === null) return true;
  if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== "string" || !Array.isArray(value[1])) return false;
  const paths = value[1] as unknown[];
  for (let i = 0; i < paths.length; i++) if (typeof paths[i] !== "string") return false;
  return true;
}

function wellFormedTask(task: unknown, files: number, dirs: number, outputs: number): boolean {
  if (!Array.isArray(task) || task.length !== 14) return false;
  return (
    typeof task[0] === "string" &&
    typeof task[1] === "string" &&
    isDepList(task[2]) &&
    isDigest(task[3]) &&
    isDigest(task[4]) &&
    (task[5] === null || isDigest(task[5])) &&
    (task[6] === null || typeof task[6] === "number") &&
    (task[7] === null || isLog(task[7])) &&
    (task[8] === null || isDigest(task[8])) &&
    isEntryList(task[9], files) &&
    isEntryList(task[10], dirs) &&
    isEntryList(task[11], outputs) &&
    typeof task[12] === "number" &&
    isCovered(task[13])
  );
}

const isFlat = (flat: unknown, width: 5 | 6): flat is (string | number)[] => Array.isArray(flat) && flat.length % width === 0;

function isBuildList(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (const b of value as unknown[]) if (!Array.isArray(b) || b.length !== 3 || typeof b[0] !== "string" || typeof b[1] !== "number" || typeof b[2] !== "string") return false;
  return true;
}

/**
 * The record `text` holds for the workspace at `root`, or undefined when it is
 * not one in every field: a torn or foreign file, another version, or damage
 * that leaves valid JSON of the wrong shape (one flipped bit in a field) is
 * no record, never a crash or an entry with a field missing.
 */
export function parseFreshRecord(text: string, root: string): FreshRecord | undefined {
  let value: Partial<Record<keyof FreshRecord, unknown>>;
  try {
    value = JSON.parse(text) as typeof value;
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || value.v !== FORMAT || value.root !== root) return undefined;
  const { builds, tasks, files, dirs, outputs } = value;
  if (!isFlat(files, 5) || !isFlat(dirs, 6) || !isFlat(outputs, 6) || !isBuildList(builds) || !Array.isArray(tasks)) return undefined;
  for (let i = 0; i < tasks.length; i++) if (!wellFormedTask(tasks[i], files.length / 5, dirs.length / 6, outputs.length / 6)) return undefined;
  return value as FreshRecord;
}
