export { ConcourseClient, CONFIG_VERSION_HEADER } from "./client.js";
export type { ConcourseTarget } from "./session.js";
export type { FollowOptions, Followed } from "./event-stream.js";
export { TERMINAL_STATUSES } from "./types.js";
export { interpolateVars } from "./vars.js";
export type { Build, BuildEvent, BuildStatus, ConcourseFailure, Job, Origin, Pipeline, SetPipelineResult, WorkerArtifact } from "./types.js";
