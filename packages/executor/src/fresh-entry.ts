/**
 * A task's freshness entry: ninja's stat check on top of content keys. After
 * a task succeeds, rbuild records the stats of everything its result depended
 * on: its input files (as hashed), the directories its input globs listed,
 * and its outputs (as stored or restored), with its definition, its deps'
 * outputs digests, its key and its outputs digest. Next time, if the task's
 * definition and its deps' outputs are the same and every one of those stats
 * is unchanged, the task is up to date without hashing a file, crawling a
 * directory or querying the cache: a no-op build costs a stat per file.
 * Entries live in the freshness record (fresh-record.ts, and the store's file
 * format); this module is what an entry is and the one rule for making one.
 *
 * A stat proves nothing about a file changed in the same filesystem clock tick
 * it was recorded in (racily clean), so an entry is made only when every
 * input stat is older than the build's start and every output stat older than
 * its end, both read on the filesystem's clock (trustedEntry). Otherwise the
 * task goes the content-hashing way next time, and gets its entry then.
 */
import { lstatSync, type Stats } from "node:fs";
import { DigestBuilder, digestBytes, statFollowing, type Digest } from "@rbuild/hash";
import type { GraphTask, TaskDef } from "@rbuild/planner";
import type { CoveredOutputs, LogLine } from "@rbuild/store";

const FORMAT = 1;

/** [path, size, mtimeMs, ctimeMs, ino] */
export type FileStat = readonly [string, number, number, number, number];
/** [path, mode (type and permissions), size, mtimeMs, ctimeMs, ino] */
export type EntryStat = readonly [string, number, number, number, number, number];

/** A task's new entry, as a build made it: what the record keeps of it (see the store's FreshTask). */
export interface NewEntry {
  /** Digest of the task's definition: command, cwd, env values, globs, platform, key parts. */
  readonly def: string;
  readonly deps: readonly (readonly [string, Digest])[];
  readonly key: Digest;
  readonly outputsDigest: Digest;
  readonly layer: Digest | null;
  readonly exitCode: number | null;
  readonly log: readonly LogLine[] | null;
  readonly logBlob: Digest | null;
  readonly files: readonly FileStat[];
  /** Directories whose listings decided the inputs, with their stats (path, mode, size, mtime, ctime, ino). */
  readonly dirs: readonly EntryStat[];
  readonly outputs: readonly EntryStat[];
  /** The outputs its transform took over (see covered-outputs.ts): not in `outputs`, left to that transform. */
  readonly covered: CoveredOutputs | null;
}

export function fileStat(path: string, stat: Stats): FileStat {
  return [path, stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino];
}

export function entryStat(path: string, stat: Stats): EntryStat {
  return [path, stat.mode, stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino];
}

/** What a task is, apart from its inputs' contents: part of its key, and its entry's definition. */
export interface TaskDefinition {
  readonly run: string;
  readonly env: [string, string | null][];
  /** Digest of all of it, with the task's name, globs, platform and key parts: what an entry is valid for. */
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
  const parts: unknown[] = ["rbuild-def", FORMAT, task.name, run, task.cwd, values, task.inputs, task.outputs, platform, task.keyParts];
  // A container task's image path (its digest is in the key; the files it was read from, in the entry's stats).
  if (typeof task.runner === "object") parts.push(["image", task.runner.image, task.runner.engine ?? null]);
  // What it receives from its ancestors' context: a value computed in the build is named only by its task (see context-values.ts).
  const inherited = (task as Partial<GraphTask>).inherited ?? [];
  if (inherited.length > 0) parts.push(inherited.map(({ name, from, value }) => [name, from, value ?? null]));
  // A transform's dep is part of what it is (left out otherwise, so other tasks keep their digests).
  if (task.transform !== undefined) parts.push(["transform", task.transform]);
  const def = digestBytes(JSON.stringify(parts));
  return { run, env: values, def };
}

/** A result restored from a freshness entry: no hashing, no lookup. */
export interface Fresh {
  readonly key: Digest;
  readonly outputsDigest: Digest;
  readonly layer: Digest | null;
  readonly exitCode: number | null;
  readonly log: readonly LogLine[];
}

/**
 * `root/path` for a normalised relative path. Plain concatenation: path.join
 * normalises again, and a no-op build does this for every file.
 */
function under(root: string, path: string): string {
  return path === "" ? root : `${root}/${path}`;
}

/** Whether a file still has the stats recorded: `path, size, mtimeMs, ctimeMs, ino` from `flat` at entry `n`. */
export function sameFile(root: string, flat: readonly (string | number)[], n: number): boolean {
  const at = n * 5;
  const stat = statFollowing(under(root, flat[at] as string));
  return stat !== undefined && stat !== "loop" && stat.size === flat[at + 1] && stat.mtimeMs === flat[at + 2] && stat.ctimeMs === flat[at + 3] && stat.ino === flat[at + 4];
}

/** Whether a directory (followed) or output (not followed) still has the stats recorded: `path, mode, size, mtimeMs, ctimeMs, ino`. */
export function sameEntry(root: string, flat: readonly (string | number)[], n: number, follow: boolean): boolean {
  const at = n * 6;
  const full = under(root, flat[at] as string);
  const stat = follow ? statFollowing(full) : lstatSync(full, { throwIfNoEntry: false });
  return (
    stat !== undefined &&
    stat !== "loop" &&
    stat.mode === flat[at + 1] &&
    stat.size === flat[at + 2] &&
    stat.mtimeMs === flat[at + 3] &&
    stat.ctimeMs === flat[at + 4] &&
    stat.ino === flat[at + 5]
  );
}

/** Whether every stat was recorded before `time` (filesystem clock): only then can it vouch for content. */
function olderThan(stats: readonly (FileStat | EntryStat)[], time: number, mtimeIndex: number): boolean {
  for (const stat of stats) {
    if ((stat[mtimeIndex] as number) >= time || (stat[mtimeIndex + 1] as number) >= time) return false;
  }
  return true;
}

/** The current stat of an output, or undefined if it is gone (or below a file now, or hidden below a directory that cannot be searched). */
function outputStat(root: string, path: string): EntryStat | undefined {
  let stat;
  try {
    stat = lstatSync(under(root, path), { throwIfNoEntry: false });
  } catch (error) {
    // A file where a directory above it was (a transform of the task replaced it) is gone too.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "ENOTDIR") return undefined;
    throw error;
  }
  return stat === undefined ? undefined : entryStat(path, stat);
}

/** Current stats of a task's outputs, or undefined if one is gone (see outputStat). */
export function outputStats(root: string, paths: readonly string[]): EntryStat[] | undefined {
  const stats: EntryStat[] = [];
  for (const path of paths) {
    const stat = outputStat(root, path);
    if (stat === undefined) return undefined;
    stats.push(stat);
  }
  return stats;
}

function sameStat(a: EntryStat, b: EntryStat): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What a task that succeeded in a build leaves for its entry, before the racily-clean rule is applied. */
export interface Succeeded {
  readonly entry: Omit<NewEntry, "outputs" | "covered">;
  /** Its outputs' stats as stored or restored. */
  readonly outputs: readonly EntryStat[];
}

/**
 * The racily-clean rule, the one place entries are made: a task's entry, if
 * its stats can vouch for it. Every input file and listed directory must be
 * older than `trustBefore` (the build's start on the filesystem's clock), and
 * every output older than `end` (now, on that clock) and still exactly as
 * stored or restored. Otherwise undefined: the task is hashed next time.
 *
 * `transform`: the task's transform, when it ran or was restored in this
 * build. The outputs it rewrote or deleted are then not as stored, and are
 * left to it (`covered`, see covered-outputs.ts) rather than making this
 * entry untrusted.
 */
export function trustedEntry(root: string, done: Succeeded, trustBefore: number, end: number, transform?: string): NewEntry | undefined {
  if (!olderThan(done.entry.files, trustBefore, 2) || !olderThan(done.entry.dirs, trustBefore, 3)) return undefined;
  const kept: EntryStat[] = [];
  const lost: string[] = [];
  for (const stored of done.outputs) {
    const now = outputStat(root, stored[0]);
    if (now !== undefined && sameStat(now, stored)) kept.push(stored);
    else if (transform === undefined) return undefined;
    else lost.push(stored[0]);
  }
  if (!olderThan(kept, end, 3)) return undefined;
  return { ...done.entry, outputs: lost.length === 0 ? done.outputs : kept, covered: lost.length === 0 ? null : [transform!, lost] };
}

/** The outputs digest of a group task: its deps' outputs, by name. */
export function groupOutputsDigest(task: GraphTask, depOutputs: ReadonlyMap<string, Digest>): Digest {
  // One update of the whole text: the same digest as one per dep (a stream's digest is its bytes'), without 1,000 calls.
  let text = "rbuild-group-1";
  for (const dep of [...task.deps].sort()) text += `\n${dep}\0${depOutputs.get(dep) ?? ""}`;
  return new DigestBuilder().update(text).digest();
}
