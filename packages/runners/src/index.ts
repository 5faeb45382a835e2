export type { BuildHold, Produced, Runner, RunOutcome, RunRequest } from "./runner.js";
export { LocalRunner } from "./local-runner.js";
export type { LocalRunnerOptions } from "./local-runner.js";
export { KILL_GRACE_MS } from "./spawn-group.js";
export { leftRunningMessage, stopLeftRunning } from "./running-groups.js";
export { SandboxRunner } from "./sandbox-runner.js";
export type { SandboxRunnerOptions } from "./sandbox-runner.js";
export { RunnerChoice } from "./runner-choice.js";
export type { RunnerChoiceOptions } from "./runner-choice.js";
