// @rbuild/concourse: rbuild and Concourse CI. src/render/ turns a build graph into a pipeline and
// src/validate/ checks pipelines against Concourse's validation rules; src/client/ is the REST client;
// src/test-support/ holds the test double (not exported here).
export * from "./render/index.js";
export * from "./validate/index.js";
export { ConcourseClient, CONFIG_VERSION_HEADER, interpolateVars, TERMINAL_STATUSES } from "./client/index.js";
export type { Build, BuildEvent, BuildStatus, ConcourseFailure, ConcourseTarget, FollowOptions, Followed, Job, Origin, Pipeline, SetPipelineResult, WorkerArtifact } from "./client/index.js";
