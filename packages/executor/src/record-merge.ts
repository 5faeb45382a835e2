/**
 * Making the next freshness record from the one a build started with: the
 * entries of the tasks that succeeded replace theirs, those checked the full
 * way without a trusted entry go, and every other entry (tasks found fresh,
 * tasks not reached, tasks of other graphs) is kept as it was. The stats are
 * laid out flat again, each once (see the store's fresh-record.ts).
 */
import { FRESH_RECORD_FORMAT, type FreshBuild, type FreshRecord, type FreshTask } from "@rbuild/store";
import type { EntryStat, FileStat, NewEntry } from "./fresh-entry.js";

/** How many sets of targets the record remembers a build of (the most recent). */
const MAX_BUILDS = 64;

/** What a build changes in the record. */
export interface RecordChange {
  readonly root: string;
  /** The new entries of tasks that succeeded, by name. */
  readonly set: ReadonlyMap<string, NewEntry>;
  /** Tasks whose entries go: checked the full way, with no trusted new entry. */
  readonly drop: ReadonlySet<string>;
  /** The names of the build's tasks, in graph order. */
  readonly order: readonly string[];
  /** The build's targets (see targetsKey). */
  readonly targets: string;
  /**
   * The build: its id (its new entries are marked with it), whether it
   * succeeded (a failed one removes its targets' build), and its graph's
   * definitions digest (see definitionsDigest).
   */
  readonly build: { readonly id: number; readonly ok: boolean; readonly definitions: string };
}

/** Stats of one kind kept flat and once each; an entry's number is its position. */
class FlatStats {
  readonly values: (string | number)[] = [];
  readonly #byPath = new Map<string, number>();
  /** The entry number of each entry of the base record's list, once copied (-1: not yet). */
  #remap: Int32Array | undefined;

  constructor(readonly width: 5 | 6) {}

  /** The number of a new stat. */
  add(stat: FileStat | EntryStat): number {
    return this.#place(stat, 0);
  }

  /** The number of entry `n` of the base record's flat list `flat`. */
  copy(flat: readonly (string | number)[], n: number): number {
    const remap = (this.#remap ??= new Int32Array(flat.length / this.width).fill(-1));
    let entry = remap[n]!;
    if (entry === -1) remap[n] = entry = this.#place(flat, n * this.width);
    return entry;
  }

  /** A path with other stats than the entry kept for it (an entry made in another build) is kept beside it. */
  #place(source: readonly (string | number)[], at: number): number {
    const width = this.width;
    const values = this.values;
    const path = source[at] as string;
    const known = this.#byPath.get(path);
    if (known !== undefined) {
      let same = true;
      for (let i = 1; i < width; i++) if (values[known * width + i] !== source[at + i]) same = false;
      if (same) return known;
    }
    const entry = values.length / width;
    if (known === undefined) this.#byPath.set(path, entry);
    for (let i = 0; i < width; i++) values.push(source[at + i]!);
    return entry;
  }
}

export function mergeRecord(base: FreshRecord | undefined, change: RecordChange): FreshRecord {
  const files = new FlatStats(5);
  const dirs = new FlatStats(6);
  const outputs = new FlatStats(6);
  const tasks: FreshTask[] = [];
  const placed = new Set<string>();
  const addNew = (name: string, e: NewEntry): void => {
    placed.add(name);
    tasks.push([
      name,
      e.def,
      e.deps.flat(),
      e.key,
      e.outputsDigest,
      e.layer,
      e.exitCode,
      e.log,
      e.logBlob,
      e.files.map((stat) => files.add(stat)),
      e.dirs.map((stat) => dirs.add(stat)),
      e.outputs.map((stat) => outputs.add(stat)),
      change.build.id,
      e.covered,
    ]);
  };
  const addKept = (task: FreshTask): void => {
    placed.add(task[0]);
    const [name, def, deps, key, outputsDigest, layer, exitCode, log, logBlob, ownFiles, ownDirs, ownOutputs, madeBy, covered] = task;
    tasks.push([
      name,
      def,
      deps,
      key,
      outputsDigest,
      layer,
      exitCode,
      log,
      logBlob,
      ownFiles.map((n) => files.copy(base!.files, n)),
      ownDirs.map((n) => dirs.copy(base!.dirs, n)),
      ownOutputs.map((n) => outputs.copy(base!.outputs, n)),
      madeBy,
      covered,
    ]);
  };
  const kept = new Map<string, FreshTask>();
  for (const task of base?.tasks ?? []) if (!change.drop.has(task[0]) && !change.set.has(task[0])) kept.set(task[0], task);
  // The build's graph order first: the next check of that graph finds each entry where it looks first.
  for (const name of change.order) {
    const made = change.set.get(name);
    if (made !== undefined) addNew(name, made);
    else if (kept.has(name)) addKept(kept.get(name)!);
  }
  for (const [name, task] of kept) if (!placed.has(name)) addKept(task);
  for (const [name, made] of change.set) if (!placed.has(name)) addNew(name, made);
  const builds: FreshBuild[] = (base?.builds ?? []).filter(([targets]) => targets !== change.targets);
  if (change.build.ok) builds.push([change.targets, change.build.id, change.build.definitions]);
  return { v: FRESH_RECORD_FORMAT, root: change.root, builds: builds.slice(-MAX_BUILDS), tasks, files: files.values, dirs: dirs.values, outputs: outputs.values };
}
