/**
 * `rbuild history [--task T] [--limit N] [--json]`: the last builds, newest
 * first (targets, start, duration, outcome, what their tasks did, commit,
 * host), or with --task the task's last runs (status, cache, duration, exit
 * code, reasons). Reads the index; loads the Buildfile only for a task name
 * the history does not know (see history-access.ts).
 */
import { listBuilds, taskRuns, type BuildRecord, type TaskRun } from "@rbuild/store";
import { formatDuration } from "@rbuild/ui";
import type { Args } from "./args.js";
import { ExitCode, reportSetupFailures } from "./exit.js";
import { checkTask, localTime, table, type QueryIO, withHistoryStore } from "./history-access.js";

export async function historyCommand(args: Args, io: QueryIO): Promise<number> {
  const { cwd, stdout, stderr } = io;
  return withHistoryStore(args, io, undefined, async (store) => {
    const { task, limit, json } = args.history;
    if (task === undefined) {
      const builds = listBuilds(store, limit);
      stdout.write(json ? `${JSON.stringify(builds.map(buildJson), null, 2)}\n` : buildsText(builds));
      return ExitCode.Ok;
    }
    const runs = taskRuns(store, task, limit);
    if (runs.length === 0) {
      const known = await checkTask(store, task, args.directory, io);
      if (!known.ok) {
        reportSetupFailures(known.error, cwd, stderr);
        return ExitCode.Usage;
      }
    }
    stdout.write(json ? `${JSON.stringify(runs.map(runJson), null, 2)}\n` : runsText(task, runs));
    return ExitCode.Ok;
  });
}

/** What a build's tasks did: `3 ran, 997 cached`, or for one answered from the freshness record, that. */
function tasksDone(build: BuildRecord): string {
  const { ran, cached, failed, skipped, interrupted } = build.tasks;
  if (build.repeated !== null) return `all up to date (as build ${build.repeated})`;
  const parts = [ran > 0 ? `${ran} ran` : "", cached > 0 ? `${cached} cached` : "", failed > 0 ? `${failed} failed` : "", skipped > 0 ? `${skipped} skipped` : "", interrupted > 0 ? `${interrupted} interrupted` : ""];
  return parts.filter((part) => part !== "").join(", ") || "no tasks";
}

const shortCommit = (commit: string | null): string => (commit === null ? "-" : commit.slice(0, 10));

function buildsText(builds: readonly BuildRecord[]): string {
  if (builds.length === 0) return "No builds recorded yet.\n";
  const rows = builds.map((b) => [
    String(b.id),
    localTime(b.started),
    b.finished === null ? "-" : formatDuration(b.finished - b.started),
    b.outcome,
    tasksDone(b),
    shortCommit(b.commit),
    b.host ?? "-",
    b.targets.join(" "),
  ]);
  return table([["build", "started", "duration", "outcome", "tasks", "commit", "host", "targets"], ...rows]);
}

function runsText(task: string, runs: readonly TaskRun[]): string {
  if (runs.length === 0) return `Task "${task}" has no recorded runs yet.\n`;
  // The attempt column only when a run was one of several (a task with retries).
  const attempts = runs.some((r) => r.attempt !== null);
  const rows = runs.map((r) => [
    String(r.run),
    String(r.build),
    localTime(r.started),
    r.cache === null ? r.status : `${r.status} (${r.cache})`,
    ...(attempts ? [r.attempt === null ? "-" : String(r.attempt)] : []),
    formatDuration(r.durationMs),
    r.exitCode === null ? "-" : String(r.exitCode),
    r.reasons.join(", ") || "-",
  ]);
  return `${task}: the last ${runs.length === 1 ? "run" : `${runs.length} runs`}, newest first (\`rbuild show ${task} --run N\` shows one)\n${table([["run", "build", "started", "status", ...(attempts ? ["attempt"] : []), "duration", "exit", "reasons"], ...rows])}`;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function buildJson(b: BuildRecord): object {
  return {
    build: b.id,
    started: iso(b.started),
    finished: iso(b.finished),
    durationMs: b.finished === null ? null : b.finished - b.started,
    outcome: b.outcome,
    targets: b.targets,
    commit: b.commit,
    host: b.host,
    repeated: b.repeated,
    tasks: b.tasks,
  };
}

/** A run as JSON (`rbuild history --task --json`, and the head of `rbuild show --json`). */
export function runJson(r: TaskRun): Record<string, unknown> {
  return {
    task: r.task,
    run: r.run,
    build: r.build,
    started: iso(r.started),
    commit: r.commit,
    host: r.host,
    status: r.status,
    cache: r.cache,
    ...(r.attempt === null ? {} : { attempt: r.attempt }),
    durationMs: r.durationMs,
    exitCode: r.exitCode,
    reasons: r.reasons,
    key: r.key,
    error: r.error,
    log: r.log,
    outputsDigest: r.outputsDigest,
  };
}
