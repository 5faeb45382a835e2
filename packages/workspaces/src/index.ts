export { discoverWorkspace } from "./discover.js";
export type { Workspace, WorkspacePackage } from "./discover.js";
export type { PackageManager } from "./package-manager.js";
export { WorkspaceError } from "./errors.js";
export { scripts, workspace } from "./scripts.js";
export type { ScriptsOptions, ScriptTaskOptions } from "./scripts.js";
export { selectPackages } from "./filter.js";
