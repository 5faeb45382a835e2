export { PlainReporter, BatchedOutput, OUTPUT_LOGS } from "./plain-reporter.js";
export type { OutputLogs, PlainReporterOptions, TextSink } from "./plain-reporter.js";
export { JsonReporter } from "./json-reporter.js";
export { dryRunSummary, runSummary } from "./summary.js";
export type { DryRunSummary, RunSummary, SummaryTask } from "./summary.js";
export { inCi, inGitHubActions } from "./github-actions.js";
export { junitReport, junitSetupFailure } from "./junit.js";
export { formatDuration } from "./duration.js";
