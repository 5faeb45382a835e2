/**
 * The analysis: every hint rule over one input, and the report the formats
 * print. The report is the versioned JSON schema in README.md.
 */
import { criticalPath, type CriticalPath } from "./critical-path.js";
import { byValue, type Hint, type HintRule } from "./hint.js";
import { broadInput } from "./hints/broad-input.js";
import { criticalPathHint } from "./hints/critical-path.js";
import { globalInput } from "./hints/global-input.js";
import { impureUpstream } from "./hints/impure-upstream.js";
import { missingDep } from "./hints/missing-dep.js";
import { missingImportDep } from "./hints/missing-import-dep.js";
import { nondeterministic } from "./hints/nondeterministic.js";
import { redundantEdge } from "./hints/redundant-edge.js";
import { restoreSlower } from "./hints/restore-slower.js";
import { serialBottleneck } from "./hints/serial-bottleneck.js";
import { volatileInput } from "./hints/volatile-input.js";
import type { GraphAnalysisInput, TaskKind } from "./input.js";
import { allStats } from "./stats.js";

/** The version of the report's JSON schema: a change that removes or retypes a field makes a new one. */
export const REPORT_VERSION = 1;

export interface TaskReport {
  readonly name: string;
  readonly kind: TaskKind;
  readonly deps: readonly string[];
  readonly durationMs: number | null;
  readonly runs: number;
  readonly hitRate: number | null;
  /** Its stage, when it has one. */
  readonly stage?: string;
}

export interface GraphReport {
  readonly version: typeof REPORT_VERSION;
  readonly tasks: readonly TaskReport[];
  readonly criticalPath: CriticalPath;
  /** Most valuable first (see byValue). */
  readonly hints: readonly Hint[];
}

/** Every hint family, one file each under hints/. */
export const HINT_RULES: readonly HintRule[] = [
  missingDep,
  missingImportDep,
  redundantEdge,
  impureUpstream,
  broadInput,
  globalInput,
  volatileInput,
  nondeterministic,
  restoreSlower,
  serialBottleneck,
  criticalPathHint,
];

export function analyse(input: GraphAnalysisInput, rules: readonly HintRule[] = HINT_RULES): GraphReport {
  const stats = allStats(input.tasks, input.history);
  const { focus } = input;
  const hints = rules.flatMap((rule) => rule(input));
  return {
    version: REPORT_VERSION,
    tasks: input.tasks.map((task) => ({ name: task.name, kind: task.kind, deps: task.deps, ...stats.get(task.name)!, ...(task.stage === undefined ? {} : { stage: task.stage }) })),
    criticalPath: criticalPath(input.tasks, stats),
    // A hint is about the tasks it names: one naming a focused task stays, whatever else it names.
    hints: (focus === undefined ? hints : hints.filter((hint) => hint.tasks.some((name) => focus.has(name)))).sort(byValue),
  };
}
