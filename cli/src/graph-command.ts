/**
 * `rbuild graph [task...]`: the planned DAG with its recorded durations and
 * hit rates, and the hints of @rbuild/graph, as text, JSON, DOT, Mermaid or
 * a self-contained HTML page.
 * Runs no task and writes nothing but `--out` (the cache index is opened
 * read-only). With no task names it is every task the Buildfile declares:
 * the graph is an audit of the whole Buildfile, and a race between two tasks
 * that one target does not both need is still a race.
 * `--filter` selects as for `rbuild run` (filter-targets.ts), from the named
 * tasks or every task: the graph is the selected packages' tasks and their
 * deps, and the hints are those about a selected task; the evidence still
 * comes from every task (a writer outside the selection is named).
 * `--since` narrows the same way (since.ts), after `--filter`.
 * Exit status: 0; 1 with `--check` when a hint is an error; 2 for a usage or
 * Buildfile error, or an `--out` that cannot be written (checked first).
 */
import { accessSync, constants as fsConstants, lstatSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { unreachable, writeFileAtomically, type StrayErrors } from "@rbuild/core";
import { analyse, formatDot, formatHtml, formatJson, formatMermaid, formatText, gatherInput, type GraphReport } from "@rbuild/graph";
import { plan } from "@rbuild/planner";
import { readHistory } from "@rbuild/store";
import type { Args, GraphFormat } from "./args.js";
import { ExitCode, reportSetupFailures } from "./exit.js";
import { keptPathProblem, keptPaths } from "./report-file.js";
import { selectTargets } from "./select-targets.js";
import { openWorkspace } from "./workspace.js";

/** Why `--out FILE` cannot be written, or undefined. Its directory must exist: rbuild makes none. */
function outProblem(file: string): string | undefined {
  const existing = lstatSync(file, { throwIfNoEntry: false });
  // The file is replaced by a rename: a directory, device, fifo or link there would be replaced too.
  if (existing !== undefined && !existing.isFile()) return `--out ${file} exists and is not a regular file; give the path of a new or regular file.`;
  const dir = dirname(file);
  if (statSync(dir, { throwIfNoEntry: false })?.isDirectory() !== true) return `--out ${file}: the directory ${dir} does not exist; create it or give a file in one that does.`;
  try {
    accessSync(dir, fsConstants.W_OK);
    return undefined;
  } catch (error) {
    return `--out ${file}: cannot write in ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); give a file in a directory you can write.`;
  }
}

function formatted(report: GraphReport, format: GraphFormat): string {
  switch (format) {
    case "text":
      return formatText(report);
    case "json":
      return formatJson(report);
    case "dot":
      return formatDot(report);
    case "mermaid":
      return formatMermaid(report);
    case "html":
      return formatHtml(report);
    default:
      return unreachable(format);
  }
}

export async function graphCommand(args: Args, strays: StrayErrors): Promise<number> {
  const cwd = process.cwd();
  const out = args.graph.out === undefined ? undefined : resolve(cwd, args.graph.out);
  const problem = out === undefined ? undefined : (keptPathProblem("--out", out, keptPaths(cwd, args.directory, process.env)) ?? outProblem(out));
  if (problem !== undefined) {
    reportSetupFailures([{ reason: "usage", message: problem }], cwd);
    return ExitCode.Usage;
  }
  const workspace = await openWorkspace(args.directory, process.env, { strays, writesCache: false });
  if (!workspace.ok) {
    reportSetupFailures(workspace.error, cwd);
    return ExitCode.Usage;
  }
  const { definitions, cacheDir } = workspace.value;
  const given = args.targets.length > 0 ? args.targets : [...definitions.tasks.keys()];
  const selected = await selectTargets(workspace.value, given, { filters: args.filters, since: args.since, cwd, env: process.env, wholeBuildfile: args.targets.length === 0 });
  if (!selected.ok) {
    reportSetupFailures([selected.error], cwd);
    return ExitCode.Usage;
  }
  // Nothing selected: said, and the empty graph is the output (a CI job reading --out still gets a report).
  if ("nothing" in selected.value) process.stderr.write(`rbuild: ${selected.value.nothing}\n`);
  else if (selected.value.info !== undefined) process.stderr.write(`rbuild: ${selected.value.info}\n`);
  const targets = "nothing" in selected.value ? [] : selected.value.targets;
  const focus = args.filters.length > 0 || args.since !== undefined ? new Set(targets) : undefined;
  const graph = plan(definitions, targets);
  if (!graph.ok) {
    reportSetupFailures(graph.error, cwd);
    return ExitCode.Usage;
  }
  const history = readHistory(cacheDir);
  if (history.because !== undefined) process.stderr.write(`rbuild: ${history.because}; the hints use no recorded durations\n`);
  const report = analyse(gatherInput({ graph: graph.value, definitions, storeDir: cacheDir, history: history.tasks, jobs: args.jobs, focus }));
  const text = formatted(report, args.graph.format);
  if (out === undefined) process.stdout.write(text);
  else {
    try {
      writeFileAtomically(out, text);
    } catch (error) {
      reportSetupFailures([{ reason: "usage", message: `--out ${out}: ${(error as Error).message}` }], cwd);
      return ExitCode.Usage;
    }
  }
  return args.graph.check && report.hints.some((hint) => hint.severity === "error") ? ExitCode.TaskFailed : ExitCode.Ok;
}
