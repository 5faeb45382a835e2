/**
 * Build stamps: the whole-build fast path of a no-op.
 *
 * A successful build writes a stamp: a digest of the graph's definitions
 * (every task's name, command, cwd, env values, globs and deps, the
 * Buildfile's sources and the platform), and for each task it left up to date
 * and snapshotted (see snapshot.ts) its result and every stat its snapshot
 * holds. Snapshots are only written for a consistent state (each task's deps'
 * outputs as its key saw them), so the stamp is one too. The other tasks
 * (impure ones, a task whose input changed while it ran or was edited in the
 * same clock tick the build started: racily clean) are listed as unvouched.
 *
 * The next build of the same targets in the same workspace root plans as
 * usual (the Buildfile is always evaluated: it may build its tasks from
 * anything), then checks the stamp: the same definitions, no unvouched task
 * and not one stat changed. Then the build is a no-op and is answered without
 * taking the build lock, opening the index or loading SQLite: one digest, a
 * stat per path.
 *
 * It is the check the full path makes per task from the index, made at once.
 * Any doubt (no stamp, another format, an unvouched task, one stat) means
 * the full path, which is always right.
 *
 * When some stats changed, the stamp still says which tasks they belong to:
 * a task none of whose own stats changed, and none of whose deps (transitively)
 * has a changed stat or is unvouched, is exactly as fresh as its snapshot in
 * the index would show, so the full path (under the build lock) takes those from the stamp and
 * checks only the rest. A one-file edit then costs a stat per path plus the
 * tasks it reaches, not an index read and a snapshot per task.
 */
import { digestBytes, type Digest } from "@rbuild/hash";
import type { Graph } from "@rbuild/planner";
import type { LogLine } from "@rbuild/store";
import { lockGeneration, readStamp, removeStamp, stampFileId, writeStamp } from "@rbuild/store";
import { definitionParts, hostPlatform, type EntryStat, type FileStat, type Fresh, type Snapshot } from "./snapshot.js";
import { STAT_FIELDS, StatJob, type StatHelper } from "./stat-helper.js";

const FORMAT = 3;

/**
 * name, key, outputs digest, layer, exit code, log, and the task's own stats
 * as entry numbers into the stamp's files, dirs and outputs (an entry shared
 * by several tasks is kept once).
 */
type StampedTask = readonly [string, Digest, Digest, Digest | null, number | null, readonly LogLine[], readonly number[], readonly number[], readonly number[]];

/** A task's own stats, as its snapshot holds them. */
export interface TaskStats {
  readonly files: readonly FileStat[];
  readonly dirs: readonly EntryStat[];
  readonly outputs: readonly EntryStat[];
}

/** What a stamp keeps of a task: its result and its own stats (a snapshot has all of it). */
export type StampedResult = Pick<Snapshot, "key" | "outputsDigest" | "layer" | "exitCode" | "log" | "logBlob" | "files" | "dirs" | "outputs">;

/** A task found up to date by a stamp, with the stats that showed it (for the next stamp). */
export interface StampedFresh extends Fresh {
  readonly stats: TaskStats;
}

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
  /** Tasks of the graph the stamp cannot vouch for: they, and what depends on them, are checked the full way. */
  readonly unvouched: readonly string[];
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

/** A stamp made but not written yet (see BuildStampsOptions.deferWrites). */
interface Unwritten {
  readonly storeDir: string;
  readonly id: string;
  readonly stamp: Stamp;
  /** The build lock's generation it was made under (carried on by `carry`). */
  generation: number | undefined;
  /** Which file the stamp on disk was then (see stampFileId). */
  readonly file: string;
}

function unwrittenKey(storeDir: string, id: string): string {
  return `${storeDir}\0${id}`;
}

/** Whether the deferred stamp still stands: nothing else took the build lock or touched the stamp file since. */
function stillStands(pending: Unwritten): boolean {
  return pending.generation !== undefined && lockGeneration(pending.storeDir) === pending.generation && stampFileId(pending.storeDir, pending.id) === pending.file;
}

/** Stats of one kind kept flat and once each; an entry's number is its position. */
class FlatStats {
  readonly values: (string | number)[] = [];
  readonly #entries = new Map<string, number>();
  constructor(readonly width: 5 | 6) {}

  add(stat: FileStat | EntryStat): number {
    let entry = this.#entries.get(stat[0]);
    if (entry === undefined) {
      entry = this.values.length / this.width;
      this.#entries.set(stat[0], entry);
      this.values.push(...stat);
    }
    return entry;
  }
}

/** The stamped build behind an up-to-date graph, with each task's result. */
export interface UpToDate {
  readonly build: number;
  readonly results: ReadonlyMap<string, Fresh>;
}

/**
 * The entries of a flat list (see Stamp) whose stat changed, as a set of
 * entry numbers: `taken` holds the stats of a StatJob, this list's from job
 * entry `offset` on. Files compare size and times and inode; dirs and outputs
 * their mode too.
 */
function changedEntries(stats: readonly (string | number)[], width: 5 | 6, taken: Float64Array, offset: number): Set<number> {
  const changed = new Set<number>();
  const entries = stats.length / width;
  for (let entry = 0; entry < entries; entry++) {
    const i = entry * width;
    const at = (offset + entry) * STAT_FIELDS;
    const mode = taken[at]!;
    const s = width === 6 ? i + 2 : i + 1;
    if (
      mode === -1 ||
      (width === 6 && mode !== stats[i + 1]) ||
      taken[at + 1] !== stats[s] ||
      taken[at + 2] !== stats[s + 1] ||
      taken[at + 3] !== stats[s + 2] ||
      taken[at + 4] !== stats[s + 3]
    ) {
      changed.add(entry);
    }
  }
  return changed;
}

/** The shape of a stamp this rbuild wrote: anything else (a torn or foreign file) is no stamp. */
function wellFormed(stamp: unknown): stamp is Stamp {
  if (typeof stamp !== "object" || stamp === null) return false;
  const { v, tasks, unvouched, files, dirs, outputs } = stamp as Partial<Stamp>;
  return (
    v === FORMAT &&
    Array.isArray(tasks) &&
    tasks.every((task) => Array.isArray(task) && task.length === 9 && Array.isArray(task[5]) && Array.isArray(task[6]) && Array.isArray(task[7]) && Array.isArray(task[8])) &&
    Array.isArray(unvouched) &&
    unvouched.every((name) => typeof name === "string") &&
    Array.isArray(files) &&
    files.length % 5 === 0 &&
    Array.isArray(dirs) &&
    dirs.length % 6 === 0 &&
    Array.isArray(outputs) &&
    outputs.length % 6 === 0
  );
}

/** One stat of every entry of a stamp: which changed. Opaque outside this module. */
export interface StatPass {
  readonly stamp: Stamp;
  /** The build lock's generation just before the stats were taken (see lockGeneration). */
  readonly generation: number | undefined;
  readonly changed: { readonly files: ReadonlySet<number>; readonly dirs: ReadonlySet<number>; readonly outputs: ReadonlySet<number> };
}

/** A job for every entry of the stamp: files, dirs (both followed), then outputs (not followed). */
function statJob(root: string, stamp: Stamp, helper: StatHelper | undefined): StatJob {
  const paths: string[] = [];
  for (const flat of [stamp.files, stamp.dirs, stamp.outputs]) {
    const width = flat === stamp.files ? 5 : 6;
    for (let i = 0; i < flat.length; i += width) paths.push(flat[i] as string);
  }
  return new StatJob(`${root}/`, paths, paths.length - stamp.outputs.length / 6, helper);
}

export interface StampCheck {
  /** Set when the last stamp of this graph's targets still holds: the build is a no-op. */
  readonly upToDate: UpToDate | undefined;
  /** The stats it took, for `partly` when the build is not a no-op. */
  readonly pass: StatPass | undefined;
}

/**
 * A task of a stamp found up to date. Its stats are cut out of the stamp's
 * flat arrays only when asked for: that is some 15,000 small arrays for 1,000
 * tasks, made before the first command could start, and most up-to-date
 * tasks are only recorded later (the executor's late tasks).
 */
class StampedEntry implements StampedFresh {
  readonly key: Digest;
  readonly outputsDigest: Digest;
  readonly layer: Digest | null;
  readonly exitCode: number | null;
  readonly log: readonly LogLine[];
  #stats: TaskStats | undefined;

  constructor(
    private readonly stamp: Stamp,
    private readonly task: StampedTask,
  ) {
    [, this.key, this.outputsDigest, this.layer, this.exitCode, this.log] = task;
  }

  get stats(): TaskStats {
    if (this.#stats === undefined) {
      const entries = <T>(flat: readonly (string | number)[], width: 5 | 6, numbers: readonly number[]): T[] =>
        numbers.map((n) => flat.slice(n * width, (n + 1) * width) as unknown as T);
      const [, , , , , , files, dirs, outputs] = this.task;
      this.#stats = {
        files: entries<FileStat>(this.stamp.files, 5, files),
        dirs: entries<EntryStat>(this.stamp.dirs, 6, dirs),
        outputs: entries<EntryStat>(this.stamp.outputs, 6, outputs),
      };
    }
    return this.#stats;
  }
}

export interface BuildStampsOptions {
  /**
   * Keep the stamps builds make in memory and write them when `writeDeferred`
   * is called, when the process is idle (the daemon): stringifying and
   * writing the stamp (1 MB for 1,000 tasks) took 15-20 ms of the end of
   * every build. The process's own next build uses the stamp from memory.
   * Until it is written, another rbuild finds the stamp before it, which is
   * still right: a stamp only vouches for what its stats show unchanged, and
   * what the later build rebuilt has other stats. A deferred stamp is dropped
   * unwritten once anything else may have changed the stamps: another taking
   * of the build lock than this process's next build, or another stamp file.
   */
  readonly deferWrites?: boolean;
  /** A thread to share stat passes with (the daemon's). */
  readonly statHelper?: StatHelper;
}

/**
 * The build stamps of one engine: what it last read or wrote, and (in the
 * daemon) the stamps not written yet. An engine for one build starts empty
 * and reads the stamp from disk; the daemon's lives for all its builds.
 */
export class BuildStamps {
  readonly #deferring: boolean;
  readonly #statHelper: StatHelper | undefined;
  /** By unwrittenKey. */
  readonly #unwritten = new Map<string, Unwritten>();
  /**
   * The last stamp read or written, by its text: an incremental build reads the stamp twice
   * (the no-op check, then under the lock), and a daemon's next build reads the one its last build wrote;
   * when the file's text is the same, parsing it again (1 MB for 1,000 tasks) would give the same stamp.
   */
  #lastStamp: { readonly text: string | undefined; readonly stamp: Stamp } | undefined;
  /** The definitions digest last computed, for the graph object it was computed for. */
  #lastDefinitions: { readonly graph: Graph; readonly env: object; readonly platform: string; readonly digest: Digest } | undefined;
  /** A stat pass started before it was asked for: see prestat. */
  #prestarted: { readonly stamp: Stamp; readonly generation: number | undefined; readonly job: StatJob } | undefined;

  constructor(options: BuildStampsOptions = {}) {
    this.#deferring = options.deferWrites ?? false;
    this.#statHelper = options.statHelper;
  }

  /**
   * Writes the stamp of a build of `graph` that succeeded, vouching for the
   * tasks `snapshots` has a snapshot of (a failed or impure task, or one with a
   * racily clean file, has none; one whose log is kept as a blob is not
   * vouched for either), or removes the old stamp when it vouches for
   * nothing.
   */
  write(storeDir: string, graph: Graph, build: number, snapshots: ReadonlyMap<string, StampedResult>, env: Readonly<Record<string, string | undefined>>, platform: string): void {
    const tasks: StampedTask[] = [];
    const flat = { files: new FlatStats(5), dirs: new FlatStats(6), outputs: new FlatStats(6) };
    const unvouched: string[] = [];
    for (const task of graph.tasks.values()) {
      if (task.run === undefined) continue;
      const snapshot = task.pure ? snapshots.get(task.name) : undefined;
      if (snapshot === undefined || snapshot.logBlob !== null) {
        unvouched.push(task.name);
        continue;
      }
      tasks.push([
        task.name,
        snapshot.key,
        snapshot.outputsDigest,
        snapshot.layer,
        snapshot.exitCode,
        snapshot.log ?? [],
        snapshot.files.map((stat) => flat.files.add(stat)),
        snapshot.dirs.map((stat) => flat.dirs.add(stat)),
        snapshot.outputs.map((stat) => flat.outputs.add(stat)),
      ]);
    }
    const id = stampId(graph);
    if (tasks.length === 0) {
      this.#unwritten.delete(unwrittenKey(storeDir, id));
      removeStamp(storeDir, id);
      return;
    }
    const stamp: Stamp = {
      v: FORMAT,
      root: graph.root,
      build,
      definitions: this.#definitionsOf(graph, env, platform),
      tasks,
      unvouched,
      files: flat.files.values,
      dirs: flat.dirs.values,
      outputs: flat.outputs.values,
    };
    if (this.#deferring) {
      // Under the build lock: its generation is this build's.
      this.#unwritten.set(unwrittenKey(storeDir, id), { storeDir, id, stamp, generation: lockGeneration(storeDir), file: stampFileId(storeDir, id) });
      this.#lastStamp = { text: undefined, stamp };
      return;
    }
    const text = JSON.stringify(stamp);
    writeStamp(storeDir, id, text);
    this.#lastStamp = { text, stamp };
  }

  /** Writes the stamps deferred so far that still stand; drops the others. */
  writeDeferred(): void {
    for (const [key, pending] of this.#unwritten) {
      this.#unwritten.delete(key);
      if (!stillStands(pending)) continue;
      const text = JSON.stringify(pending.stamp);
      writeStamp(pending.storeDir, pending.id, text);
      if (this.#lastStamp?.stamp === pending.stamp) this.#lastStamp = { text, stamp: pending.stamp };
    }
  }

  /**
   * This engine took the build lock of `storeDir`, finding it at
   * `previousGeneration`: the stamps it deferred under exactly that
   * generation still stand (nobody else built in between), under the new one.
   */
  carry(storeDir: string, previousGeneration: number | undefined): void {
    for (const [key, pending] of this.#unwritten) {
      if (pending.storeDir !== storeDir) continue;
      if (previousGeneration !== undefined && pending.generation === previousGeneration) pending.generation = previousGeneration + 1;
      else this.#unwritten.delete(key);
    }
  }

  /**
   * In the daemon, as a build is asked for: starts the stat pass of the stamp
   * its last build read or wrote on the stat helper thread, while the main
   * thread loads the Buildfile (about 15 ms that the pass would otherwise
   * follow). The build's stat pass joins it when the stamp it checks is that
   * one, and drops it otherwise. Its stats are taken after the request, as the
   * pass would take them; a file the Buildfile itself writes while it is
   * loaded may be seen unchanged until the next build.
   */
  prestat(storeDir: string, root: string): void {
    this.#prestarted?.job.cancel();
    this.#prestarted = undefined;
    const stamp = this.#lastStamp?.stamp;
    if (stamp === undefined || stamp.root !== root || this.#statHelper?.running !== true) return;
    const generation = lockGeneration(storeDir);
    this.#prestarted = { stamp, generation, job: statJob(root, stamp, this.#statHelper) };
  }

  /**
   * Whether the last stamp of this graph's targets still holds (`upToDate`
   * undefined means "check the full way"). Every entry is looked at even after
   * a change: a build that is not a no-op needs them all (`partly`).
   */
  check(storeDir: string, graph: Graph, env: Readonly<Record<string, string | undefined>>, platform = hostPlatform()): StampCheck {
    const stamp = this.#readValid(storeDir, graph, env, platform);
    if (stamp === undefined) return { upToDate: undefined, pass: undefined };
    const pass = this.#statPass(storeDir, graph.root, stamp);
    const { files, dirs, outputs } = pass.changed;
    if (stamp.unvouched.length > 0 || files.size + dirs.size + outputs.size > 0) return { upToDate: undefined, pass };
    const results = new Map<string, Fresh>();
    for (const [name, key, outputsDigest, layer, exitCode, log] of stamp.tasks) results.set(name, { key, outputsDigest, layer, exitCode, log });
    return { upToDate: { build: stamp.build, results }, pass };
  }

  /**
   * The tasks of the last stamp of this graph's targets that are still up to
   * date although others are not: none of their own stats changed and none of
   * their deps, transitively, is out of date. Empty without a valid stamp.
   * Meant for the full path, under the build lock: the stamp it reads cannot
   * change under it. `earlier`, the stat pass of `check`, is used when the
   * stamp is still the one it read and no other rbuild took the lock since
   * (the lock's generation then is the one taking it found); otherwise every
   * entry is looked at again.
   */
  partly(
    storeDir: string,
    graph: Graph,
    env: Readonly<Record<string, string | undefined>>,
    platform = hostPlatform(),
    earlier?: { readonly pass: StatPass | undefined; readonly lockFound: number | undefined },
  ): ReadonlyMap<string, StampedFresh> {
    const fresh = new Map<string, StampedFresh>();
    const stamp = this.#readValid(storeDir, graph, env, platform);
    if (stamp === undefined) return fresh;
    const pass = earlier?.pass;
    const reuse = pass !== undefined && pass.stamp === stamp && pass.generation !== undefined && pass.generation === earlier?.lockFound;
    const { changed } = reuse ? pass : this.#statPass(storeDir, graph.root, stamp);
    const candidates = new Map<string, StampedFresh>();
    for (const task of stamp.tasks) {
      const [name, , , , , , files, dirs, outputs] = task;
      if (files.some((n) => changed.files.has(n)) || dirs.some((n) => changed.dirs.has(n)) || outputs.some((n) => changed.outputs.has(n))) continue;
      candidates.set(name, new StampedEntry(stamp, task));
    }
    // Graph order is topological: a task is up to date when it is a candidate and every dep is up to date.
    const upToDate = new Set<string>();
    for (const task of graph.tasks.values()) {
      if (!task.deps.every((dep) => upToDate.has(dep))) continue;
      if (task.run === undefined) {
        upToDate.add(task.name);
        continue;
      }
      const candidate = candidates.get(task.name);
      if (candidate === undefined) continue;
      upToDate.add(task.name);
      fresh.set(task.name, candidate);
    }
    return fresh;
  }

  #definitionsOf(graph: Graph, env: Readonly<Record<string, string | undefined>>, platform: string): Digest {
    const last = this.#lastDefinitions;
    if (last !== undefined && last.graph === graph && last.env === env && last.platform === platform) return last.digest;
    const digest = definitionsDigest(graph, env, platform);
    this.#lastDefinitions = { graph, env, platform, digest };
    return digest;
  }

  /** The stamp `text` holds, if this rbuild wrote it (anything else, a torn or foreign file, is no stamp). */
  #parse(text: string): Stamp | undefined {
    if (this.#lastStamp !== undefined && this.#lastStamp.text === text) return this.#lastStamp.stamp;
    let stamp: unknown;
    try {
      stamp = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (!wellFormed(stamp)) return undefined;
    this.#lastStamp = { text, stamp };
    return stamp;
  }

  /** The stamp of this graph's targets, if there is one and it was made from these definitions. */
  #readValid(storeDir: string, graph: Graph, env: Readonly<Record<string, string | undefined>>, platform: string): Stamp | undefined {
    const id = stampId(graph);
    const pending = this.#unwritten.get(unwrittenKey(storeDir, id));
    let stamp: Stamp | undefined;
    if (pending !== undefined && stillStands(pending)) {
      stamp = pending.stamp;
    } else {
      this.#unwritten.delete(unwrittenKey(storeDir, id));
      const text = readStamp(storeDir, id);
      stamp = text === undefined ? undefined : this.#parse(text);
    }
    if (stamp === undefined || stamp.root !== graph.root || stamp.definitions !== this.#definitionsOf(graph, env, platform)) return undefined;
    // The same definitions mean the same tasks; a stamp that does not cover them all is not this graph's.
    const stamped = new Set([...stamp.tasks.map((task) => task[0]), ...stamp.unvouched]);
    for (const task of graph.tasks.values()) if (task.run !== undefined && !stamped.has(task.name)) return undefined;
    return stamp;
  }

  #statPass(storeDir: string, root: string, stamp: Stamp): StatPass {
    const early = this.#prestarted;
    this.#prestarted = undefined;
    let generation: number | undefined;
    let job: StatJob;
    if (early !== undefined && early.stamp === stamp) {
      ({ generation, job } = early);
    } else {
      early?.job.cancel();
      generation = lockGeneration(storeDir);
      job = statJob(root, stamp, this.#statHelper);
    }
    const taken = job.finish();
    const files = stamp.files.length / 5;
    const dirs = stamp.dirs.length / 6;
    return {
      stamp,
      generation,
      changed: {
        files: changedEntries(stamp.files, 5, taken, 0),
        dirs: changedEntries(stamp.dirs, 6, taken, files),
        outputs: changedEntries(stamp.outputs, 6, taken, files + dirs),
      },
    };
  }
}
