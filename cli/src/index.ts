/**
 * The Buildfile API. A `Buildfile.ts` imports from here:
 *
 * ```ts
 * import { task } from "rbuild";
 * ```
 *
 * When rbuild loads a Buildfile, `"rbuild"` resolves to the running rbuild, so
 * this works without installing rbuild next to the Buildfile.
 */
export { task, pool, stage, ExecError } from "@rbuild/core";
export type { Task, TaskOptions, Pool, PoolOptions, Stage, StageOptions, ContextOutputs, ContextValue, RunContext, RunFunction, ExecOptions, ExecResult } from "@rbuild/core";
export { scripts, workspace } from "@rbuild/workspaces";
export type { ScriptsOptions, ScriptTaskOptions, Workspace, WorkspacePackage, PackageManager } from "@rbuild/workspaces";
