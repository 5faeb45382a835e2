/**
 * Task snapshots: ninja's stat check on top of content keys. After a task
 * succeeds, rbuild records the stats of everything its result depended on:
 * its input files (as hashed), the directories its input globs listed, and its
 * outputs (as stored or restored), with its key and outputs digest. Next time,
 * if the task's definition and its deps' outputs are the same and every one of
 * those stats is unchanged, the task is up to date without hashing a file,
 * crawling a directory or querying the cache: a no-op build costs a stat per file.
 *
 * A stat proves nothing about a file changed in the same filesystem clock tick
 * it was recorded in (racily clean), so a snapshot is written only when every
 * input stat is older than the build's start and every output stat older than
 * its end, both read on the filesystem's clock. Otherwise the task goes the
 * content-hashing way next time, and is snapshotted then.
 */
import { lstatSync, statSync, type Stats } from "node:fs";
import { digestBytes, type Digest } from "@rbuild/hash";
import type { LogLine } from "@rbuild/store";

const FORMAT = 1;

/** [path, size, mtimeMs, ctimeMs, ino] */
export type FileStat = readonly [string, number, number, number, number];
/** [path, mode (type and permissions), size, mtimeMs, ctimeMs, ino] */
export type EntryStat = readonly [string, number, number, number, number, number];

export interface Snapshot {
  readonly v: typeof FORMAT;
  /** Digest of the task's definition: command, cwd, env values, globs, platform. */
  readonly def: string;
  readonly deps: readonly (readonly [string, Digest])[];
  readonly key: Digest;
  readonly outputsDigest: Digest;
  readonly layer: Digest | null;
  readonly exitCode: number | null;
  readonly files: readonly FileStat[];
  /** Directories whose listings decided the inputs, with their stats (path, mode, size, mtime, ctime, ino). */
  readonly dirs: readonly EntryStat[];
  readonly outputs: readonly EntryStat[];
  readonly log: readonly LogLine[] | null;
  readonly logBlob: Digest | null;
}

export function fileStat(path: string, stat: Stats): FileStat {
  return [path, stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino];
}

export function entryStat(path: string, stat: Stats): EntryStat {
  return [path, stat.mode, stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino];
}

export function definitionDigest(parts: readonly unknown[]): string {
  return digestBytes(JSON.stringify(["rbuild-def", FORMAT, ...parts]));
}

/**
 * `root/path` for a normalised relative path. Plain concatenation: path.join
 * normalises again, and a no-op build does this for every file.
 */
function under(root: string, path: string): string {
  return path === "" ? root : `${root}/${path}`;
}

function sameFile(root: string, [path, size, mtime, ctime, ino]: FileStat): boolean {
  const stat = statSync(under(root, path), { throwIfNoEntry: false });
  return stat !== undefined && stat.size === size && stat.mtimeMs === mtime && stat.ctimeMs === ctime && stat.ino === ino;
}

function sameEntry(root: string, recorded: EntryStat, follow: boolean): boolean {
  const [path, mode, size, mtime, ctime, ino] = recorded;
  const full = under(root, path);
  const stat = follow ? statSync(full, { throwIfNoEntry: false }) : lstatSync(full, { throwIfNoEntry: false });
  return stat !== undefined && stat.mode === mode && stat.size === size && stat.mtimeMs === mtime && stat.ctimeMs === ctime && stat.ino === ino;
}

/** The snapshot, if it still holds for a task with definition `def` whose deps' outputs are `deps`. */
export function freshSnapshot(
  root: string,
  text: string | undefined,
  def: string,
  deps: ReadonlyMap<string, Digest>,
  depNames: readonly string[],
): Snapshot | undefined {
  if (text === undefined) return undefined;
  let snapshot: Snapshot;
  try {
    snapshot = JSON.parse(text) as Snapshot;
  } catch {
    return undefined;
  }
  if (snapshot.v !== FORMAT || snapshot.def !== def || snapshot.deps.length !== depNames.length) return undefined;
  for (const [dep, digest] of snapshot.deps) if (deps.get(dep) !== digest) return undefined;
  for (const file of snapshot.files) if (!sameFile(root, file)) return undefined;
  for (const dir of snapshot.dirs) if (!sameEntry(root, dir, true)) return undefined;
  for (const output of snapshot.outputs) if (!sameEntry(root, output, false)) return undefined;
  return snapshot;
}

/** Whether every stat was recorded before `time` (filesystem clock): only then can it vouch for content. */
export function olderThan(stats: readonly (FileStat | EntryStat)[], time: number, mtimeIndex: number): boolean {
  for (const stat of stats) {
    if ((stat[mtimeIndex] as number) >= time || (stat[mtimeIndex + 1] as number) >= time) return false;
  }
  return true;
}

/** Current stats of a task's outputs, or undefined if one is gone. */
export function outputStats(root: string, paths: readonly string[]): EntryStat[] | undefined {
  const stats: EntryStat[] = [];
  for (const path of paths) {
    const stat = lstatSync(under(root, path), { throwIfNoEntry: false });
    if (stat === undefined) return undefined;
    stats.push(entryStat(path, stat));
  }
  return stats;
}
