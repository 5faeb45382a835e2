/**
 * The cache step of a task: its key, a lookup in the local store, restoring
 * a hit, and storing what a miss produced. The store hands back what it has;
 * this module decides what it means for the workspace.
 *
 * - Inputs are hashed when the task is about to run, after its deps: a dep may
 *   write them.
 * - A hit restores only the outputs that differ from the layer (missing,
 *   edited, wrong mode), so a no-op reads no blob at all.
 * - A miss first clears the task's declared outputs, so nothing stale from an
 *   earlier run ends up in the new layer.
 * - Anything not fully known is never cached: a failed task stores nothing.
 */
import { chmodSync, lstatSync, readlinkSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import type { TaskFailure } from "@rbuild/core";
import { digestBytes, expandGlobs, FileHasher, globCrossings, globMatcher, isDirectoryLink, linkTarget, statFollowing, type Digest, type LinkCrossing } from "@rbuild/hash";
import { changedInputs, decodeRecord, encodeRecord, explainChange, keyOfEncoded, type Graph, type GraphTask, type KeyRecord } from "@rbuild/planner";
import { FreshRecords, RecordView, freshOf, succeededOf, targetsKey } from "./fresh-record.js";
import { ImageCatalog } from "./image-catalog.js";
import type { InputWarmer } from "./input-warmer.js";
import { clearOutputs, expandOpeningUp } from "./clear-outputs.js";
import { writtenDuring, type CommandWindow } from "./recent-writes.js";
import { inputChangedWhileRunning } from "./inputs-changed.js";
import { entryStat, fileStat, hostPlatform, outputStats, taskDefinition, trustedEntry, type EntryStat, type Fresh, type FileStat, type NewEntry, type Succeeded, type TaskDefinition } from "./fresh-entry.js";
import { firstUncovered, layersOf, removeBeyond, transformBases } from "./transform-base.js";
import {
  extractStack,
  INLINE_BLOB_LIMIT,
  layerDifference,
  scanOutputs,
  INLINE_LOG_LIMIT,
  manifestDigest,
  writeLayer,
  type ActionEntry,
  type BlobRow,
  type LogLine,
  type ManifestEntry,
  type Store,
  type WrittenLayer,
} from "@rbuild/store";

export interface CacheOptions {
  readonly store: Store;
  /** Run every task, ignoring cached results (results are still stored). */
  readonly force?: boolean;
  /** Part of every key; defaults to this machine's os and architecture. */
  readonly platform?: string;
  /** The freshness records (the engine's); without them, records of its own. */
  readonly records?: FreshRecords;
  /** The freshness record as the caller read it under the build lock; without it, read when first needed. */
  readonly base?: { readonly view: RecordView | undefined };
  /** The build's container images (the executor's); without it, a catalog of its own. */
  readonly images?: ImageCatalog;
}

/** What the cache step knows about a task before it runs. */
export interface Prepared {
  readonly record: KeyRecord;
  /** The record's canonical encoding: what is hashed into the key and stored to explain the next miss. */
  readonly encoded: string;
  readonly key: Digest;
  /** For the task's freshness entry: its definition digest, and the stats of its inputs and listed directories. */
  readonly def: string;
  readonly files: readonly FileStat[];
  readonly dirs: readonly EntryStat[];
  /** Inputs whose names are not UTF-8 (see expandGlobs): the task is refused rather than keyed without them. */
  readonly undecodable: readonly string[];
  /** A container task whose image cannot be found or read: the task fails with it, before anything is cleared or restored. */
  readonly imageFailure?: Extract<TaskFailure, { reason: "spawn-failed" }>;
  /** The first glob the symlink rule refuses (see symlink-rule.ts in @rbuild/hash): the task fails with it, before anything is cleared or restored. */
  readonly throughLink?: Extract<TaskFailure, { reason: "through-symlink" }>;
}

export type Restored =
  | { hit: true; entry: ActionEntry; log: readonly LogLine[] }
  | { hit: false; reasons: string[] };

export interface Captured {
  /** Set when the outputs could not be stored (nothing was): the task fails with it. */
  readonly refused?: TaskFailure;
  readonly outputsDigest: Digest;
  readonly layer: Digest | null;
  /** The stored action, for a pure task (what the remote cache gets). */
  readonly entry?: ActionEntry;
  /** The digest of the task's log, null when it said nothing (see @rbuild/store RunRow.log). */
  readonly log: Digest | null;
}

/** When a task's command ran, and the tasks whose commands ran at some time during it. */
export interface CommandRun extends CommandWindow {
  readonly beside: readonly string[];
}

/** A cap on the log kept per task, so a runaway task cannot fill the store. */
const MAX_LOG_BYTES = 8 * 1024 * 1024;

/**
 * Fewer tasks with inputs than this, and a fresh workspace's inputs are hashed
 * on the main thread alone: starting the helper thread and loading its modules
 * costs 30-40 ms of the other core, which a few hundred files do not repay.
 */
const WARM_MIN_TASKS = 100;

export class TaskCache {
  readonly store: Store;
  readonly force: boolean;
  readonly #root: string;
  readonly #sourceDigest: string;
  readonly #tasks: ReadonlyMap<string, GraphTask>;
  readonly #platform: string;
  readonly #records: FreshRecords;
  #base: { readonly view: RecordView | undefined } | undefined;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #hasher: FileHasher;
  readonly #ignore: string[];
  readonly #info: (code: string, message: string) => void;
  readonly #images: ImageCatalog;
  /** What the tasks that succeeded leave for their freshness entries, made at the end of the build. */
  readonly #succeeded = new Map<string, Succeeded>();
  /** Input globs already warned about in this build: one shared by many tasks (a root file, or the same glob in each task's directory) is named once. */
  readonly #unmatchedWarned = new Set<string>();
  /** Tasks checked the full way (keyed): their old entries go unless they succeeded with a trusted one. */
  readonly #prepared = new Set<string>();
  /** The key of each task's result in this build (up to date, restored or stored): what a transform of it starts from. */
  readonly #keys = new Map<string, Digest>();
  /** Transforms' deps taken up to date in this build: a transform of theirs that ran or was restored may have taken over more of their outputs. */
  readonly #adoptedBases = new Set<string>();
  /** The tasks a transform starts from (see transform-base.ts): up to date only while their stored result is there. */
  readonly #transformBases: ReadonlyMap<string, readonly string[]>;
  #warmer: InputWarmer | undefined;
  #warmingStopped = false;
  #warmed = 0;

  constructor(
    graph: Pick<Graph, "root" | "sourceDigest" | "tasks">,
    options: CacheOptions,
    env: Readonly<Record<string, string | undefined>>,
    info: (code: string, message: string) => void,
  ) {
    this.store = options.store;
    this.force = options.force ?? false;
    this.#root = graph.root;
    this.#sourceDigest = graph.sourceDigest;
    this.#tasks = graph.tasks;
    this.#transformBases = transformBases(graph.tasks);
    this.#platform = options.platform ?? hostPlatform();
    this.#records = options.records ?? new FreshRecords();
    this.#base = options.base;
    this.#env = env;
    this.#hasher = new FileHasher(graph.root, options.store, options.store.trustBefore);
    this.#info = info;
    this.#images = options.images ?? new ImageCatalog(graph.root, this.#hasher);
    // A store directory inside the workspace is never an input or output.
    const relativeStore = options.store.dir.startsWith(`${graph.root}/`) ? options.store.dir.slice(graph.root.length + 1) : undefined;
    this.#ignore = relativeStore === undefined ? [] : [`${relativeStore}/**`];
  }

  #definition(task: GraphTask): TaskDefinition {
    return taskDefinition(task, this.#sourceDigest, this.#env, this.#platform);
  }

  /** The freshness record this build started from (under the build lock: it cannot change under it). */
  #record(): RecordView | undefined {
    this.#base ??= { view: this.#records.read(this.store.dir, this.#root) };
    return this.#base.view;
  }

  /**
   * The task's last result, if its freshness entry still holds: same
   * definition, same deps' outputs, and no stat changed. Replays nothing and
   * restores nothing: the workspace already holds exactly those outputs.
   */
  fresh(task: GraphTask, depOutputs: ReadonlyMap<string, Digest>): Fresh | undefined {
    const entry = this.#record()?.holding(this.#root, task, this.#definition(task).def, depOutputs, this.#tasks);
    if (entry === undefined) return undefined;
    const found = freshOf(entry);
    if (!this.#keepsResult(task.name, found)) return undefined;
    const log = this.store.readLog({ log: entry[7], logBlob: entry[8] as Digest | null });
    if (log === "missing" || log === "corrupt") return undefined;
    this.store.touch(found.key);
    this.#keys.set(task.name, found.key);
    return { ...found, log };
  }

  /** Whether the task `name` up to date as `fresh` can stay so: a transform's dep also needs its stored result (see transform-base.ts). */
  #keepsResult(name: string, fresh: Pick<Fresh, "key">): boolean {
    return !this.#transformBases.has(name) || this.store.lookup(fresh.key) !== undefined;
  }

  /**
   * `upToDate` (from FreshRecords.partly) without the transforms' deps whose
   * stored result is gone while a transform of theirs is not up to date (it
   * starts from that result): they are checked the full way. Until none is
   * left: a step of a chain taken out is a transform that starts from the
   * step before it.
   */
  usable<T extends Pick<Fresh, "key">>(upToDate: ReadonlyMap<string, T>): ReadonlyMap<string, T> {
    let usable = upToDate;
    for (;;) {
      const now = usable;
      const gone = [...now].filter(([name, fresh]) => this.#startedFrom(name, now) && !this.#keepsResult(name, fresh));
      if (gone.length === 0) return now;
      const kept = new Map(now);
      for (const [name] of gone) kept.delete(name);
      usable = kept;
    }
  }

  /** Whether some transform of `name` in this build is not in `upToDate`: it will start from `name`'s stored result. */
  #startedFrom(name: string, upToDate: ReadonlyMap<string, unknown>): boolean {
    return this.#transformBases.get(name)?.some((transform) => !upToDate.has(transform)) ?? false;
  }

  /**
   * Takes task `name`, which the freshness record showed up to date (see
   * FreshRecords.partly): its action counts as used, and is what a transform
   * of it that runs starts from.
   */
  adopt(name: string, fresh: Fresh): void {
    this.store.touch(fresh.key);
    this.#keys.set(name, fresh.key);
    if (this.#transformBases.has(name)) this.#adoptedBases.add(name);
  }

  /**
   * At the end of the build, under the build lock: makes the freshness
   * entries of the tasks that succeeded, each only if its stats can vouch
   * for it (the racily-clean rule, trustedEntry), drops those of the other
   * tasks checked the full way, and merges that into the record the build
   * started from (see fresh-record.ts). A build that failed no longer names
   * a build of its targets: the next one is not a no-op.
   */
  recordFreshness(graph: Graph, build: number, ok: boolean): void {
    const made = new Map<string, NewEntry>();
    if (this.#succeeded.size > 0) {
      const end = this.store.fsClock();
      for (const [name, done] of this.#succeeded) {
        // A transform of it that ran or was restored here took over what it rewrote or deleted (see covered-outputs.ts).
        const transform = this.#transformBases.get(name)?.find((by) => this.#succeeded.has(by));
        const entry = trustedEntry(this.#root, done, this.store.trustBefore, end, transform);
        if (entry !== undefined) made.set(name, entry);
      }
      for (const name of this.#adoptedBases) {
        const entry = this.#tookOverMore(name, end);
        if (entry !== undefined) made.set(name, entry);
      }
    }
    const drop = new Set([...this.#prepared].filter((name) => !made.has(name)));
    this.#records.write(this.store.dir, this.#record(), {
      root: this.#root,
      set: made,
      drop,
      order: [...graph.tasks.keys()],
      targets: targetsKey(graph),
      build: { id: build, ok, definitions: this.#records.definitionsDigest(graph, this.#env, this.#platform) },
    });
    this.#succeeded.clear();
    this.#prepared.clear();
    this.#adoptedBases.clear();
  }

  /**
   * The entry of `name`, a transform's dep that was up to date in this build,
   * made again when its transform then ran or was restored and rewrote some of
   * the outputs the entry still has stats of: those are left to the transform
   * too (see covered-outputs.ts), or the entry would not hold next time and
   * the dep would be restored for nothing. Undefined: the entry stays as it is.
   */
  #tookOverMore(name: string, end: number): NewEntry | undefined {
    const transform = this.#transformBases.get(name)?.find((by) => this.#succeeded.has(by));
    const old = transform === undefined ? undefined : this.#record()?.task(name);
    if (old === undefined || this.#succeeded.has(name) || (old[13] !== null && old[13][0] !== transform)) return undefined;
    const { done, covered } = succeededOf(this.#record()!.record, old);
    const entry = trustedEntry(this.#root, done, this.store.trustBefore, end, transform);
    if (entry === undefined || entry.covered === null) return undefined;
    return { ...entry, covered: [entry.covered[0], [...covered, ...entry.covered[1]]] };
  }

  /**
   * In a workspace whose stat cache is empty, starts hashing the inputs of
   * `graph`'s tasks on a helper thread (see input-warmer.ts), in the order
   * the build is likely to reach them: by depth, then by priority.
   */
  async warmInputs(graph: Graph): Promise<void> {
    if (!this.store.statCacheEmpty()) return;
    const depth = new Map<string, number>();
    const tasks: GraphTask[] = [];
    for (const task of graph.tasks.values()) {
      depth.set(task.name, task.deps.reduce((deepest, dep) => Math.max(deepest, depth.get(dep)! + 1), 0));
      if (task.run !== undefined && task.inputs.length > 0) tasks.push(task);
    }
    if (tasks.length < WARM_MIN_TASKS) return;
    tasks.sort((a, b) => depth.get(a.name)! - depth.get(b.name)! || b.priority - a.priority);
    const { InputWarmer } = await import("./input-warmer.js");
    if (this.#warmingStopped) return;
    const job = { root: this.#root, inputs: tasks.map((task) => task.inputs), ignore: this.#ignore, trustBefore: this.store.trustBefore };
    this.#warmer = new InputWarmer(job, (path, state) => {
      this.#warmed++;
      this.store.set(path, state);
    });
  }

  /** The build's container images, identified through this cache's stat cache (see image-catalog.ts). */
  get images(): ImageCatalog {
    return this.#images;
  }

  /** Input files read and hashed in this build: by the main thread, and by the helper thread. */
  get inputsHashed(): { readonly here: number; readonly helper: number } {
    return { here: this.#hasher.filesHashed, helper: this.#warmed };
  }

  /** Ends the helper thread, if there is one. */
  stopWarming(): void {
    this.#warmingStopped = true;
    this.#warmer?.stop();
    this.#warmer = undefined;
  }

  /** The key of a task whose deps are done, from its inputs as they are now, with the context values it receives ([name, from, value]). */
  prepare(task: GraphTask, depOutputs: ReadonlyMap<string, Digest>, context: readonly (readonly [string, string, string])[] = []): Prepared {
    this.#prepared.add(task.name);
    const visited = new Set<string>();
    const undecodable: string[] = [];
    const unmatched: string[] = [];
    const inputs: [string, Digest][] = [];
    const files: FileStat[] = [];
    const crossings: LinkCrossing[] = [];
    let linkedDirectory: string | undefined;
    let linkLoop: string | undefined;
    for (const path of expandGlobs(this.#root, task.inputs, { ignore: this.#ignore, visited, undecodable, unmatched, crossings, passedLinks: crossings })) {
      const followed = statFollowing(join(this.#root, path));
      // A link loop reaches no file: the symlink rule refuses the task (see #throughLink).
      if (followed === "loop") {
        linkLoop ??= path;
        continue;
      }
      const stat = followed;
      // A link to nothing (yet) is not in the key, but its target may appear without a stat of the link or
      // its directory changing: a stat that matches no file keeps its entry from ever vouching for it.
      if (stat === undefined) files.push([path, -1, -1, -1, -1]);
      // A link to a directory: its files are not in the key (the symlink rule refuses it).
      if (linkedDirectory === undefined && stat?.isDirectory() === true && isDirectoryLink(this.#root, path, stat)) linkedDirectory = path;
      if (stat === undefined || !stat.isFile()) continue;
      inputs.push([path, this.#hasher.digestWithStat(path, stat)]);
      files.push(fileStat(path, stat));
    }
    for (const glob of unmatched) {
      // A glob below the task's directory is named once as written there: scripts() gives every package's task
      // the same `inputs` (turbo's, present in some packages only), one warning for all of them.
      const inDir = task.cwd !== "" && glob.startsWith(`${task.cwd}/`) ? glob.slice(task.cwd.length + 1) : undefined;
      const id = inDir === undefined ? glob : `\0${inDir}`;
      if (this.#unmatchedWarned.has(id)) continue;
      this.#unmatchedWarned.add(id);
      const others = inDir === undefined ? "" : `; "${inDir}" in other tasks' directories is not named again`;
      this.#info("inputs-unmatched", `task "${task.name}": its input glob "${glob}" matches no file (globs are relative to the Buildfile's directory); fix or remove it${others}`);
    }
    const dirs: EntryStat[] = [];
    for (const dir of visited) {
      const stat = statSync(join(this.#root, dir), { throwIfNoEntry: false });
      if (stat !== undefined) dirs.push(entryStat(dir, stat));
    }
    const { run, env, def } = this.#definition(task);
    // A container task's image: its digest is in the key, and the files it was read from in the freshness entry.
    // A root filesystem directory's directories were listed, not read: with the listed ones (a file that is a
    // directory is one that went, to the check of inputs changed while it ran, and the task would never be cached).
    const image = this.#images.of(task);
    if (image?.ok === true) {
      for (const file of image.image.files) {
        const stat = statSync(file, { throwIfNoEntry: false });
        if (stat?.isDirectory() === true) dirs.push(entryStat(relative(this.#root, file), stat));
        else if (stat !== undefined) files.push(fileStat(relative(this.#root, file), stat));
      }
    }
    const record: KeyRecord = {
      task: task.name,
      run,
      cwd: task.cwd,
      env,
      inputs,
      outputs: task.outputs,
      deps: task.deps.map((dep) => [dep, depOutputs.get(dep)!] as const),
      platform: this.#platform,
      keyParts: task.keyParts,
      context,
      ...(task.transform === undefined ? {} : { transform: task.transform }),
      ...(image?.ok === true ? { image: image.image.digest } : {}),
    };
    const encoded = encodeRecord(record);
    const throughLink = this.#throughLink(task, crossings, linkedDirectory, linkLoop);
    const imageFailure = image?.ok === false ? ({ reason: "spawn-failed", task: task.name, message: image.message } as const) : undefined;
    return {
      record,
      encoded,
      key: keyOfEncoded(encoded),
      def,
      files,
      dirs,
      undecodable,
      ...(throughLink === undefined ? {} : { throughLink }),
      ...(imageFailure === undefined ? {} : { imageFailure }),
    };
  }

  /**
   * The symlink rule's refusal of a task, if any: an input glob through a link, matching a link to a directory
   * or a link loop, or an output glob through a link.
   */
  #throughLink(task: GraphTask, inputCrossings: readonly LinkCrossing[], linkedDirectory: string | undefined, linkLoop: string | undefined): Prepared["throughLink"] {
    const refusal = (field: "inputs" | "outputs", crossing: LinkCrossing): NonNullable<Prepared["throughLink"]> => ({ reason: "through-symlink", task: task.name, field, ...crossing });
    if (inputCrossings.length > 0) return refusal("inputs", inputCrossings[0]!);
    const matched = (link: string, kind: "matched" | "loop"): NonNullable<Prepared["throughLink"]> => {
      const glob = task.inputs.find((pattern) => !pattern.startsWith("!") && globMatcher([pattern])(link)) ?? task.inputs[0]!;
      return refusal("inputs", { glob, link, target: linkTarget(this.#root, link), kind });
    };
    if (linkedDirectory !== undefined) return matched(linkedDirectory, "matched");
    if (linkLoop !== undefined) return matched(linkLoop, "loop");
    const outputCrossing = globCrossings(this.#root, task.outputs)[0];
    return outputCrossing === undefined ? undefined : refusal("outputs", outputCrossing);
  }

  /** Why a task that is not restored from the cache runs, by comparing with its last record. */
  explain(task: GraphTask, prepared: Prepared): string[] {
    if (task.stubbed === true) return ["stubbed"];
    if (!task.pure) return ["impure"];
    if (this.force) return ["forced"];
    const previous = this.store.taskState(task.name);
    if (previous === undefined) return ["no-record"];
    if (previous.key === prepared.key) return [previous.ok ? "not-in-cache" : "previous-run-failed"];
    const before = decodeRecord(previous.record);
    if (before === undefined) return ["no-record"];
    const reasons = explainChange(before, prepared.record);
    return reasons.length > 0 ? reasons : ["key-changed"];
  }

  /**
   * The input paths that changed since the task's recorded key, for the
   * history's evidence (see @rbuild/store `run_evidence`). Read before the
   * task's state is replaced; none with no record or the same key.
   */
  changedInputs(task: GraphTask, prepared: Prepared): string[] {
    const previous = this.store.taskState(task.name);
    if (previous === undefined || previous.key === prepared.key) return [];
    const before = decodeRecord(previous.record);
    return before === undefined ? [] : changedInputs(before, prepared.record);
  }

  /** Looks the key up and, on a hit, puts back whatever outputs differ from the stored layer. */
  /**
   * A miss is answered at once, not through a promise: the task's command
   * then starts in the same turn of the event loop (see Build.#runTask).
   */
  restore(task: GraphTask, prepared: Prepared): Restored | Promise<Restored> {
    const entry = this.store.lookup(prepared.key);
    if (entry === undefined) return { hit: false, reasons: this.explain(task, prepared) };
    return this.#restoreEntry(task, prepared, entry);
  }

  async #restoreEntry(task: GraphTask, prepared: Prepared, entry: ActionEntry): Promise<Restored> {
    const log = this.store.readLog(entry);
    if (log === "missing" || log === "corrupt") return this.#damaged(task, prepared, `its stored log is ${log}`);
    // A transform's deletions are part of what it did: what its outputs match beyond its manifest goes. So does what
    // a transform of the task added, when it took the task's outputs over (see covered-outputs.ts).
    if (task.transform !== undefined || this.#tookOver(task.name)) removeBeyond(this.#root, task.outputs, this.#ignore, entry.manifest);
    const problem = await this.#restoreLayers(entry);
    if (problem !== undefined) return this.#damaged(task, prepared, problem);
    this.#keys.set(task.name, prepared.key);
    this.#succeed(task, prepared, entry, entry.manifest.map((e) => e.path));
    const previous = this.store.taskState(task.name);
    if (previous?.key !== prepared.key || !previous.ok) {
      this.store.setTaskState(task.name, { key: prepared.key, record: prepared.encoded, ok: true, ranReasons: previous?.ranReasons ?? [] });
    }
    return { hit: true, entry, log };
  }

  /** Whether the task's freshness entry says a transform of it took its outputs over: the workspace may hold what that transform added. */
  #tookOver(name: string): boolean {
    return (this.#record()?.task(name)?.[13] ?? null) !== null;
  }

  /** Puts back the outputs of `entry` that differ from the workspace, from its layer stack; what is wrong, if it cannot. */
  async #restoreLayers(entry: ActionEntry): Promise<string | undefined> {
    const wanted = entry.manifest.filter((e) => !this.#matchesWorkspace(e));
    if (wanted.length === 0) return undefined;
    const digests = layersOf(entry);
    if (digests.length === 0) return "it lists outputs but has no layer";
    const layers: (string | Buffer)[] = [];
    for (const digest of digests) {
      const read = this.store.readLayer(digest);
      if (read.check !== "ok") return `its layer blob ${digest === entry.layer ? "" : `${digest} (below its own) `}is ${read.check}`;
      layers.push(read.layer);
    }
    const result = await extractStack(layers, this.#root, wanted);
    return result.ok ? undefined : result.problem;
  }

  /** The stored result of the task a transform starts from, in this build. */
  #transformBase(task: GraphTask): ActionEntry | undefined {
    const key = task.transform === undefined ? undefined : this.#keys.get(task.transform);
    return key === undefined ? undefined : this.store.lookup(key);
  }

  /**
   * Readies a task's output area before it runs: clears it (see clearOutputs),
   * or for a transform, makes it a copy of its dep's outputs (see
   * transform-base.ts). A transform that cannot start fails with the failure returned.
   */
  startOutputs(task: GraphTask, prepared: Prepared): TaskFailure | undefined | Promise<TaskFailure | undefined> {
    // Answered at once for any other task, so that its command starts in this turn (see restore).
    if (task.transform === undefined) {
      this.clearOutputs(task, prepared);
      return undefined;
    }
    return this.#startFromBase(task, task.transform);
  }

  async #startFromBase(task: GraphTask, dep: string): Promise<TaskFailure | undefined> {
    const failure = (message: string): TaskFailure => ({ reason: "transform-base", task: task.name, dep, message });
    const base = this.#transformBase(task);
    if (base === undefined) return failure(`rbuild has no stored result of "${dep}" in this build (it was removed from the cache); run the build again with --force`);
    const uncovered = firstUncovered(base.manifest, globMatcher(task.outputs));
    if (uncovered !== undefined) {
      return failure(`its outputs do not match ${uncovered}, an output of "${dep}": a transform works on its dep's outputs, so its \`outputs\` globs must match every one of them. Add a glob for it`);
    }
    removeBeyond(this.#root, task.outputs, this.#ignore, base.manifest);
    const problem = await this.#restoreLayers(base);
    return problem === undefined ? undefined : failure(`its stored outputs could not be restored (${problem}); run the build again with --force`);
  }

  #damaged(task: GraphTask, prepared: Prepared, problem: string): Restored {
    this.store.dropAction(prepared.key);
    this.#info("cache-corrupt", `the cached result of task "${task.name}" was dropped: ${problem}; running it again`);
    return { hit: false, reasons: ["cache-corrupt"] };
  }

  /** Whether the workspace holds `entry` as stored. One that cannot be looked at (below a directory of mode 000, a file of mode 000, or a file) does not: it is restored. */
  #matchesWorkspace(entry: ManifestEntry): boolean {
    const full = join(this.#root, entry.path);
    try {
      const stat = lstatSync(full, { throwIfNoEntry: false });
      if (stat === undefined) return false;
      switch (entry.type) {
        case "dir":
          return stat.isDirectory() && (stat.mode & 0o7777) === entry.mode;
        case "symlink":
          return stat.isSymbolicLink() && readlinkSync(full) === entry.target;
        case "file":
          return stat.isFile() && (stat.mode & 0o7777) === entry.mode && this.#hasher.digestWithStat(entry.path, stat) === entry.digest;
      }
    } catch (error) {
      // Below a file (a transform replaced a directory with one): not there.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EACCES" || code === "ENOTDIR") return false;
      throw error;
    }
  }

  /**
   * Warns that a task's declared outputs matched nothing after it ran, saying
   * what it wrote instead: the files in its directory changed while its command
   * ran, less the declared outputs of the other tasks. When other commands ran
   * meanwhile, they may have written some of them too, and the warning says so.
   */
  #noOutputs(task: GraphTask, run: CommandRun): void {
    const others = [...this.#tasks.values()].filter((other) => other !== task && other.outputs.length > 0);
    // One matcher for all the tasks without a "!" glob; a task with one needs its own, so its exclusions stay its own.
    const matchers = [globMatcher([...this.#ignore, ...others.filter((other) => !other.outputs.some((glob) => glob.startsWith("!"))).flatMap((other) => other.outputs)])];
    for (const other of others) if (other.outputs.some((glob) => glob.startsWith("!"))) matchers.push(globMatcher(other.outputs));
    const wrote = writtenDuring(this.#root, join(this.#root, task.cwd), run, (path) => matchers.some((declared) => declared(path)));
    const list = `${wrote.files.join(", ")}${wrote.more > 0 ? ` and ${wrote.more} more` : ""}`;
    const instead =
      wrote.files.length === 0
        ? "it wrote no file in its directory either"
        : run.beside.length === 0
          ? `it wrote ${list}`
          : `files changed in its directory while it ran, beside ${besideTasks(run.beside)}: ${list}`;
    const globs = task.outputs.map((glob) => `"${glob}"`).join(", ");
    this.#info("outputs-unmatched", `task "${task.name}": its outputs ${globs} matched nothing after it ran (${instead}); a cache hit will restore nothing. Fix its \`outputs\``);
  }

  /** Removes what the task's outputs match before it runs (see clearOutputs). */
  clearOutputs(task: GraphTask, prepared: Prepared): void {
    clearOutputs(this.#root, task, this.#ignore, new Set(prepared.record.inputs.map(([path]) => path)));
  }

  /** Stores the outputs of a task that succeeded as a layer, and (for a pure task) its action. */
  capture(task: GraphTask, prepared: Prepared, log: readonly LogLine[], exitCode: number | null, durationMs: number, run: CommandRun): Captured {
    const undecodable: string[] = [];
    // A directory the task made unreadable to its own user (mode 000) is opened up to be read, and closed again after.
    const opened = new Map<string, number>();
    let written: WrittenLayer | undefined;
    let difference: { written: WrittenLayer; manifest: ManifestEntry[]; stack: Digest[] } | undefined;
    try {
      const unmatched: string[] = [];
      const crossings: LinkCrossing[] = [];
      const paths = expandOpeningUp(this.#root, task.outputs, { directories: true, ignore: this.#ignore, undecodable, unmatched, crossings }, opened);
      if (crossings.length > 0) {
        // A link the task itself made on the way to its outputs: nothing of them is stored (the symlink rule).
        return { refused: { reason: "through-symlink", task: task.name, field: "outputs", ...crossings[0]! }, outputsDigest: manifestDigest([]), layer: null, log: this.keepLog(log) };
      }
      if (undecodable.length > 0) {
        return { refused: { reason: "undecodable-path", task: task.name, field: "outputs", paths: undecodable }, outputsDigest: manifestDigest([]), layer: null, log: this.keepLog(log) };
      }
      // A stand-in (--stub) need not write what the task's own run does: nothing to warn about.
      if (task.stubbed === true) {
        // Nothing to say.
      } else if (paths.length === 0 && task.outputs.some((glob) => !glob.startsWith("!"))) this.#noOutputs(task, run);
      else {
        // Some globs matched: each one that did not is still a typo or an output the task no longer writes.
        for (const glob of unmatched) {
          this.#info("outputs-unmatched", `task "${task.name}": its output glob "${glob}" matched nothing after it ran; a cache hit will restore nothing for it. Fix its \`outputs\``);
        }
      }
      const dirModes = new Map([...opened].map(([full, mode]) => [full.slice(this.#root.length + 1), mode]));
      // A small layer never becomes a file: the index keeps it (see the store's schema).
      const base = this.#transformBase(task);
      if (base !== undefined) {
        difference = this.#writeDifference(paths, base, dirModes);
        written = difference.written;
      } else if (paths.length > 0) written = writeLayer(this.#root, paths, () => this.store.cas.tempPath(), INLINE_BLOB_LIMIT, dirModes);
      const loop = written?.entries.find((entry) => entry.type === "symlink" && statFollowing(join(this.#root, entry.path)) === "loop");
      if (loop !== undefined) {
        // A link loop could never be restored (it cannot be checked to stay inside the workspace): nothing is stored.
        if (written !== undefined && "file" in written) rmSync(written.file, { force: true });
        const glob = task.outputs.find((pattern) => !pattern.startsWith("!") && globMatcher([pattern])(loop.path)) ?? task.outputs[0]!;
        const crossing: LinkCrossing = { glob, link: loop.path, target: linkTarget(this.#root, loop.path), kind: "loop" };
        return { refused: { reason: "through-symlink", task: task.name, field: "outputs", ...crossing }, outputsDigest: manifestDigest([]), layer: null, log: this.keepLog(log) };
      }
    } catch (error) {
      const { code, path } = error as NodeJS.ErrnoException;
      // What cannot be opened up: a file it cannot read, or a directory another user owns.
      if ((code !== "EACCES" && code !== "EPERM") || path === undefined) throw error;
      return { refused: { reason: "unreadable-output", task: task.name, path: relative(this.#root, path) || path }, outputsDigest: manifestDigest([]), layer: null, log: this.keepLog(log) };
    } finally {
      for (const full of [...opened.keys()].sort().reverse()) chmodSync(full, opened.get(full)!);
    }
    let manifest: ManifestEntry[] = [];
    let layer: Digest | null = null;
    const blobs: BlobRow[] = [];
    if (written !== undefined) {
      if (written.skipped.length > 0) {
        this.#info("output-skipped", `task "${task.name}": not stored (not a file, directory or link): ${written.skipped.join(", ")}`);
      }
      if ("file" in written) {
        this.store.cas.commit(written.file, written.digest);
        blobs.push({ digest: written.digest, size: written.size });
      } else {
        blobs.push({ digest: written.digest, size: written.size, bytes: written.bytes });
      }
      manifest = difference?.manifest ?? written.entries;
      layer = written.digest;
    }
    const outputsDigest = manifestDigest(manifest);

    let inlineLog: readonly LogLine[] | null = log;
    let logBlob: Digest | null = null;
    const logText = JSON.stringify(log);
    const logBytes = log.length === 0 ? undefined : Buffer.from(logText);
    const logDigest = logBytes === undefined ? null : digestBytes(logBytes);
    // An impure task has no action to keep its log: the log is a blob the history names.
    if (logBytes !== undefined && (logText.length > INLINE_LOG_LIMIT || !task.pure)) {
      logBlob = logDigest;
      blobs.push(this.store.blobOf(logDigest!, logBytes));
      inlineLog = null;
    }

    const changed = task.pure ? inputChangedWhileRunning(this.#root, prepared.files, prepared.record.inputs, (path, stat) => this.#hasher.digestWithStat(path, stat)) : undefined;
    if (changed !== undefined) {
      this.#info("input-changed-while-running", `task "${task.name}": its input ${changed} changed while it ran, so its result is not cached (it runs again next time)`);
    } else if (task.pure) {
      const stack = difference === undefined || difference.stack.length === 0 ? {} : { stack: difference.stack };
      const entry: ActionEntry = { key: prepared.key, task: task.name, layer, ...stack, manifest, outputsDigest, log: inlineLog, logBlob, exitCode, durationMs };
      this.store.save(entry, blobs);
      this.#keys.set(task.name, prepared.key);
      this.#succeed(task, prepared, entry, manifest.map((e) => e.path));
      return { outputsDigest, layer, entry, log: logDigest };
    }
    if (blobs.length > 0) this.store.saveBlobs(blobs);
    return { outputsDigest, layer, log: logDigest };
  }

  /**
   * A transform's layer: what its outputs hold that `base`'s manifest does not
   * (added or changed), and whiteouts for what they no longer hold (see
   * diff-layer.ts in the store). Its manifest is still every output.
   */
  #writeDifference(paths: readonly string[], base: ActionEntry, dirModes: ReadonlyMap<string, number>): { written: WrittenLayer; manifest: ManifestEntry[]; stack: Digest[] } {
    const scanned = scanOutputs(this.#root, paths, dirModes);
    const { changed, deleted } = layerDifference(base.manifest, scanned.entries);
    const written = writeLayer(this.#root, changed, () => this.store.cas.tempPath(), INLINE_BLOB_LIMIT, dirModes, deleted);
    // What the layer holds is what it wrote (a file changed since the scan is stored as it is now).
    const stored = new Map(written.entries.map((e) => [e.path, e]));
    const differs = new Set(changed);
    const manifest = scanned.entries.filter((e) => !differs.has(e.path) || stored.has(e.path)).map((e) => stored.get(e.path) ?? e);
    return { written: { ...written, skipped: [...scanned.skipped, ...written.skipped] }, manifest, stack: layersOf(base) };
  }

  /**
   * Keeps the log of a run that failed as a blob, for `rbuild show` and the
   * error database; returns its digest, or null when the run said nothing.
   */
  keepLog(log: readonly LogLine[]): Digest | null {
    if (log.length === 0) return null;
    const bytes = Buffer.from(JSON.stringify(log));
    const digest = digestBytes(bytes);
    this.store.saveBlobs([this.store.blobOf(digest, bytes)]);
    return digest;
  }

  /**
   * Forgets that `task` succeeded in this build (it failed late, see
   * late-failure.ts): no freshness entry (it was checked the full way, so its
   * old one goes too) and no action under `key`, so the next build runs it again.
   */
  forget(task: string, key: string | null): void {
    this.#succeeded.delete(task);
    this.#prepared.add(task);
    if (key !== null) this.store.dropAction(key);
  }

  #succeed(task: GraphTask, prepared: Prepared, result: Pick<ActionEntry, "key" | "outputsDigest" | "layer" | "exitCode" | "log" | "logBlob">, outputs: readonly string[]): void {
    const stats = outputStats(this.#root, outputs);
    if (stats === undefined) return;
    const { key, outputsDigest, layer, exitCode, log, logBlob } = result;
    const entry = { def: prepared.def, deps: prepared.record.deps, key: key as Digest, outputsDigest, layer, exitCode, log, logBlob, files: prepared.files, dirs: prepared.dirs };
    this.#succeeded.set(task.name, { entry, outputs: stats });
  }

  /** Records the task's key record, for explaining its next miss. */
  remember(task: GraphTask, prepared: Prepared, ok: boolean, reasons: readonly string[]): void {
    this.store.setTaskState(task.name, { key: prepared.key, record: prepared.encoded, ok, ranReasons: reasons });
  }
}

/** `task "b"`, `tasks "b", "c"`, or for more, how many. */
function besideTasks(names: readonly string[]): string {
  const sorted = [...names].sort();
  if (sorted.length === 1) return `task "${sorted[0]}"`;
  if (sorted.length <= 3) return `tasks ${sorted.map((name) => `"${name}"`).join(", ")}`;
  return `${sorted.length} other tasks`;
}

/** Caps a task's log at MAX_LOG_BYTES, noting what was left out. */
export class LogCollector {
  readonly lines: LogLine[] = [];
  #bytes = 0;
  #dropped = 0;
  add(stream: "stdout" | "stderr", line: string): void {
    if (this.#bytes + line.length > MAX_LOG_BYTES) {
      this.#dropped++;
      return;
    }
    this.#bytes += line.length;
    this.lines.push([stream === "stdout" ? "o" : "e", line]);
  }
  finish(): LogLine[] {
    if (this.#dropped > 0) this.lines.push(["e", `[rbuild: ${this.#dropped} more lines were not stored]`]);
    return this.lines;
  }
}
