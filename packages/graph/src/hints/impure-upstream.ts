/**
 * `impure-upstream` (warning): an impure task (`pure: false`) that pure tasks
 * depend on. It runs in every build, so everything downstream waits for it
 * each time, and whenever its outputs come out different every pure task
 * downstream runs again instead of coming from the cache. The evidence counts
 * those tasks and, from the history, how often its outputs changed.
 */
import { q, quoteList, type Hint, type HintRule } from "../hint.js";
import { Reach } from "../reach.js";
import { allStats, summedMs } from "../stats.js";

export const impureUpstream: HintRule = (input) => {
  const reach = new Reach(input.tasks);
  const stats = allStats(input.tasks, input.history);
  const kinds = new Map(input.tasks.map((task) => [task.name, task.kind]));
  const hints: Hint[] = [];
  for (const task of input.tasks) {
    if (task.kind !== "impure") continue;
    const direct = input.tasks.filter((other) => other.kind === "pure" && other.deps.includes(task.name)).map((other) => other.name);
    if (direct.length === 0) continue;
    const downstream = reach.dependentsOf(task.name).filter((name) => kinds.get(name) === "pure");
    const rerun = summedMs(downstream, stats);
    const own = stats.get(task.name)?.durationMs ?? null;
    const digests = (input.history.get(task.name)?.runs ?? []).flatMap((run) => (run.outputsDigest === null ? [] : [run.outputsDigest]));
    let changes = 0;
    for (let i = 1; i < digests.length; i++) if (digests[i] !== digests[i - 1]) changes++;
    const known = own === null && rerun.ms === null ? null : (own ?? 0) + (rerun.ms ?? 0);
    hints.push({
      code: "impure-upstream",
      severity: "warning",
      tasks: [task.name, ...direct],
      message: `${q(task.name)} is impure and ${quoteList(direct)} depend${direct.length === 1 ? "s" : ""} on it: it runs in every build, and ${downstream.length} pure task${downstream.length === 1 ? "" : "s"} downstream run${downstream.length === 1 ? "s" : ""} again whenever its outputs change${digests.length >= 2 ? ` (its outputs changed ${changes} time${changes === 1 ? "" : "s"} in its last ${digests.length} recorded runs)` : ""}`,
      evidence: {
        task: task.name,
        directDependents: direct,
        keptFromCache: downstream.length,
        downstreamMs: rerun.ms,
        unknownDurations: rerun.unknown,
        ownMs: own,
        recordedOutputs: digests.length,
        outputChanges: changes,
      },
      savingMs: known,
      fix: `make ${q(task.name)} pure (remove \`pure: false\` and declare its inputs and outputs), or remove it from deps of ${quoteList(direct, Infinity)}`,
    });
  }
  return hints;
};
