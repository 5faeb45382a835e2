/**
 * The run summary (`--summary FILE`): the contract CI and other tools read.
 * Version 1 is fixed; a change that breaks readers bumps `version`.
 *
 *   { "version": 1, "ok": bool, "durationMs": n,
 *     "tasks": [ { "name", "status": "ran"|"cached"|"failed"|"skipped", "cache": "local"|"remote"|null,
 *                  "key": string|null, "durationMs": n, "exitCode": n|null, "reasons": [string] } ] }
 *
 * A failed task also has `"error"`: the message a user reads. A task whose
 * stand-in ran in place of its own `run` (`--stub`) has `"stubbed": true`.
 *
 * A dry run (`--dry-run --summary FILE`) writes what it would do instead, with
 * `"dryRun": true` and per task `"action": "run"|"cached"|"group"` in place of
 * the fields only a run knows:
 *
 *   { "version": 1, "ok": true, "dryRun": true, "durationMs": 0,
 *     "tasks": [ { "name", "action", "key": string|null, "reasons": [string] } ] }
 */
import { describeFailure, type TaskResult } from "@rbuild/core";

export interface RunSummary {
  readonly version: 1;
  readonly ok: boolean;
  readonly durationMs: number;
  readonly tasks: readonly SummaryTask[];
}

export interface SummaryTask {
  readonly name: string;
  readonly status: TaskResult["status"];
  readonly cache: TaskResult["cache"];
  readonly key: string | null;
  readonly durationMs: number;
  readonly exitCode: number | null;
  readonly reasons: readonly string[];
  readonly error?: string;
  readonly stubbed?: true;
}

export function runSummary(
  build: { ok: boolean; durationMs: number; results: readonly TaskResult[] },
  cwd: string,
): RunSummary {
  return {
    version: 1,
    ok: build.ok,
    durationMs: build.durationMs,
    tasks: build.results.map((r) => ({
      name: r.name,
      status: r.status,
      cache: r.cache,
      key: r.key,
      durationMs: r.durationMs,
      exitCode: r.exitCode,
      reasons: r.reasons,
      ...(r.failure === undefined ? {} : { error: describeFailure(r.failure, { cwd }) }),
      ...(r.stubbed === true ? { stubbed: true as const } : {}),
    })),
  };
}

export interface DryRunSummary {
  readonly version: 1;
  readonly ok: true;
  readonly dryRun: true;
  readonly durationMs: 0;
  readonly tasks: readonly { readonly name: string; readonly action: "run" | "cached" | "group"; readonly key: string | null; readonly reasons: readonly string[] }[];
}

export function dryRunSummary(rows: DryRunSummary["tasks"]): DryRunSummary {
  return { version: 1, ok: true, dryRun: true, durationMs: 0, tasks: rows.map(({ name, action, key, reasons }) => ({ name, action, key, reasons })) };
}
