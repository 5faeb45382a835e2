/**
 * The executor's public face: an Engine runs builds (one, or a daemon's many);
 * dryRun says what a build would do; clearOutputs is `rbuild clean`'s. The rest
 * (the scheduler, the cache step, the freshness record, the stat thread) is the
 * engine's own.
 */
export { Engine } from "./engine.js";
export type { BuildRequest, EngineOptions, RemoteRequest } from "./engine.js";
export type { BuildOutcome, UndoWhen } from "./executor.js";
export { dryRun } from "./dry-run.js";
export type { PlannedRun } from "./dry-run.js";
export { clearOutputs } from "./clear-outputs.js";
