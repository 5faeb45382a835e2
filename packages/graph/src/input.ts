/**
 * What the analysis reads: data only, gathered elsewhere (gather.ts reads the
 * workspace, the CLI reads the history from the store). Every hint is a pure
 * function of a GraphAnalysisInput (see hint.ts), so a test builds one by hand.
 */
import type { HistoryRun } from "@rbuild/store";

/** How a task takes part in caching: `group` runs nothing itself, `impure` always runs. */
export type TaskKind = "pure" | "impure" | "group";

/** A task's static facts, as the Buildfile declares them. Paths and globs are relative to the workspace root. */
export interface TaskFacts {
  readonly name: string;
  readonly kind: TaskKind;
  readonly deps: readonly string[];
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Its working directory, `""` for the root. */
  readonly cwd: string;
  /** The stage it belongs to (see @rbuild/core stage.ts), if any. */
  readonly stage?: string;
}

/**
 * One recorded run of a task in a build, newest first in TaskHistory.runs:
 * @rbuild/store's HistoryRun (its fields documented there) without the build
 * number, which no hint reads. A type only: the analysis reads no index.
 */
export type RecordedRun = Omit<HistoryRun, "build">;

/**
 * What the index recorded about one task: the build history's rows with each
 * run's evidence (@rbuild/store `run_evidence`), and the durations stored with
 * its cached actions.
 */
export interface TaskHistory {
  /** The task's most recent runs, newest first (a bounded number, see @rbuild/store readTaskHistory). */
  readonly runs: readonly RecordedRun[];
  /** The run durations stored with the task's cached actions (each action's original run). */
  readonly actionDurationsMs: readonly number[];
}

/** A package of the JavaScript workspace (npm, pnpm or yarn workspaces). */
export interface WorkspacePackageFacts {
  readonly name: string;
  /** Relative to the workspace root, `/` separators. */
  readonly dir: string;
}

export interface GraphAnalysisInput {
  /** The planned tasks, in topological order (every task after its deps). */
  readonly tasks: readonly TaskFacts[];
  /**
   * Tasks the Buildfile declares that are not in the plan: hints may name them
   * (the task that writes a file a planned task reads), never analyse them.
   */
  readonly outside: readonly TaskFacts[];
  /** Each planned task's input files as they are on disk now (its globs expanded). */
  readonly inputFiles: ReadonlyMap<string, readonly string[]>;
  /**
   * The output files on disk now of every task, planned or outside, that has
   * any: a task in it has been built, so the files, not its globs, say what it writes.
   */
  readonly outputFiles: ReadonlyMap<string, readonly string[]>;
  /** For the TypeScript files among the inputs: the module specifiers each imports. */
  readonly imports: ReadonlyMap<string, readonly string[]>;
  /** The JavaScript workspace's packages; empty when the root is none. */
  readonly packages: readonly WorkspacePackageFacts[];
  /** What the index recorded, by task; a task with no entry has no record. */
  readonly history: ReadonlyMap<string, TaskHistory>;
  /** The store directory relative to the root, when it lies inside the workspace. */
  readonly storeDir: string | undefined;
  /** The `-j` the build would use, for the critical path's bound with that many cores. */
  readonly jobs: number;
  /**
   * The tasks the hints are about (`rbuild graph --filter`: the selected
   * packages' tasks): a hint that names none of them is left out, though every
   * planned task, deps outside the selection too, is analysed and may be its
   * evidence. Undefined: every planned task.
   */
  readonly focus: ReadonlySet<string> | undefined;
}
