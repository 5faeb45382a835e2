export { PlainReporter, BatchedOutput } from "./plain-reporter.js";
export type { PlainReporterOptions, TextSink } from "./plain-reporter.js";
export { JsonReporter } from "./json-reporter.js";
export { runSummary } from "./summary.js";
export type { RunSummary, SummaryTask } from "./summary.js";
