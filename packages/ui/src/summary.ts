/**
 * The run summary (`--summary FILE`): the contract CI and other tools read.
 * Version 1 is fixed; a change that breaks readers bumps `version`.
 *
 *   { "version": 1, "ok": bool, "durationMs": n,
 *     "tasks": [ { "name", "status": "ran"|"cached"|"failed"|"interrupted"|"skipped", "cache": "local"|"remote"|null,
 *                  "key": string|null, "durationMs": n, "exitCode": n|null, "reasons": [string] } ] }
 *
 * A task stopped by Ctrl-C (or cancelled by `rbuild watch`) is `"interrupted"`,
 * not `"failed"`, as its history row is. A failed or interrupted task also
 * has `"error"`: the message a user reads. A task run more
 * than once (it has `retries`) has `"attempts": n`, and `"flaky": true` when
 * it passed after failing. A failed build that ran undos has
 * `"undos": [ { "task", "ok", "durationMs", "exitCode", "error"? } ]`, in the
 * order they ran. A task whose stand-in ran in place of its own `run`
 * (`--stub`) has `"stubbed": true`.
 *
 * A dry run (`--dry-run --summary FILE`) writes what it would do instead, with
 * `"dryRun": true` and per task `"action": "run"|"cached"|"group"` in place of
 * the fields only a run knows:
 *
 *   { "version": 1, "ok": true, "dryRun": true, "durationMs": 0,
 *     "tasks": [ { "name", "action", "key": string|null, "reasons": [string] } ] }
 */
import { describeFailure, type TaskResult, type UndoResult } from "@rbuild/core";
import { undoFailure } from "./attempt-text.js";
import { countOf } from "./recap.js";

export interface RunSummary {
  readonly version: 1;
  readonly ok: boolean;
  readonly durationMs: number;
  readonly tasks: readonly SummaryTask[];
  readonly undos?: readonly SummaryUndo[];
}

export interface SummaryUndo {
  readonly task: string;
  readonly ok: boolean;
  readonly durationMs: number;
  readonly exitCode: number | null;
  readonly error?: string;
}

export interface SummaryTask {
  readonly name: string;
  readonly status: TaskResult["status"] | "interrupted";
  readonly cache: TaskResult["cache"];
  readonly key: string | null;
  readonly durationMs: number;
  readonly exitCode: number | null;
  readonly reasons: readonly string[];
  readonly error?: string;
  readonly attempts?: number;
  readonly flaky?: true;
  readonly stubbed?: true;
}

export function runSummary(
  build: { ok: boolean; durationMs: number; results: readonly TaskResult[]; undos?: readonly UndoResult[] },
  cwd: string,
): RunSummary {
  return {
    version: 1,
    ok: build.ok,
    durationMs: build.durationMs,
    tasks: build.results.map((r) => ({
      name: r.name,
      status: countOf(r),
      cache: r.cache,
      key: r.key,
      durationMs: r.durationMs,
      exitCode: r.exitCode,
      reasons: r.reasons,
      ...(r.failure === undefined ? {} : { error: describeFailure(r.failure, { cwd }) }),
      ...(r.attempts === undefined ? {} : { attempts: r.attempts }),
      ...(r.flaky === true ? { flaky: true as const } : {}),
      ...(r.stubbed === true ? { stubbed: true as const } : {}),
    })),
    ...(build.undos === undefined || build.undos.length === 0
      ? {}
      : {
          undos: build.undos.map((u) => ({
            task: u.task,
            ok: u.ok,
            durationMs: u.durationMs,
            exitCode: u.exitCode,
            ...(u.ok ? {} : { error: `undo ${u.task} FAILED: ${undoFailure(u, cwd)}` }),
          })),
        }),
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
