/**
 * `rbuild/testing`: test a pipeline in vitest (or any runner) without running
 * it on the world.
 *
 * ```ts
 * import { loadBuildfile, plan, runInCopy } from "rbuild/testing";
 *
 * const pipeline = await loadBuildfile("fixtures/deploy-pipeline");
 * const graph = plan(pipeline, "promote");
 * expect(graph.tasks["deploy-staging"]).toMatchObject({ deps: ["package"], pure: false });
 *
 * const run = await runInCopy(pipeline, "promote", { stubs: { "deploy-prod": "echo deployed > prod.txt" } });
 * onTestFinished(() => run.cleanup());
 * expect(run.results["deploy-prod"]).toMatchObject({ status: "ran", stubbed: true });
 * ```
 *
 * - {@link loadBuildfile} loads and checks a Buildfile, leaving its workspace untouched;
 * - {@link plan} plans targets as `rbuild` would, as plain data (deps, what enters each key, pure or not);
 * - {@link runInCopy} builds in a temporary copy of the workspace, impure tasks
 *   replaced by stubs (as `rbuild --stub`), and returns the summary, the events and the copy.
 */
export { loadBuildfile, Pipeline } from "./testing/pipeline.js";
export { plan } from "./testing/planned-graph.js";
export type { PlannedGraph, PlannedTask } from "./testing/planned-graph.js";
export { runInCopy } from "./testing/run-in-copy.js";
export type { CopyRun, RunInCopyOptions } from "./testing/run-in-copy.js";
export { PipelineError } from "./testing/pipeline-error.js";
export type { BuildEvent, RunFunction, SetupFailure, TaskResult } from "@rbuild/core";
export type { RunSummary, SummaryTask } from "@rbuild/ui";

// A Buildfile loaded here imports "rbuild": the bundled CLI beside this module, unless rbuild itself is running.
const API = Symbol.for("rbuild.api-module");
const global = globalThis as { [key: symbol]: unknown };
global[API] ??= new URL("./rbuild.mjs", import.meta.url).href;
