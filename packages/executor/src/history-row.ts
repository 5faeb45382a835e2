/** A task's row in the build's history (see @rbuild/store RunRow), from its result and what the build kept of it. */
import { describeFailure, type TaskResult } from "@rbuild/core";
import type { Digest } from "@rbuild/hash";
import type { Graph } from "@rbuild/planner";
import type { RunRow } from "@rbuild/store";
import type { Evidence, RunLog } from "./task-done.js";

/** What the build kept of its finished tasks, by name. */
export interface Kept {
  readonly outputs: ReadonlyMap<string, Digest>;
  readonly layers: ReadonlyMap<string, Digest | null>;
  readonly evidence: ReadonlyMap<string, Evidence>;
  readonly logs: ReadonlyMap<string, RunLog>;
}

export function historyRow(graph: Graph, r: TaskResult, kept: Kept): RunRow {
  return {
    task: r.name,
    key: r.key,
    // An interrupt says nothing about the task: its run is `interrupted`, not `failed`.
    status: interruptedOnly(r) ? "interrupted" : r.status,
    cache: r.cache,
    pure: graph.tasks.get(r.name)!.pure,
    durationMs: r.durationMs,
    exitCode: r.exitCode,
    reasons: r.reasons,
    error: r.failure === undefined ? null : describeFailure(r.failure, { cwd: graph.root }),
    outputsDigest: kept.outputs.get(r.name) ?? null,
    layer: kept.layers.get(r.name) ?? null,
    ...evidenceRow(r, kept.evidence.get(r.name)),
    log: kept.logs.get(r.name)?.digest ?? null,
    // A failure for the error database: any but an interrupt.
    ...(r.status === "failed" && !interruptedOnly(r) ? { tail: kept.logs.get(r.name)?.tail ?? [] } : {}),
    ...(r.attempts === undefined ? {} : { attempt: r.attempts }),
    ...(r.group === true ? { group: true as const } : {}),
  };
}

function evidenceRow(r: TaskResult, evidence: Evidence | undefined): Pick<RunRow, "evidence"> {
  if (evidence === undefined) return {};
  const restored = evidence.restored && r.status === "cached";
  return { evidence: { restoreMs: restored ? r.durationMs : null, changedInputs: evidence.changedInputs, outputs: evidence.outputs } };
}

/** A run stopped by Ctrl-C, or cancelled by its caller (`rbuild watch`), before it finished: `interrupted` in the history, never `failed`. */
export function interruptedOnly(r: TaskResult): boolean {
  return r.status === "failed" && r.failure?.reason === "interrupted";
}
