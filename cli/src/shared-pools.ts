/**
 * Shared pools take their leases from the `--remote` cache server: a build
 * with a task in one and no such server is refused before it starts, saying
 * what to pass, rather than failing the task halfway through the build.
 */
import type { SetupFailure } from "@rbuild/core";
import type { Graph } from "@rbuild/planner";

/** Whether the `--remote` URL names an rbuild-cache-server (http or https), the one kind of remote that keeps leases. */
export function keepsLeases(remote: string): boolean {
  return /^https?:\/\//.test(remote);
}

/** Why `graph` cannot be built with `remote` (the --remote URL), or undefined when it can. */
export function sharedPoolProblem(graph: Graph, remote: string | undefined): SetupFailure | undefined {
  const task = [...graph.tasks.values()].find((t) => t.pool?.shared === true && t.run !== undefined);
  if (task === undefined || (remote !== undefined && keepsLeases(remote))) return undefined;
  const why = remote === undefined ? "no --remote was given" : `--remote ${remote} is ${remote.startsWith("file:") ? "a directory" : "a plain file store"}, which keeps no leases`;
  return {
    reason: "usage",
    message:
      `Task "${task.name}" is in shared pool "${task.pool!.name}", whose leases come from an rbuild-cache-server, and ${why}. ` +
      "Pass --remote http(s)://<server> (or set RBUILD_REMOTE_CACHE) with a token that may write (--token or RBUILD_TOKEN).",
  };
}

/** RBUILD_LEASE_TTL_MS: a shorter lease TTL, for tests; undefined (the default, 30 s) unless a whole number of ms from 100 up. */
export function leaseTtlFrom(env: Readonly<Record<string, string | undefined>>): number | undefined {
  const value = env.RBUILD_LEASE_TTL_MS;
  return value !== undefined && /^\d+$/.test(value) && Number(value) >= 100 ? Number(value) : undefined;
}
