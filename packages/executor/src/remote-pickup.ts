/**
 * A task that ran elsewhere (the runner answered `remote-cache`, as the
 * Concourse runner does): its result is restored from the remote cache,
 * verified, as a remote hit is. Not there under this build's key, the task
 * failed, and the failure says why (the run there computed another key, or
 * could not upload).
 */
import type { TaskFailure } from "@rbuild/core";
import type { GraphTask } from "@rbuild/planner";
import { ERROR_TAIL_LINES, type LogLine, type ManifestEntry } from "@rbuild/store";
import type { RemoteStep } from "./remote-step.js";
import type { Prepared, TaskCache } from "./task-cache.js";
import { result, type Done, type Evidence } from "./task-done.js";

/** `done`: the run's result; `lines`: its log; `ran`: the evidence of a run with these outputs. */
export async function pickUp(
  cache: TaskCache,
  remote: RemoteStep | undefined,
  run: { readonly task: GraphTask; readonly prepared: Prepared; readonly done: Done; readonly reasons: readonly string[]; readonly lines: LogLine[] },
  ran: (outputs: readonly ManifestEntry[] | null) => Evidence | undefined,
): Promise<Done> {
  const { task, prepared, done, reasons, lines } = run;
  const fetched = remote !== undefined && (await remote.fetch(task, prepared.key));
  const restored = fetched ? await cache.restore(task, prepared) : undefined;
  if (restored === undefined || !restored.hit) {
    cache.remember(task, prepared, false, [...reasons]);
    const message =
      `it ran elsewhere and passed, but its result is not in the remote cache under the key this build computed (${prepared.key.slice(0, 16)}): ` +
      "the run there saw other inputs or another environment (an env var the task declares, a tool's version), or could not upload to the remote cache. Its log above says which.";
    const failure: TaskFailure = { reason: "remote-run", task: task.name, message };
    const tail = lines.slice(-ERROR_TAIL_LINES).map(([, line]) => line);
    return { result: result(task.name, "failed", { key: prepared.key, exitCode: done.result.exitCode, reasons, failure }), evidence: ran(null), log: { digest: cache.keepLog(lines), tail }, outputTail: done.outputTail ?? [] };
  }
  cache.remember(task, prepared, true, [...reasons]);
  return { result: { ...done.result, key: prepared.key }, outputsDigest: restored.entry.outputsDigest, layer: restored.entry.layer, evidence: ran(restored.entry.manifest), log: { digest: cache.keepLog(lines) } };
}
