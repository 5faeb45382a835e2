/**
 * A task's last successful outputs as the history recorded them: for a warm
 * start (TaskOptions.incremental), what a miss puts in place before it runs.
 */
import type { Store } from "./store.js";

/** The key and layer of the newest recorded run of `task` that succeeded (ran or was restored), if the history has one. */
export function lastSucceededRun(store: Store, task: string): { readonly key: string; readonly layer: string | null } | undefined {
  return store.usingIndex((db) => {
    // Walks runs_by_build from the newest build (no index by task; a miss of an incremental task asks once).
    const row = db
      .prepare("SELECT key, layer FROM runs INDEXED BY runs_by_build WHERE task = ? AND status IN ('ran', 'cached') AND key IS NOT NULL ORDER BY build DESC LIMIT 1")
      .get(task) as { key: string; layer: string | null } | undefined;
    return row;
  });
}
