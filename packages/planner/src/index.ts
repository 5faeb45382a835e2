export { findBuildfile, BUILDFILE } from "./find-buildfile.js";
export { loadBuildfile, compiledModuleDir } from "./load-buildfile.js";
export type { LoadOptions, LoadedBuildfile } from "./load-buildfile.js";
export { defineTasks, taskNameProblem } from "./define.js";
export { plan } from "./plan.js";
export { suggest } from "./suggest.js";
export type { Definitions, Graph, GraphTask, TaskDef } from "./graph.js";
export { taskKey, keyOfEncoded, encodeRecord, decodeRecord, canonicalRecord, changedInputs, explainChange, KEY_FORMAT } from "./key.js";
export type { KeyRecord } from "./key.js";
