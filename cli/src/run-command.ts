/** `rbuild <task...>`: plan the targets, execute, report, write the summary. */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { describeFailure, fanOut, type Reporter, type SetupFailure } from "@rbuild/core";
import { execute } from "@rbuild/executor";
import { plan } from "@rbuild/planner";
import { JsonReporter, PlainReporter, runSummary } from "@rbuild/ui";
import type { Args } from "./args.js";
import { ExitCode, reportSetupFailures } from "./exit.js";
import { openWorkspace } from "./workspace.js";

function writeAtomically(file: string, contents: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, contents);
  renameSync(temp, file);
}

/** A build that never started still leaves a summary, so CI can tell why. */
function writeSummaryOfSetupFailure(file: string, failures: readonly SetupFailure[], cwd: string): void {
  const errors = failures.map((failure) => describeFailure(failure, { cwd }));
  writeAtomically(file, `${JSON.stringify({ version: 1, ok: false, durationMs: 0, tasks: [], errors }, null, 2)}\n`);
}

export async function runCommand(args: Args): Promise<number> {
  const cwd = process.cwd();
  const summaryFile = args.summary === undefined ? undefined : resolve(cwd, args.summary);
  const fail = (failures: readonly SetupFailure[]): number => {
    reportSetupFailures(failures, cwd);
    if (summaryFile !== undefined) writeSummaryOfSetupFailure(summaryFile, failures, cwd);
    return ExitCode.Usage;
  };

  const workspace = await openWorkspace(args.directory, process.env);
  if (!workspace.ok) return fail(workspace.error);
  const { definitions } = workspace.value;

  let targets = args.targets;
  if (targets.length === 0) {
    if (!definitions.tasks.has("default")) {
      return fail([{ reason: "usage", message: "No task given. Name the tasks to run, e.g. `rbuild build`; `rbuild list` shows them all." }]);
    }
    targets = ["default"];
  }
  const graph = plan(definitions, targets);
  if (!graph.ok) return fail(graph.error);

  const reporters: Reporter[] = [
    args.output === "json"
      ? new JsonReporter(process.stdout)
      : new PlainReporter({ stdout: process.stdout, stderr: process.stderr, cwd, color: process.stdout.isTTY === true && process.env.NO_COLOR === undefined }),
  ];
  const reporter = fanOut(...reporters);

  const interrupt = new AbortController();
  const onSignal = (): void => interrupt.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const outcome = await execute({ graph: graph.value, jobs: args.jobs, keepGoing: args.keepGoing, reporter, signal: interrupt.signal });
    await reporter.close?.();
    if (summaryFile !== undefined) writeAtomically(summaryFile, `${JSON.stringify(runSummary(outcome, cwd), null, 2)}\n`);
    if (outcome.interrupted) return ExitCode.Interrupted;
    return outcome.ok ? ExitCode.Ok : ExitCode.TaskFailed;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
