/**
 * The pool boy's `BuildStatusLookup` (@rbuild/poolgit) over the Concourse client: a job's build by
 * name, a one-off by id. No answer, a refused login or a 401 stop all checking ("unreachable"); a 404
 * means there is no such build; anything else is doubt about that one claim.
 */
import { ConcourseClient, TERMINAL_STATUSES, type Build, type ConcourseFailure } from "@rbuild/concourse";
import { err, ok, type Result } from "@rbuild/core";
import type { BuildRef, BuildStatus, BuildStatusLookup, LookupFailure } from "@rbuild/poolgit";

const KNOWN: readonly string[] = ["pending", "started", ...TERMINAL_STATUSES];

export function concourseBuildLookup(client: ConcourseClient): BuildStatusLookup {
  const url = client.target.url.replace(/\/+$/, "");
  return {
    url,
    team: client.target.team,
    async lookup(ref: BuildRef): Promise<Result<BuildStatus | "not-found", LookupFailure>> {
      const got: Result<Build, ConcourseFailure> = ref.kind === "job" ? await client.getJobBuild(ref.pipeline, ref.job, ref.name, ref.team) : await client.getBuild(ref.id);
      if (!got.ok) {
        if (got.error.reason === "not-found") return ok("not-found");
        const fatal = got.error.reason === "unreachable" || got.error.reason === "login-failed" || got.error.reason === "unauthorized";
        return err({ reason: fatal ? "unreachable" : "answer", message: got.error.message });
      }
      if (ref.kind === "one-off" && got.value.job_name !== undefined) return err({ reason: "answer", message: `build ${ref.id} on ${url} belongs to job "${got.value.job_name}", not a one-off build` });
      if (!KNOWN.includes(got.value.status)) return err({ reason: "answer", message: `${url} gave the build the unknown status "${String(got.value.status)}"` });
      return ok(got.value.status);
    },
  };
}
