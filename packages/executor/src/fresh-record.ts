/**
 * Freshness: the one record per workspace root (the store's fresh-record.ts
 * owns the file) that says which tasks are still as a build left them, used
 * by every path of a build.
 *
 * - The no-op (`check`): read whole at the start, without the build lock or
 *   the index. Every task of the graph has an entry (see fresh-entry.ts)
 *   whose definition is the task's, whose deps' outputs digests are its deps'
 *   entries' (graph order is topological), and not one stat of them changed;
 *   and the record names a successful build of these targets with these
 *   definitions, whose history the build repeats. Then nothing else is
 *   opened: one digest, a stat per path.
 * - Definitions: a task's entry holds only for its definition digest. After
 *   a successful build N of a graph with definitions digest D (everything
 *   about every task but its inputs' contents, see definitionsDigest), each of
 *   its tasks' entries was either found to hold (its definition matched) or
 *   made by N; later builds mark what they make with their own, higher id.
 *   So when the graph's digest is D again, an entry made by N or before it
 *   has the task's definition, and only newer ones are compared one by one:
 *   a no-op hashes the graph once instead of each task's definition.
 * - Under the lock (`partly`): the tasks of the graph that are still fresh,
 *   each by the same rule, with all their deps fresh too; the executor takes
 *   them as they are and checks only the rest. For each of those, its own
 *   check (TaskCache.fresh) reads its entry from the same record.
 * - At the end of a build (`write`), under the lock, the entries it made
 *   (the racily-clean rule, fresh-entry.ts trustedEntry) are merged into the
 *   record it started from (record-merge.ts): a build of other targets keeps
 *   the entries of the tasks it does not have.
 *
 * - A transform's dep whose outputs the transform took over holds them
 *   without their stats only in a graph that has that transform, which
 *   leaves them as its own result says (covered-outputs.ts).
 *
 * Any doubt (no record, another format, a missing entry, one stat) means the
 * full path, which is always right.
 *
 * In the daemon, records are kept in memory and written when it is idle
 * (`deferWrites`), and the stat pass of its last record starts on the stat
 * helper thread as a build is asked for (`prestat`).
 */
import { digestBytes, type Digest } from "@rbuild/hash";
import type { Graph, GraphTask } from "@rbuild/planner";
import { freshRecordFileId, lockGeneration, parseFreshRecord, readFreshRecord, writeFreshRecord, type FreshRecord, type FreshTask } from "@rbuild/store";
import { definitionParts, groupOutputsDigest, hostPlatform, sameEntry, sameFile, taskDefinition, type EntryStat, type FileStat, type Fresh, type Succeeded } from "./fresh-entry.js";
import { mergeRecord, type RecordChange } from "./record-merge.js";
import { receivesComputedContext } from "./context-values.js";
import { coverHolds } from "./covered-outputs.js";
import { finishPass, statJob, statsChanged, type StatPass } from "./stat-pass.js";
import type { StatHelper, StatJob } from "./stat-helper.js";

export type { StatPass } from "./stat-pass.js";
export type { RecordChange } from "./record-merge.js";

type Env = Readonly<Record<string, string | undefined>>;

/** The build behind an up-to-date graph, with each task's result. */
export interface UpToDate {
  readonly build: number;
  readonly results: ReadonlyMap<string, Fresh>;
}

export interface FreshCheck {
  /** Set when the record shows the build is a no-op. */
  readonly upToDate: UpToDate | undefined;
  /** The stats it took, for `partly` when the build is not a no-op. */
  readonly pass: StatPass | undefined;
}

/** How a record names a set of targets. */
export function targetsKey(graph: Pick<Graph, "targets">): string {
  return JSON.stringify([...graph.targets].sort());
}

/** Everything about the graph's tasks but their inputs' contents, as one digest: names, order, definitions (key parts too), deps and purity. */
function definitionsDigest(graph: Graph, env: Env, platform: string): string {
  const tasks = [...graph.tasks.values()].map((task) => {
    const { run, env: values } = definitionParts(task, graph.sourceDigest, env);
    const own = [task.name, run, task.cwd, values, task.inputs, task.outputs, task.deps, task.pure, task.keyParts];
    const facts = typeof task.runner === "object" ? [...own, ["image", task.runner.image, task.runner.engine ?? null]] : own;
    return task.inherited.length === 0 ? facts : [...facts, task.inherited.map(({ name, from, value }) => [name, from, value ?? null])];
  });
  return digestBytes(JSON.stringify(["rbuild-definitions", 1, platform, tasks]));
}

/** What a graph's check needs of its definitions, computed once per graph object. */
class GraphDefinitions {
  readonly #defs = new Map<string, string>();
  #digest: string | undefined;

  constructor(
    readonly graph: Graph,
    readonly env: Env,
    readonly platform: string,
  ) {}

  get digest(): string {
    return (this.#digest ??= definitionsDigest(this.graph, this.env, this.platform));
  }

  /** The task's definition digest (see taskDefinition). */
  of(task: GraphTask): string {
    let def = this.#defs.get(task.name);
    if (def === undefined) this.#defs.set(task.name, (def = taskDefinition(task, this.graph.sourceDigest, this.env, this.platform).def));
    return def;
  }
}

/** The successful build of the graph's targets with its definitions that the record names, if any. */
function lastBuild(view: RecordView, defs: GraphDefinitions): number | undefined {
  const targets = targetsKey(defs.graph);
  const build = view.record.builds.find((b) => b[0] === targets);
  return build !== undefined && build[2] === defs.digest ? build[1] : undefined;
}

/** A record read, with its entries by name (made once, when first asked). */
export class RecordView {
  #byName: Map<string, FreshTask> | undefined;

  constructor(readonly record: FreshRecord) {}

  task(name: string): FreshTask | undefined {
    if (this.#byName === undefined) {
      this.#byName = new Map();
      for (const task of this.record.tasks) this.#byName.set(task[0], task);
    }
    return this.#byName.get(name);
  }

  /**
   * The task's entry, if it still holds: the same definition, the same deps'
   * outputs (`depOutputs`, what the build has now), and no stat changed, each
   * statted now, and in a graph of `tasks` where the outputs a transform
   * took over are that transform's (see covered-outputs.ts).
   */
  holding(root: string, task: GraphTask, def: string, depOutputs: ReadonlyMap<string, Digest>, tasks: ReadonlyMap<string, GraphTask>): FreshTask | undefined {
    const entry = this.task(task.name);
    if (entry === undefined || !sameHead(entry, task, def, depOutputs) || !coverHolds(entry[13], task.name, tasks)) return undefined;
    const { files, dirs, outputs } = this.record;
    for (const n of entry[9]) if (!sameFile(root, files, n)) return undefined;
    for (const n of entry[10]) if (!sameEntry(root, dirs, n, true)) return undefined;
    for (const n of entry[11]) if (!sameEntry(root, outputs, n, false)) return undefined;
    return entry;
  }
}

/**
 * What task `name`'s entry says it left, as a build that just made it would
 * say it (see fresh-entry.ts Succeeded), with the outputs it left to its
 * transform: to make it again when a transform of it took over more.
 */
export function succeededOf(record: FreshRecord, entry: FreshTask): { readonly done: Succeeded; readonly covered: readonly string[] } {
  const deps: (readonly [string, Digest])[] = [];
  for (let i = 0; i < entry[2].length; i += 2) deps.push([entry[2][i]!, entry[2][i + 1] as Digest]);
  const files = entry[9].map((n) => record.files.slice(n * 5, n * 5 + 5) as unknown as FileStat);
  const dirs = entry[10].map((n) => record.dirs.slice(n * 6, n * 6 + 6) as unknown as EntryStat);
  const outputs = entry[11].map((n) => record.outputs.slice(n * 6, n * 6 + 6) as unknown as EntryStat);
  const { key, outputsDigest, layer, exitCode } = freshOf(entry);
  return {
    done: { entry: { def: entry[1], deps, key, outputsDigest, layer, exitCode, log: entry[7], logBlob: entry[8] as Digest | null, files, dirs }, outputs },
    covered: entry[13]?.[1] ?? [],
  };
}

/** Whether an entry is of this definition with these deps' outputs (its stats aside). */
function sameHead(entry: FreshTask, task: GraphTask, def: string, depOutputs: ReadonlyMap<string, Digest>): boolean {
  return entry[1] === def && sameDeps(entry, task, depOutputs);
}

/** Whether an entry has these deps, with these outputs. */
function sameDeps(entry: FreshTask, task: GraphTask, depOutputs: ReadonlyMap<string, Digest>): boolean {
  const deps = entry[2];
  if (deps.length !== task.deps.length * 2) return false;
  for (let i = 0; i < task.deps.length; i++) {
    const dep = task.deps[i]!;
    if (deps[2 * i] !== dep || deps[2 * i + 1] !== depOutputs.get(dep)) return false;
  }
  return true;
}

/** What an entry gives a task found fresh. Its log is inline (an entry with a log blob is left to TaskCache.fresh). */
export function freshOf(entry: FreshTask): Fresh {
  return { key: entry[3] as Digest, outputsDigest: entry[4] as Digest, layer: entry[5] as Digest | null, exitCode: entry[6], log: entry[7] ?? [] };
}

/** Whether every one of the task's deps is in `done`. */
function depsIn(task: GraphTask, done: ReadonlyMap<string, unknown>): boolean {
  for (const dep of task.deps) if (!done.has(dep)) return false;
  return true;
}

/**
 * The graph's tasks the record shows fresh, in graph order: an entry that
 * holds by `pass` (in this graph: see covered-outputs.ts), with every dep
 * fresh. With `whole`, undefined as soon as
 * one task is not (the no-op needs them all). `since`: the build of these
 * definitions the record names, if it does: entries it or an earlier build
 * made have the tasks' definitions (see the header).
 */
function freshTasks(view: RecordView, pass: StatPass, defs: GraphDefinitions, since: number | undefined, whole: boolean): Map<string, Fresh> | undefined {
  const fresh = new Map<string, Fresh>();
  const outputs = new Map<string, Digest>();
  const entries = view.record.tasks;
  // A record's entries are in the graph order of the build that wrote it: each is first looked for where the last one left off.
  let next = 0;
  for (const task of defs.graph.tasks.values()) {
    if (depsIn(task, outputs)) {
      if (task.run === undefined) {
        outputs.set(task.name, groupOutputsDigest(task, outputs));
        continue;
      }
      const guess = entries[next];
      const entry = !task.pure || receivesComputedContext(task) ? undefined : guess?.[0] === task.name ? entries[next++] : view.task(task.name);
      if (
        entry !== undefined &&
        entry[8] === null &&
        sameDeps(entry, task, outputs) &&
        coverHolds(entry[13], task.name, defs.graph.tasks) &&
        (since === undefined || entry[12] > since ? entry[1] === defs.of(task) : true) &&
        !statsChanged(pass, entry)
      ) {
        outputs.set(task.name, entry[4] as Digest);
        fresh.set(task.name, freshOf(entry));
        continue;
      }
    }
    if (whole) return undefined;
  }
  return fresh;
}

export interface FreshRecordsOptions {
  /**
   * Keep the records builds make in memory and write them when
   * `writeDeferred` is called, when the process is idle (the daemon):
   * stringifying and writing the record (1 MB for 1,000 tasks) took 15-20 ms
   * of the end of every build. The process's own next build uses it from
   * memory. Until it is written, another rbuild finds the record before it,
   * which is still right: an entry only vouches for what its stats show
   * unchanged, and what the later build rebuilt has other stats. A deferred
   * record is dropped unwritten once anything else may have changed the
   * record: another taking of the build lock than this process's next
   * build, or another record file.
   */
  readonly deferWrites?: boolean;
  /** A thread to share stat passes with (the daemon's). */
  readonly statHelper?: StatHelper;
}

/** A record made but not written yet (see deferWrites). */
interface Unwritten {
  readonly storeDir: string;
  readonly view: RecordView;
  /** The build lock's generation it was made under (carried on by `carry`). */
  generation: number | undefined;
  /** Which file the record on disk was then (see freshRecordFileId). */
  readonly file: string;
}

function unwrittenKey(storeDir: string, root: string): string {
  return `${storeDir}\0${root}`;
}

/** Whether the deferred record still stands: nothing else took the build lock or touched the record file since. */
function stillStands(pending: Unwritten): boolean {
  return (
    pending.generation !== undefined &&
    lockGeneration(pending.storeDir) === pending.generation &&
    freshRecordFileId(pending.storeDir, pending.view.record.root) === pending.file
  );
}

/**
 * The freshness records of one engine: what it last read or wrote, and (in
 * the daemon) the records not written yet. An engine for one build starts
 * empty and reads the record from disk; the daemon's lives for all its builds.
 */
export class FreshRecords {
  readonly #deferring: boolean;
  readonly #statHelper: StatHelper | undefined;
  /** By unwrittenKey. */
  readonly #unwritten = new Map<string, Unwritten>();
  /**
   * The last record read or written, with the file it was read from or
   * written to (see freshRecordFileId; undefined: not written yet). A build
   * that is not a no-op reads the record twice (the no-op check, then under
   * the lock), and a daemon's next build reads the one its last build wrote:
   * while the file is the same one (a write is a rename, a new inode), reading
   * and parsing it again (1 MB for 1,000 tasks) would give the same record.
   */
  #last: { readonly key: string; readonly file: string | undefined; readonly view: RecordView } | undefined;
  /** The definitions of the graph object last checked. */
  #lastDefinitions: GraphDefinitions | undefined;
  /** A stat pass started before it was asked for: see prestat. */
  #prestarted: { readonly record: FreshRecord; readonly generation: number | undefined; readonly job: StatJob } | undefined;

  constructor(options: FreshRecordsOptions = {}) {
    this.#deferring = options.deferWrites ?? false;
    this.#statHelper = options.statHelper;
  }

  /** The record of the workspace at `root` as it stands: this process's deferred one, or the file. */
  read(storeDir: string, root: string): RecordView | undefined {
    const key = unwrittenKey(storeDir, root);
    const pending = this.#unwritten.get(key);
    if (pending !== undefined && stillStands(pending)) return pending.view;
    this.#unwritten.delete(key);
    // Which file it is, before it is read: if it is replaced meanwhile, the next read sees another file and reads it.
    const file = freshRecordFileId(storeDir, root);
    if (this.#last !== undefined && this.#last.key === key && this.#last.file === file) return this.#last.view;
    const text = readFreshRecord(storeDir, root);
    const record = text === undefined ? undefined : parseFreshRecord(text, root);
    if (record === undefined) return undefined;
    const view = new RecordView(record);
    this.#last = { key, file, view };
    return view;
  }

  /**
   * Whether the record shows the build of `graph` is a no-op (`upToDate`
   * undefined means "check the full way"). Every entry is statted even after
   * a change: a build that is not a no-op needs them all (`partly`).
   */
  check(storeDir: string, graph: Graph, env: Env, platform = hostPlatform()): FreshCheck {
    const view = this.read(storeDir, graph.root);
    if (view === undefined) return { upToDate: undefined, pass: undefined };
    const pass = this.#statPass(storeDir, graph.root, view.record);
    const defs = this.#definitions(graph, env, platform);
    const build = lastBuild(view, defs);
    if (build === undefined) return { upToDate: undefined, pass };
    const results = freshTasks(view, pass, defs, build, true);
    return { upToDate: results === undefined ? undefined : { build, results }, pass };
  }

  /**
   * The tasks of `graph` that `base` (the record as read under the build
   * lock) shows still fresh although others are not. `earlier`, the stat pass
   * of `check`, is used when the record is still the one it read and no other
   * rbuild took the lock since (the lock's generation then is the one taking
   * it found); otherwise every entry is statted again.
   */
  partly(
    storeDir: string,
    base: RecordView | undefined,
    graph: Graph,
    env: Env,
    platform = hostPlatform(),
    earlier?: { readonly pass: StatPass | undefined; readonly lockFound: number | undefined },
  ): ReadonlyMap<string, Fresh> {
    if (base === undefined) return new Map();
    const pass = earlier?.pass;
    const reuse = pass !== undefined && pass.record === base.record && pass.generation !== undefined && pass.generation === earlier?.lockFound;
    const defs = this.#definitions(graph, env, platform);
    return freshTasks(base, reuse ? pass : this.#statPass(storeDir, graph.root, base.record), defs, lastBuild(base, defs), false)!;
  }

  /** Merges a build's changes into `base`, the record it read under the build lock, and writes the result (or defers it). */
  write(storeDir: string, base: RecordView | undefined, change: RecordChange): void {
    const view = new RecordView(mergeRecord(base?.record, change));
    if (this.#deferring) {
      // Under the build lock: its generation is this build's.
      const file = freshRecordFileId(storeDir, change.root);
      this.#unwritten.set(unwrittenKey(storeDir, change.root), { storeDir, view, generation: lockGeneration(storeDir), file });
      this.#last = { key: unwrittenKey(storeDir, change.root), file: undefined, view };
      return;
    }
    writeFreshRecord(storeDir, view.record);
    this.#last = { key: unwrittenKey(storeDir, change.root), file: freshRecordFileId(storeDir, change.root), view };
  }

  /** Writes the records deferred so far that still stand; drops the others. */
  writeDeferred(): void {
    for (const [key, pending] of this.#unwritten) {
      this.#unwritten.delete(key);
      if (!stillStands(pending)) continue;
      writeFreshRecord(pending.storeDir, pending.view.record);
      if (this.#last?.view === pending.view) this.#last = { key, file: freshRecordFileId(pending.storeDir, pending.view.record.root), view: pending.view };
    }
  }

  /**
   * This engine took the build lock of `storeDir`, finding it at
   * `previousGeneration`: the records it deferred under exactly that
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
   * In the daemon, as a build is asked for: starts the stat pass of the
   * record its last build read or wrote on the stat helper thread, while the
   * main thread loads the Buildfile (about 15 ms that the pass would otherwise
   * follow). The build's stat pass joins it when the record it checks is that
   * one, and drops it otherwise. Its stats are taken after the request, as the
   * pass would take them; a file the Buildfile itself writes while it is
   * loaded may be seen unchanged until the next build.
   */
  prestat(storeDir: string, root: string): void {
    this.#prestarted?.job.cancel();
    this.#prestarted = undefined;
    const record = this.#last?.view.record;
    if (record === undefined || record.root !== root || this.#statHelper?.running !== true) return;
    const generation = lockGeneration(storeDir);
    this.#prestarted = { record, generation, job: statJob(root, record, this.#statHelper) };
  }

  /** The graph's definitions digest (see definitionsDigest), as a build records it. */
  definitionsDigest(graph: Graph, env: Env, platform: string): string {
    return this.#definitions(graph, env, platform).digest;
  }

  /** The definitions of `graph`, kept for the last graph object. */
  #definitions(graph: Graph, env: Env, platform: string): GraphDefinitions {
    const last = this.#lastDefinitions;
    if (last !== undefined && last.graph === graph && last.env === env && last.platform === platform) return last;
    return (this.#lastDefinitions = new GraphDefinitions(graph, env, platform));
  }

  #statPass(storeDir: string, root: string, record: FreshRecord): StatPass {
    const early = this.#prestarted;
    this.#prestarted = undefined;
    if (early !== undefined && early.record === record) return finishPass(record, early.generation, early.job);
    early?.job.cancel();
    const generation = lockGeneration(storeDir);
    return finishPass(record, generation, statJob(root, record, this.#statHelper));
  }
}
