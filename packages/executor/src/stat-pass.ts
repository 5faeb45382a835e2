/**
 * The stat pass of a freshness record: one stat of every entry of its flat
 * stat lists (files, dirs, outputs), on this thread or shared with the stat
 * helper (stat-helper.ts), and which entries changed. A task is still fresh
 * when none of its own entries changed (see fresh-record.ts).
 */
import type { FreshRecord, FreshTask } from "@rbuild/store";
import { STAT_FIELDS, StatJob, type StatHelper } from "./stat-helper.js";

/** One stat of every entry of a record: which changed. */
export interface StatPass {
  readonly record: FreshRecord;
  /** The build lock's generation just before the stats were taken (see lockGeneration). */
  readonly generation: number | undefined;
  readonly changed: { readonly files: ReadonlySet<number>; readonly dirs: ReadonlySet<number>; readonly outputs: ReadonlySet<number> };
}

/** A job for every entry of the record: files, dirs (both followed), then outputs (not followed). */
export function statJob(root: string, record: FreshRecord, helper: StatHelper | undefined): StatJob {
  const paths: string[] = [];
  for (const flat of [record.files, record.dirs, record.outputs]) {
    const width = flat === record.files ? 5 : 6;
    for (let i = 0; i < flat.length; i += width) paths.push(flat[i] as string);
  }
  return new StatJob(`${root}/`, paths, paths.length - record.outputs.length / 6, helper);
}

/** The pass `job` (of `record`, see statJob) took. */
export function finishPass(record: FreshRecord, generation: number | undefined, job: StatJob): StatPass {
  const taken = job.finish();
  const files = record.files.length / 5;
  const dirs = record.dirs.length / 6;
  return {
    record,
    generation,
    changed: {
      files: changedEntries(record.files, 5, taken, 0),
      dirs: changedEntries(record.dirs, 6, taken, files),
      outputs: changedEntries(record.outputs, 6, taken, files + dirs),
    },
  };
}

/** Whether one of the task's own stats changed in the pass. */
export function statsChanged(pass: StatPass, task: FreshTask): boolean {
  const { files, dirs, outputs } = pass.changed;
  if (files.size + dirs.size + outputs.size === 0) return false;
  return task[9].some((n) => files.has(n)) || task[10].some((n) => dirs.has(n)) || task[11].some((n) => outputs.has(n));
}

/**
 * The entries of a flat list whose stat changed, as a set of entry numbers:
 * `taken` holds the stats of a StatJob, this list's from job entry `offset`
 * on. Files compare size and times and inode; dirs and outputs their mode too.
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
