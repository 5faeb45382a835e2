/**
 * `nondeterministic` (error): a pure task recorded with the same key and
 * different output digests: the same inputs gave different outputs (seen
 * when `--force` runs it again, or when a remote cache serves what another
 * machine uploaded). Its cached results then depend on who built first, and
 * every task downstream misses whenever the digest flips. The output paths
 * that differ are named when the index recorded the runs' output digests
 * (@rbuild/store `run_evidence`, for runs with few enough outputs).
 */
import { showMs } from "../duration.js";
import { q, quoteList, type Hint, type HintRule } from "../hint.js";
import type { RecordedRun } from "../input.js";
import { Reach } from "../reach.js";
import { allStats, summedMs } from "../stats.js";

/** At most this many differing paths are listed in a message (all are in the evidence). */
const SHOWN_PATHS = 3;

export const nondeterministic: HintRule = (input) => {
  const stats = allStats(input.tasks, input.history);
  const kinds = new Map(input.tasks.map((task) => [task.name, task.kind]));
  let reach: Reach | undefined;
  const hints: Hint[] = [];
  for (const task of input.tasks) {
    if (task.kind !== "pure") continue;
    const byKey = new Map<string, RecordedRun[]>();
    for (const run of input.history.get(task.name)?.runs ?? []) {
      if ((run.status !== "ran" && run.status !== "cached") || run.key === null || run.outputsDigest === null) continue;
      let found = byKey.get(run.key);
      if (found === undefined) byKey.set(run.key, (found = []));
      found.push(run);
    }
    // The newest key seen with two digests: one hint per task.
    const flipped = [...byKey].find(([, runs]) => new Set(runs.map((run) => run.outputsDigest)).size > 1);
    if (flipped === undefined) continue;
    const [key, runs] = flipped;
    const digests = [...new Set(runs.map((run) => run.outputsDigest!))];
    const paths = differingPaths(runs);
    reach ??= new Reach(input.tasks);
    const downstream = reach.dependentsOf(task.name).filter((name) => kinds.get(name) === "pure");
    const rerun = summedMs(downstream, stats);
    const which =
      paths === null
        ? "the index has no per-file digests of both to say which outputs differ"
        : `${paths.slice(0, SHOWN_PATHS).join(", ")}${paths.length > SHOWN_PATHS ? ` and ${paths.length - SHOWN_PATHS} more` : ""} differ`;
    const cost = downstream.length === 0 ? "" : `, and the ${downstream.length} pure task${downstream.length === 1 ? " downstream misses" : "s downstream miss"} the cache whenever they flip${rerun.ms === null ? "" : ` (${showMs(rerun.ms)})`}`;
    hints.push({
      code: "nondeterministic",
      severity: "error",
      tasks: [task.name],
      message: `${q(task.name)} gave ${digests.length} different outputs for the same key in its recorded runs: ${which}; its cached result depends on who built it first${cost}`,
      evidence: { task: task.name, key, outputsDigests: digests, runs: runs.length, differingPaths: paths, downstream: downstream.length, downstreamMs: rerun.ms },
      savingMs: rerun.ms,
      fix: `make ${q(task.name)} write the same bytes for the same inputs: no timestamps, random ids, absolute paths or unordered listings in ${paths === null || paths.length === 0 ? "its outputs" : quoteList(paths, SHOWN_PATHS)}`,
    });
  }
  return hints;
};

/** The paths whose recorded digests differ between runs of different digests, sorted; null when fewer than two of those runs recorded them. */
function differingPaths(runs: readonly RecordedRun[]): string[] | null {
  const byDigest = new Map<string, Readonly<Record<string, string>>>();
  for (const run of runs) if (run.outputs !== null && !byDigest.has(run.outputsDigest!)) byDigest.set(run.outputsDigest!, run.outputs);
  if (byDigest.size < 2) return null;
  const maps = [...byDigest.values()];
  const paths = new Set(maps.flatMap((outputs) => Object.keys(outputs)));
  return [...paths].filter((path) => new Set(maps.map((outputs) => outputs[path])).size > 1).sort();
}
