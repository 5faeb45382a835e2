/**
 * Warm starts (TaskOptions.incremental): on a miss, after its outputs were
 * cleared, a task gets the outputs of its last successful run back, restored
 * from that run's layer exactly as a cache hit would restore them, so a tool
 * with its own incremental cache (tsc --incremental, webpack) finds it. Never
 * on a hit, which restores its own result. When that layer is gone (gc, a
 * damaged store) the task starts cold, with an info line; with no earlier run
 * recorded, it starts cold quietly. The last successful run is the one the
 * task's state names when its last build succeeded (kept however many builds
 * ago), else the history's newest that did.
 */
import type { GraphTask } from "@rbuild/planner";
import { extractLayer, lastSucceededRun, type Store } from "@rbuild/store";

/** Puts back the outputs of `task`'s last successful run; `clear` removes its outputs again if that fails part-way. */
export async function warmStart(store: Store, root: string, task: GraphTask, clear: () => void, info: (code: string, message: string) => void): Promise<void> {
  // The task's state names the key of its last build when that succeeded; after a failure, the history has the run before.
  const state = store.taskState(task.name);
  const key = state?.ok === true ? state.key : lastSucceededRun(store, task.name)?.key;
  if (key === undefined) return;
  const cold = (why: string): void => info("warm-start", `task "${task.name}": starts cold: ${why}`);
  const entry = store.lookup(key);
  if (entry === undefined) return cold("the outputs of its last successful run are gone from the cache (removed by gc)");
  if (entry.layer === null || entry.manifest.length === 0) return;
  const read = store.readLayer(entry.layer);
  if (read.check !== "ok") return cold(`the layer of its last successful run is ${read.check}`);
  const extracted = await extractLayer(read.layer, root, entry.manifest);
  if (extracted.ok) return;
  // Whatever part of it was written is not what a cold run starts from.
  clear();
  cold(`the outputs of its last successful run could not be restored: ${extracted.problem}`);
}
