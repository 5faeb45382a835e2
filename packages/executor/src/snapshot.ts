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
import type { TaskDef } from "@rbuild/planner";
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

/** What a task is, apart from its inputs' contents: part of its key, and its snapshot's definition. */
export interface TaskDefinition {
  readonly run: string;
  readonly env: [string, string | null][];
  /** Digest of all of it, with the task's name, globs and platform: what a snapshot is valid for. */
  readonly def: string;
}

/** The platform part of keys and definitions, unless a build says otherwise: this machine's os and architecture. */
export function hostPlatform(): string {
  return `${process.platform}-${process.arch}`;
}

/** A task's command (or function, with the Buildfile it came from) and its env values: what its key holds of it. */
export function definitionParts(
  task: TaskDef,
  sourceDigest: string,
  env: Readonly<Record<string, string | undefined>>,
): Pick<TaskDefinition, "run" | "env"> {
  const run = typeof task.run === "function" ? `fn:${task.run.toString()}\nbuildfile:${sourceDigest}` : `sh:${task.run ?? ""}`;
  return { run, env: task.env.map((name): [string, string | null] => [name, env[name] ?? null]) };
}

export function taskDefinition(
  task: TaskDef,
  sourceDigest: string,
  env: Readonly<Record<string, string | undefined>>,
  platform: string,
): TaskDefinition {
  const { run, env: values } = definitionParts(task, sourceDigest, env);
  const def = digestBytes(JSON.stringify(["rbuild-def", FORMAT, task.name, run, task.cwd, values, task.inputs, task.outputs, platform]));
  return { run, env: values, def };
}

/** A result restored from a snapshot: no hashing, no lookup. */
export interface Fresh {
  readonly key: Digest;
  readonly outputsDigest: Digest;
  readonly layer: Digest | null;
  readonly exitCode: number | null;
  readonly log: readonly LogLine[];
}

export function freshResult(snapshot: Snapshot, log: readonly LogLine[]): Fresh {
  return { key: snapshot.key, outputsDigest: snapshot.outputsDigest, layer: snapshot.layer, exitCode: snapshot.exitCode, log };
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

const isDigestText = (value: unknown): boolean => typeof value === "string" && /^[0-9a-f]{64}$/.test(value);
const isStatList = (value: unknown, fields: number): boolean =>
  Array.isArray(value) && value.every((row) => Array.isArray(row) && row.length === fields && typeof row[0] === "string" && row.slice(1).every((n) => typeof n === "number"));

/**
 * A snapshot read back from the index, or undefined when it is not one in
 * every field: damage that leaves valid JSON of the wrong shape (one flipped
 * bit in a field's name) must mean "check the task again", never a crash or a
 * result with a field missing.
 */
export function parseSnapshot(text: string | undefined): Snapshot | undefined {
  if (text === undefined) return undefined;
  let value: Partial<Record<keyof Snapshot, unknown>>;
  try {
    value = JSON.parse(text) as typeof value;
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || value.v !== FORMAT || typeof value.def !== "string") return undefined;
  if (!isDigestText(value.key) || !isDigestText(value.outputsDigest)) return undefined;
  if (!(value.layer === null || isDigestText(value.layer)) || !(value.logBlob === null || isDigestText(value.logBlob))) return undefined;
  if (!(value.exitCode === null || typeof value.exitCode === "number")) return undefined;
  if (!Array.isArray(value.deps) || !value.deps.every((dep) => Array.isArray(dep) && typeof dep[0] === "string" && isDigestText(dep[1]))) return undefined;
  if (!isStatList(value.files, 5) || !isStatList(value.dirs, 6) || !isStatList(value.outputs, 6)) return undefined;
  if (!(value.log === null || (Array.isArray(value.log) && value.log.every((line) => Array.isArray(line) && typeof line[1] === "string")))) return undefined;
  return value as Snapshot;
}

/** Whether the snapshot still holds for a task with definition `def` whose deps' outputs are `deps`. */
export function snapshotHolds(
  root: string,
  snapshot: Snapshot,
  def: string,
  deps: ReadonlyMap<string, Digest>,
  depNames: readonly string[],
): boolean {
  if (snapshot.def !== def || snapshot.deps.length !== depNames.length) return false;
  for (const [dep, digest] of snapshot.deps) if (deps.get(dep) !== digest) return false;
  for (const file of snapshot.files) if (!sameFile(root, file)) return false;
  for (const dir of snapshot.dirs) if (!sameEntry(root, dir, true)) return false;
  for (const output of snapshot.outputs) if (!sameEntry(root, output, false)) return false;
  return true;
}

/** Whether every stat was recorded before `time` (filesystem clock): only then can it vouch for content. */
export function olderThan(stats: readonly (FileStat | EntryStat)[], time: number, mtimeIndex: number): boolean {
  for (const stat of stats) {
    if ((stat[mtimeIndex] as number) >= time || (stat[mtimeIndex + 1] as number) >= time) return false;
  }
  return true;
}

/** Current stats of a task's outputs, or undefined if one is gone (or hidden below a directory that cannot be searched). */
export function outputStats(root: string, paths: readonly string[]): EntryStat[] | undefined {
  const stats: EntryStat[] = [];
  for (const path of paths) {
    let stat;
    try {
      stat = lstatSync(under(root, path), { throwIfNoEntry: false });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EACCES") return undefined;
      throw error;
    }
    if (stat === undefined) return undefined;
    stats.push(entryStat(path, stat));
  }
  return stats;
}
