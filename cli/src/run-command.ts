/** `rbuild <task...>`: plan the targets, execute, report, write the summary and the JUnit report. */
import { resolve } from "node:path";
import { describeFailure, fanOut, type Reporter, type SetupFailure, type StrayErrors } from "@rbuild/core";
import { dryRun, Engine, type BuildOutcome } from "@rbuild/executor";
import { plan, sandboxed, stubTasks, type Graph } from "@rbuild/planner";
import { readRecentDurations, Store } from "@rbuild/store";
import { BatchedOutput, dryRunSummary, inCi, inGitHubActions, JsonReporter, junitReport, junitSetupFailure, loadTui, PlainReporter, runSummary, type TextSink, type TuiThread } from "@rbuild/ui";
import type { Args } from "./args.js";
import { cacheAccessFailure } from "./cache-access.js";
import { EarlyTui } from "./early-tui.js";
import { ExitCode, reportSetupFailures } from "./exit.js";
import { lockWaitMessage } from "./lock-wait.js";
import { outputMode } from "./output-mode.js";
import { phase, phaseNote } from "./phases.js";
import { keptPaths, reportFileProblem, writeReport, type KeptPaths } from "./report-file.js";
import { selectTargets } from "./select-targets.js";
import { leaseTtlFrom, sharedPoolProblem } from "./shared-pools.js";
import { processTerminal, type Terminal } from "./terminal.js";
import { openWorkspace, type Workspace } from "./workspace.js";

/** Writes the run summary; false (with the reason on `stderr`) when it cannot. */
function writeSummary(file: string, summary: unknown, stderr: Terminal["stderr"]): boolean {
  return writeReport("--summary", file, `${JSON.stringify(summary, null, 2)}\n`, stderr);
}

/** Why the report files cannot be written, before the build; undefined when they can. */
function reportFilesProblem(summaryFile: string | undefined, junitFile: string | undefined, kept: KeptPaths): string | undefined {
  if (summaryFile !== undefined && summaryFile === junitFile) {
    return `--summary and --junit both name ${summaryFile}; give each report a file of its own.`;
  }
  return (summaryFile === undefined ? undefined : reportFileProblem("--summary", summaryFile, kept)) ?? (junitFile === undefined ? undefined : reportFileProblem("--junit", junitFile, kept));
}

/** A build that never started still leaves a summary, so CI can tell why. */
function summaryOfSetupFailure(failures: readonly SetupFailure[], cwd: string): unknown {
  const errors = failures.map((failure) => describeFailure(failure, { cwd }));
  return { version: 1, ok: false, durationMs: 0, tasks: [], errors };
}

/** How a run ended, and the workspace it ran in (when the Buildfile loaded). */
export interface RunEnd {
  readonly exitCode: number;
  readonly workspace: Workspace | undefined;
  /** The tasks it was asked to build, once known. */
  readonly targets?: readonly string[];
  readonly interrupted: boolean;
}

export async function runCommand(args: Args, strays: StrayErrors): Promise<number> {
  const terminal = processTerminal();
  const end = await runBuild(args, terminal, strays);
  if (end.workspace !== undefined && !end.interrupted) {
    const { startDaemonIfWanted } = await import("./daemon-start.js");
    await startDaemonIfWanted(end.workspace, terminal.env, end.targets ?? []);
  }
  return end.exitCode;
}

/** What `rbuild watch` asks of each build it runs (see watch-command.ts). */
export interface BuildHooks {
  /** Told the workspace and the plan once the build has them, before anything runs. */
  readonly planned?: (workspace: Workspace, graph: Graph) => void;
  /** A task's own signal, asked for as it starts: aborted, that task stops (see BuildRequest.cancel). */
  readonly cancel?: (task: string) => AbortSignal | undefined;
}

/**
 * Runs a build with `terminal`'s output, environment and directory; `strays`
 * takes user code's stray errors. `engine` runs it (the daemon's lives for
 * all its builds); by default an engine for this build only.
 */
export async function runBuild(args: Args, terminal: Terminal, strays: StrayErrors, engine?: Engine, hooks: BuildHooks = {}): Promise<RunEnd> {
  const early = new EarlyTui();
  try {
    return await build(args, terminal, strays, engine, hooks, early);
  } finally {
    early.drop();
  }
}

async function build(args: Args, terminal: Terminal, strays: StrayErrors, engine: Engine | undefined, hooks: BuildHooks, early: EarlyTui): Promise<RunEnd> {
  phase("start");
  const { cwd, env } = terminal;
  const mode = args.dryRun ? "plain" : outputMode(args.output, terminal);
  // The TUI's reporter loads while the Buildfile does (ink itself loads on the TUI's own thread, see @rbuild/ui and early-tui.ts).
  const tui = mode === "tui" ? loadTui() : undefined;
  tui?.catch(() => {}); // Awaited below, where a failure is thrown; not unhandled on the early returns.
  const summaryFile = args.summary === undefined ? undefined : resolve(cwd, args.summary);
  const junitFile = args.junit === undefined ? undefined : resolve(cwd, args.junit);
  const fail = (failures: readonly SetupFailure[], workspace?: Workspace): RunEnd => {
    reportSetupFailures(failures, cwd, terminal.stderr);
    if (summaryFile !== undefined) writeSummary(summaryFile, summaryOfSetupFailure(failures, cwd), terminal.stderr);
    if (junitFile !== undefined) {
      writeReport("--junit", junitFile, junitSetupFailure(failures.map((failure) => describeFailure(failure, { cwd }))), terminal.stderr);
    }
    return { exitCode: ExitCode.Usage, workspace, interrupted: false };
  };
  const unwritable = summaryFile === undefined && junitFile === undefined ? undefined : reportFilesProblem(summaryFile, junitFile, keptPaths(cwd, args.directory, env));
  if (unwritable !== undefined) {
    reportSetupFailures([{ reason: "usage", message: unwritable }], cwd, terminal.stderr);
    return { exitCode: ExitCode.Usage, workspace: undefined, interrupted: false };
  }

  const workspace = await openWorkspace(args.directory, env, {
    from: cwd,
    strays,
    onInfo: (_code, message) => terminal.stderr.write(`rbuild: ${message}\n`),
    // A cold build's TUI thread loads ink while the Buildfile does (see early-tui.ts).
    onFound: (root, cacheDir) => tui !== undefined && early.start(tui, root, cacheDir),
  });
  if (!workspace.ok) return fail(workspace.error);
  const { definitions } = workspace.value;
  phase("buildfile");

  let targets = args.targets;
  if (targets.length === 0) {
    if (!definitions.tasks.has("default")) {
      return fail([{ reason: "usage", message: "No task given. Name the tasks to run, e.g. `rbuild build`; `rbuild list` shows them all." }], workspace.value);
    }
    targets = ["default"];
  }
  // --filter or --since selected nothing: said, with empty reports, and a success (as turbo's filters).
  const nothingToDo = (message: string): RunEnd => {
    terminal.stderr.write(`rbuild: ${message}\n`);
    if (summaryFile !== undefined) writeSummary(summaryFile, { version: 1, ok: true, durationMs: 0, tasks: [], errors: [] }, terminal.stderr);
    if (junitFile !== undefined) writeReport("--junit", junitFile, junitReport({ durationMs: 0, results: [] }, () => [], cwd), terminal.stderr);
    return { exitCode: ExitCode.Ok, workspace: workspace.value, targets, interrupted: false };
  };
  const selected = await selectTargets(workspace.value, targets, { filters: args.filters, since: args.since, cwd, env });
  if (!selected.ok) return fail([selected.error], workspace.value);
  if ("nothing" in selected.value) return nothingToDo(selected.value.nothing);
  if (selected.value.info !== undefined) terminal.stderr.write(`rbuild: ${selected.value.info}\n`);
  targets = [...selected.value.targets];
  if (args.since !== undefined) phase("since");
  const planned = plan(definitions, targets);
  if (!planned.ok) return fail(planned.error, workspace.value);
  // --stub: the stubbed tasks run their stand-ins, in this build only.
  const stubbed = stubTasks(definitions, planned.value, args.stubs);
  if (!stubbed.ok) return fail(stubbed.error, workspace.value);
  const once = args.noRetries ? withoutRetries(stubbed.value) : stubbed.value;
  const graph = { ...stubbed, value: args.sandbox ? sandboxed(once) : once };
  phase("plan");
  const noLeases = args.dryRun ? undefined : sharedPoolProblem(graph.value, args.remote);
  if (noLeases !== undefined) return fail([noLeases], workspace.value);
  hooks.planned?.(workspace.value, graph.value);

  const ended = (exitCode: number, interrupted = false): RunEnd => ({ exitCode, workspace: workspace.value, targets, interrupted });
  if (args.dryRun) {
    try {
      return ended(printDryRun(workspace.value.cacheDir, graph.value, terminal, summaryFile));
    } catch (error) {
      const failure = cacheAccessFailure(error, workspace.value.cacheDir);
      if (failure === undefined) throw error;
      return fail([failure], workspace.value);
    }
  }

  const output = new BatchedOutput(terminal.stdout, terminal.stderr);
  const { stdout, stderr } = output;
  const color = terminal.stdoutIsTTY && env.NO_COLOR === undefined;
  const reporters: Reporter[] = [
    mode === "json"
      ? new JsonReporter(stdout)
      : tui !== undefined
        ? tuiReporter(await tui, await early.take(), terminal, { stdout, stderr }, graph.value, workspace.value.cacheDir, color)
        : new PlainReporter({
            stdout,
            stderr,
            cwd,
            color,
            outputLogs: args.outputLogs,
            githubActions: inGitHubActions(env),
            finalTable: inCi(env),
          }),
    { report() {}, close: () => output.flush() },
  ];
  const reporter = fanOut(...reporters);
  const info = (code: string, message: string): void => reporter.report({ type: "info", code, message });

  const interrupt = new AbortController();
  // With --undo-on-interrupt the undos run after the first interrupt; a second one stops them.
  const stopUndos = new AbortController();
  const stopListening = terminal.onInterrupt(() => (interrupt.signal.aborted ? stopUndos.abort() : interrupt.abort()));
  const { cacheDir } = workspace.value;
  const spawn = env.RBUILD_SPAWN === "direct" ? "direct" : "helper";
  engine ??= new Engine({ strays, spawn, ...(args.executor === undefined ? {} : { runner: (await import("./concourse-executor.js")).concourseRunner(args, workspace.value, strays, spawn, env) }) });
  const finish = async (outcome: BuildOutcome): Promise<RunEnd> => {
    phase("execute");
    if (outcome.inputsHashed !== undefined) phaseNote(`inputs hashed ${outcome.inputsHashed.here} (and ${outcome.inputsHashed.helper} on a helper thread)`);
    await reporter.close?.();
    const summaryWritten = summaryFile === undefined || writeSummary(summaryFile, runSummary(outcome, cwd), terminal.stderr);
    const junitWritten = junitFile === undefined || writeReport("--junit", junitFile, junitReport(outcome, (task) => outcome.failureTails.get(task) ?? [], cwd), terminal.stderr);
    const written = summaryWritten && junitWritten;
    phase("finish");
    if (outcome.interrupted) return ended(ExitCode.Interrupted, true);
    return ended(!outcome.ok ? ExitCode.TaskFailed : written ? ExitCode.Ok : ExitCode.Usage);
  };
  try {
    const outcome = await engine.build({
      graph: graph.value,
      cacheDir,
      env,
      reporter,
      signal: interrupt.signal,
      ...(hooks.cancel === undefined ? {} : { cancel: hooks.cancel }),
      jobs: args.jobs,
      keepGoing: args.keepGoing,
      undo: args.undo,
      undoSignal: stopUndos.signal,
      force: args.force,
      ...(args.only ? { cachedOnly: cachedOnly(graph.value) } : {}),
      onLockWait: (wait) => info("waiting", lockWaitMessage(wait)),
      onPhase: phase,
      ...(args.remote === undefined ? {} : { remote: { url: args.remote, ...(args.token === undefined ? {} : { token: args.token }), readOnly: args.remoteReadOnly } }),
      ...(terminal.afterAnswer === undefined ? {} : { afterAnswer: terminal.afterAnswer }),
      ...(leaseTtlFrom(env) === undefined ? {} : { leaseTtlMs: leaseTtlFrom(env) }),
    });
    if (outcome === undefined) return ended(ExitCode.Interrupted, true);
    return await finish(outcome);
  } catch (error) {
    // A write in the cache that the check before the build did not foresee (see cache-access.ts).
    const failure = cacheAccessFailure(error, cacheDir);
    if (failure === undefined) throw error;
    await reporter.close?.(); // The TUI's live area goes first: the error is written below it, not erased with it.
    output.flush();
    return fail([failure], workspace.value);
  } finally {
    // A build interrupted before it started or that threw never finished: the TUI lets go of the terminal.
    await reporter.close?.();
    output.flush();
    stopListening();
  }
}

/** `--no-retries`: the graph with every task run once (its caller retries it: see ConcourseRunner). */
function withoutRetries(graph: Graph): Graph {
  return { ...graph, tasks: new Map([...graph.tasks].map(([name, task]) => [name, task.retry === undefined ? task : { ...task, retry: undefined }])) };
}

/**
 * `--only`: every task of the graph but the targets, taken from the cache. A group among the targets
 * stands for what it groups (through groups of groups): those run, and what they need comes from the cache.
 */
function cachedOnly(graph: Graph): ReadonlySet<string> {
  const running = new Set<string>();
  const take = (name: string): void => {
    if (running.has(name)) return;
    running.add(name);
    const task = graph.tasks.get(name)!;
    if (task.run === undefined) task.deps.forEach(take);
  };
  graph.targets.forEach(take);
  return new Set([...graph.tasks.keys()].filter((name) => !running.has(name)));
}

/**
 * The terminal UI's reporter (ink is loaded only for it), on `thread` if one was started early, drawing on `terminal`
 * through `output` (batched: a frame is one write) with each task's latest
 * recorded duration for its estimate.
 */
function tuiReporter(
  { TuiReporter }: Awaited<ReturnType<typeof loadTui>>,
  thread: TuiThread | undefined,
  terminal: Terminal,
  output: { stdout: TextSink; stderr: TextSink },
  graph: Graph,
  cacheDir: string,
  color: boolean,
): Reporter {
  const tasks = new Set([...graph.tasks.values()].filter((task) => task.run !== undefined).map((task) => task.name));
  const size = (): { columns: number; rows: number } => terminal.size?.() ?? { columns: 80, rows: 24 };
  return new TuiReporter({
    terminal: { write: (text) => output.stdout.write(text), size, onResize: (handler) => terminal.onResize?.(handler) ?? (() => {}) },
    stdout: output.stdout,
    stderr: output.stderr,
    plan: { tasks, expectedMs: () => readRecentDurations(cacheDir) },
    cwd: terminal.cwd,
    color,
    ...(thread === undefined ? {} : { thread }),
  });
}

/** `--dry-run`: each task of the plan, whether it would run, and why. */
function printDryRun(cacheDir: string, graph: Graph, terminal: Terminal, summaryFile: string | undefined): number {
  const store = Store.open({ dir: cacheDir, onInfo: (_code, message) => terminal.stderr.write(`rbuild: ${message}\n`) });
  try {
    const rows = dryRun(graph, { store }, terminal.env);
    const width = Math.max(...rows.map((r) => r.name.length));
    let text = "";
    for (const row of rows) {
      const why = row.reasons.length > 0 ? `  (${row.reasons.join(", ")})` : "";
      const verb = row.action === "run" ? "would run" : row.action === "cached" ? "cached   " : "group    ";
      text += `${verb}  ${row.name.padEnd(width)}${why}`.trimEnd() + "\n";
    }
    const runs = rows.filter((r) => r.action === "run").length;
    text += `rbuild: dry run: ${runs} would run, ${rows.filter((r) => r.action === "cached").length} cached\n`;
    terminal.stdout.write(text);
    if (summaryFile !== undefined && !writeSummary(summaryFile, dryRunSummary(rows), terminal.stderr)) return ExitCode.Usage;
    return ExitCode.Ok;
  } finally {
    store.close();
  }
}
