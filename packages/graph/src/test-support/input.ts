/** Analysis inputs built by hand for the hints' tests: tasks in a few words, the rest defaulted. */
import type { GraphAnalysisInput, RecordedRun, TaskFacts, TaskHistory } from "../input.js";

export type TaskSketch = Partial<TaskFacts> & { readonly name: string };

export function task(sketch: TaskSketch): TaskFacts {
  return { kind: "pure", deps: [], inputs: [], outputs: [], cwd: "", ...sketch };
}

/** An input with `tasks` (in topological order) and whatever else `rest` sets. */
export function inputOf(tasks: readonly TaskSketch[], rest: Partial<Omit<GraphAnalysisInput, "tasks">> = {}): GraphAnalysisInput {
  return {
    tasks: tasks.map(task),
    outside: [],
    inputFiles: new Map(),
    outputFiles: new Map(),
    imports: new Map(),
    packages: [],
    history: new Map(),
    storeDir: ".rbuild",
    jobs: 2,
    focus: undefined,
    ...rest,
  };
}

const NO_EVIDENCE = { restoreMs: null, changedInputs: [], outputs: null } as const;

/** A history of runs that ran, taking these durations, newest first. */
export function ran(...durations: number[]): TaskHistory {
  return { runs: durations.map((durationMs): RecordedRun => ({ ...NO_EVIDENCE, status: "ran", cache: null, durationMs, key: "k", outputsDigest: "d" })), actionDurationsMs: [] };
}

export function runs(...list: Partial<RecordedRun>[]): TaskHistory {
  return { runs: list.map((run) => ({ ...NO_EVIDENCE, status: "ran", cache: null, durationMs: 0, key: "k", outputsDigest: "d", ...run })), actionDurationsMs: [] };
}
