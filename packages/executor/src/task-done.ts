/**
 * What the build loop knows of a finished task: its result, and what its
 * dependents' keys and the build's history need of it. Built by the cache
 * step, a run, or a known result (see executor.ts).
 */
import type { TaskFailure, TaskResult } from "@rbuild/core";
import type { Digest } from "@rbuild/hash";
import type { GraphTask } from "@rbuild/planner";
import type { ManifestEntry } from "@rbuild/store";

/** A finished task, with what its dependents' keys and the history need. */
export interface Done {
  readonly result: TaskResult;
  readonly outputsDigest?: Digest;
  readonly layer?: Digest | null;
  readonly evidence?: Evidence;
  readonly log?: RunLog;
  /** The last lines the run wrote (see OutputTail), kept in the build's failure tails if the task failed. */
  readonly outputTail?: readonly string[];
  /** It ran elsewhere and its result is to be picked up from the remote cache (the runner's `remote-cache`). */
  readonly inRemoteCache?: true;
}

/** What the history keeps of a run's log: its digest (null: it said nothing), and for a failure its last lines. */
export interface RunLog {
  readonly digest: Digest | null;
  readonly tail?: readonly string[];
}

/** What the history records of a run that looked the cache up or ran (see @rbuild/store RunEvidence). */
export interface Evidence {
  /** Restored from a cache lookup: its time is the restore's. */
  readonly restored: boolean;
  readonly changedInputs: readonly string[];
  readonly outputs: readonly ManifestEntry[] | null;
}

/** A task's result with no duration yet (the loop sets it when the task is done). */
export function result(
  name: string,
  status: TaskResult["status"],
  fields: { reasons: readonly string[]; cache?: TaskResult["cache"]; key?: string | null; exitCode?: number | null; failure?: TaskFailure },
): TaskResult {
  return {
    name,
    status,
    cache: fields.cache ?? null,
    key: fields.key ?? null,
    durationMs: 0,
    exitCode: fields.exitCode ?? null,
    reasons: fields.reasons,
    ...(fields.failure === undefined ? {} : { failure: fields.failure }),
  };
}

/** An exception rbuild did not expect, as the failure of the task it happened in. */
export function internalError(task: GraphTask, error: unknown): Done {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  const failure: TaskFailure = { reason: "run-threw", task: task.name, message: `internal error: ${message}` };
  return { result: result(task.name, "failed", { reasons: [], failure }) };
}
