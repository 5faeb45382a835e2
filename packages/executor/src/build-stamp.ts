/**
 * Build stamps: the whole-build fast path of a no-op.
 *
 * A build that ends with every task of its graph up to date and snapshotted
 * (see snapshot.ts) writes a stamp: a digest of the graph's definitions (every
 * task's name, command, cwd, env values, globs and deps, the Buildfile's
 * sources and the platform), every stat the tasks' snapshots hold, and each
 * task's result. Snapshots are only written for a consistent state (each
 * task's deps' outputs as its key saw them), so the stamp is one too.
 *
 * The next build of the same targets in the same workspace root plans as
 * usual (the Buildfile is always evaluated: it may build its tasks from
 * anything), then checks the stamp: the same definitions and not one stat
 * changed. Then the build is a no-op and is answered without taking the build
 * lock, opening the index or loading SQLite: one digest, a stat per path.
 *
 * It is the check the full path makes per task from the index, made at once.
 * Any doubt (no stamp, another format, an impure task, a log kept as a blob,
 * one stat) means the full path, which is always right.
 */
import { lstatSync, statSync } from "node:fs";
import { digestBytes, type Digest } from "@rbuild/hash";
import type { Graph } from "@rbuild/planner";
import type { LogLine } from "@rbuild/store";
import { readStamp, removeStamp, writeStamp } from "@rbuild/store";
import { definitionParts, hostPlatform, type Fresh, type Snapshot } from "./snapshot.js";

const FORMAT = 1;

/** name, key, outputs digest, layer, exit code, log */
type StampedTask = readonly [string, Digest, Digest, Digest | null, number | null, readonly LogLine[]];

/**
 * Stats are kept flat, one array per kind (a JSON array of numbers and
 * strings parses far faster than as many small arrays):
 * files `path, size, mtimeMs, ctimeMs, ino` (stat, following links), dirs and
 * outputs `path, mode, size, mtimeMs, ctimeMs, ino` (stat and lstat).
 */
interface Stamp {
  readonly v: typeof FORMAT;
  readonly root: string;
  /** The build that wrote the stamp: builds answered from it repeat its history. */
  readonly build: number;
  readonly definitions: Digest;
  readonly tasks: readonly StampedTask[];
  readonly files: readonly (string | number)[];
  readonly dirs: readonly (string | number)[];
  readonly outputs: readonly (string | number)[];
}

/** Which stamp a graph uses: one per workspace root and set of targets. */
function stampId(graph: Graph): string {
  return digestBytes(JSON.stringify(["rbuild-stamp", graph.root, [...graph.targets].sort()])).slice(0, 32);
}

/** Everything about the graph's tasks but their inputs' contents, as one digest. */
function definitionsDigest(graph: Graph, env: Readonly<Record<string, string | undefined>>, platform: string): Digest {
  const tasks = [...graph.tasks.values()].map((task) => {
    const { run, env: values } = definitionParts(task, graph.sourceDigest, env);
    return [task.name, run, task.cwd, values, task.inputs, task.outputs, task.deps, task.pure];
  });
  return digestBytes(JSON.stringify(["rbuild-definitions", FORMAT, graph.sourceDigest, platform, tasks]));
}

/**
 * Writes the stamp of a build that left every task of `graph` up to date, or
 * removes the old one when it did not. `snapshots` must hold one for every
 * task with a command; without it (a failed or impure task, a racily clean
 * file) there is no stamp.
 */
export function writeBuildStamp(
  storeDir: string,
  graph: Graph,
  build: number,
  snapshots: ReadonlyMap<string, Snapshot>,
  env: Readonly<Record<string, string | undefined>>,
  platform: string,
): void {
  const tasks: StampedTask[] = [];
  const seen = { files: new Set<string>(), dirs: new Set<string>(), outputs: new Set<string>() };
  const files: (string | number)[] = [];
  const dirs: (string | number)[] = [];
  const outputs: (string | number)[] = [];
  let complete = true;
  for (const task of graph.tasks.values()) {
    if (task.run === undefined) continue;
    const snapshot = task.pure ? snapshots.get(task.name) : undefined;
    if (snapshot === undefined || snapshot.logBlob !== null) {
      complete = false;
      break;
    }
    tasks.push([task.name, snapshot.key, snapshot.outputsDigest, snapshot.layer, snapshot.exitCode, snapshot.log ?? []]);
    for (const stat of snapshot.files) if (!seen.files.has(stat[0])) seen.files.add(stat[0]), files.push(...stat);
    for (const stat of snapshot.dirs) if (!seen.dirs.has(stat[0])) seen.dirs.add(stat[0]), dirs.push(...stat);
    for (const stat of snapshot.outputs) if (!seen.outputs.has(stat[0])) seen.outputs.add(stat[0]), outputs.push(...stat);
  }
  if (!complete) {
    removeStamp(storeDir, stampId(graph));
    return;
  }
  const stamp: Stamp = { v: FORMAT, root: graph.root, build, definitions: definitionsDigest(graph, env, platform), tasks, files, dirs, outputs };
  writeStamp(storeDir, stampId(graph), JSON.stringify(stamp));
}

/** The stamped build behind an up-to-date graph, with each task's result. */
export interface UpToDate {
  readonly build: number;
  readonly results: ReadonlyMap<string, Fresh>;
}

/** Whether every stat of a flat list (see Stamp) is unchanged. */
function unchanged(root: string, stats: readonly (string | number)[], width: 5 | 6, follow: boolean): boolean {
  const prefix = `${root}/`;
  for (let i = 0; i < stats.length; i += width) {
    const path = stats[i] as string;
    const full = path === "" ? root : prefix + path;
    const stat = follow ? statSync(full, NO_THROW) : lstatSync(full, NO_THROW);
    if (stat === undefined) return false;
    const at = width === 6 ? i + 2 : i + 1;
    if (width === 6 && stat.mode !== stats[i + 1]) return false;
    if (stat.size !== stats[at] || stat.mtimeMs !== stats[at + 1] || stat.ctimeMs !== stats[at + 2] || stat.ino !== stats[at + 3]) return false;
  }
  return true;
}

const NO_THROW = { throwIfNoEntry: false } as const;

/** The shape of a stamp this rbuild wrote: anything else (a torn or foreign file) is no stamp. */
function wellFormed(stamp: unknown): stamp is Stamp {
  if (typeof stamp !== "object" || stamp === null) return false;
  const { v, tasks, files, dirs, outputs } = stamp as Partial<Stamp>;
  return (
    v === FORMAT &&
    Array.isArray(tasks) &&
    tasks.every((task) => Array.isArray(task) && task.length === 6 && Array.isArray(task[5])) &&
    Array.isArray(files) &&
    files.length % 5 === 0 &&
    Array.isArray(dirs) &&
    dirs.length % 6 === 0 &&
    Array.isArray(outputs) &&
    outputs.length % 6 === 0
  );
}

/**
 * Whether the last stamp of this graph's targets still holds; undefined means
 * "check the full way".
 */
export function upToDateFromStamp(
  storeDir: string,
  graph: Graph,
  env: Readonly<Record<string, string | undefined>>,
  platform = hostPlatform(),
): UpToDate | undefined {
  const text = readStamp(storeDir, stampId(graph));
  if (text === undefined) return undefined;
  let stamp: Stamp;
  try {
    stamp = JSON.parse(text) as Stamp;
  } catch {
    return undefined;
  }
  if (!wellFormed(stamp) || stamp.root !== graph.root || stamp.definitions !== definitionsDigest(graph, env, platform)) return undefined;
  if (!unchanged(graph.root, stamp.files, 5, true) || !unchanged(graph.root, stamp.dirs, 6, true) || !unchanged(graph.root, stamp.outputs, 6, false)) {
    return undefined;
  }
  const results = new Map<string, Fresh>();
  for (const [name, key, outputsDigest, layer, exitCode, log] of stamp.tasks) results.set(name, { key, outputsDigest, layer, exitCode, log });
  // The same definitions mean the same tasks; a stamp that does not cover them all is not this graph's.
  for (const task of graph.tasks.values()) if (task.run !== undefined && !results.has(task.name)) return undefined;
  return { build: stamp.build, results };
}
