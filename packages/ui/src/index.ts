export { PlainReporter, BatchedOutput, OUTPUT_LOGS } from "./plain-reporter.js";
export type { OutputLogs, PlainReporterOptions, TextSink } from "./plain-reporter.js";
export { JsonReporter } from "./json-reporter.js";
export { dryRunSummary, runSummary } from "./summary.js";
export type { DryRunSummary, RunSummary, SummaryTask } from "./summary.js";
export { inCi, inGitHubActions } from "./github-actions.js";
export { junitReport, junitSetupFailure } from "./junit.js";
export { recapText } from "./recap.js";
export type { TuiPlan } from "./tui-state.js";
export type { TuiReporterOptions, TuiTerminal } from "./tui-reporter.js";
export type { TuiThread } from "./tui-thread.js";
/** The terminal UI's reporter, loaded on first use: it brings ink and React, which no other output needs. */
export const loadTui = (): Promise<typeof import("./tui-reporter.js")> => import("./tui-reporter.js");
export { formatDuration } from "./duration.js";
