export { execute } from "./executor.js";
export type { ExecuteOptions, BuildOutcome } from "./executor.js";
export { LocalRunner } from "./local-runner.js";
export type { Runner, RunRequest, RunOutcome } from "./runner.js";
export { PASS_THROUGH_ENV } from "./task-env.js";
export type { CacheOptions } from "./task-cache.js";
export { dryRun } from "./dry-run.js";
export type { PlannedRun } from "./dry-run.js";
export { clearOutputs } from "./clear-outputs.js";
