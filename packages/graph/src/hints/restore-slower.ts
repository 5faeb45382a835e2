/**
 * `restore-slower` (info): a pure task whose recorded restores (hits that
 * looked the cache up and put its outputs back, @rbuild/store `run_evidence`)
 * take longer than running it. The median restore is set against its run
 * time (the median of its runs, see stats.ts); a difference under
 * RESTORE_MARGIN_MS is noise, not worth a hint. Hits found up to date by
 * their freshness record restore nothing and are not counted.
 */
import { showMs } from "../duration.js";
import { q, type Hint, type HintRule } from "../hint.js";
import { allStats, median } from "../stats.js";

/** A restore must be at least this much slower than a run to be worth saying. */
export const RESTORE_MARGIN_MS = 50;

export const restoreSlower: HintRule = (input) => {
  const stats = allStats(input.tasks, input.history);
  const hints: Hint[] = [];
  for (const task of input.tasks) {
    if (task.kind !== "pure") continue;
    const runMs = stats.get(task.name)?.durationMs ?? null;
    const runs = input.history.get(task.name)?.runs ?? [];
    const restores = runs.flatMap((run) => (run.status === "cached" && run.restoreMs !== null ? [{ ms: run.restoreMs, cache: run.cache }] : []));
    const restoreMs = median(restores.map((restore) => restore.ms));
    if (runMs === null || restoreMs === null || restoreMs - runMs < RESTORE_MARGIN_MS) continue;
    const remote = restores.filter((restore) => restore.cache === "remote").length;
    hints.push({
      code: "restore-slower",
      severity: "info",
      tasks: [task.name],
      message: `restoring ${q(task.name)} from the cache took ${showMs(restoreMs)} (the median of ${restores.length} recorded restore${restores.length === 1 ? "" : "s"}${remote > 0 ? `, ${remote} from the remote cache` : ""}), longer than running it (${showMs(runMs)})`,
      evidence: { task: task.name, restoreMs, runMs, restores: restores.length, remoteRestores: remote, outputs: task.outputs },
      savingMs: restoreMs - runMs,
      fix: `narrow the outputs of ${q(task.name)} to what its dependents read (fewer, smaller files restore faster), or, if no pure task depends on it, let it run every time with \`pure: false\``,
    });
  }
  return hints;
};
