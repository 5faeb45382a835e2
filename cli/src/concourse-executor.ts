/**
 * `rbuild <targets> --executor concourse`: the build's runner is a ConcourseRunner (see
 * @rbuild/concourse): misses run as one-off builds on the Concourse, what cannot be picked up
 * through the remote cache (impure tasks) here. Loaded only for such a build.
 */
import type { StrayErrors } from "@rbuild/core";
import { ConcourseClient, ConcourseRunner } from "@rbuild/concourse";
import { RunnerChoice } from "@rbuild/runners";
import type { Args } from "./args.js";
import type { Workspace } from "./workspace.js";
import { concourseSources } from "./concourse-sources.js";

/**
 * The runner for `args.executor`. RBUILD_BIN, if set, is how the builds' script starts rbuild
 * (the test double runs it on this machine); a real Concourse's image has rbuild on its PATH.
 */
export function concourseRunner(args: Args, workspace: Workspace, strays: StrayErrors, spawn: "direct" | "helper", env: Readonly<Record<string, string | undefined>>): ConcourseRunner {
  const executor = args.executor!;
  const client = new ConcourseClient({ url: executor.url, team: executor.team, username: executor.username, password: executor.password });
  return new ConcourseRunner({
    client,
    remote: { url: args.remote!, ...(args.token === undefined ? {} : { token: args.token }) },
    image: executor.image,
    sources: concourseSources(workspace),
    local: new RunnerChoice({ strays, spawn }),
    ...(env.RBUILD_BIN === undefined || env.RBUILD_BIN === "" ? {} : { rbuildBin: env.RBUILD_BIN }),
  });
}
