/**
 * Who claimed a lock, read from the message of the commit that moved it into
 * `claimed/`. The pool resource's subject line changed over the years
 * (concourse/pool-resource `out/git_lock_handler.go`):
 *
 *   2015      <pipeline>/<job> `#<build>` claiming: <lock>        (backquotes optional here)
 *   2016-07   <pipeline>/<job> build <n> claiming: <lock>
 *             one-off build <id> claiming: <lock>
 *   2018-12   <team>/<pipeline>/<job> build <n> claiming: <lock>
 *   2026-01   <team>/<pipeline>/<instance_vars>/<job> build <n> claiming: <lock>
 *   2026-05   claiming: <lock>, with a body line `Build URL: <url>`
 *
 * `adding claimed: <lock>` (a lock added already claimed) names no build.
 * Segments are split on "/": the first is the team, the last the job, and
 * anything between the pipeline and the job is the instance vars (which may
 * hold "/" themselves), so an instanced subject does not shift team and pipeline.
 */
import { unreachable } from "@rbuild/core";

export type ClaimingBuild =
  | { readonly kind: "job"; readonly team?: string; readonly pipeline: string; readonly instanceVars?: string; readonly job: string; readonly build: string }
  | { readonly kind: "one-off"; readonly build: string }
  | { readonly kind: "url"; readonly url: string }
  | { readonly kind: "added-claimed" }
  | { readonly kind: "unknown"; readonly subject: string };

/** The claiming build named by a commit message (subject line, then body). */
export function parseClaimMessage(message: string): ClaimingBuild {
  const [subject = "", ...body] = message.trim().split("\n");
  const oneOff = /^one-off build (\S+) claiming: .+$/.exec(subject);
  if (oneOff !== null) return { kind: "one-off", build: oneOff[1]! };
  const job = /^(\S+) (?:build (\S+)|`?#([^`\s]+)`?) claiming: .+$/.exec(subject);
  if (job !== null) {
    const segments = job[1]!.split("/");
    const build = job[2] ?? job[3]!;
    if (segments.length === 2) return { kind: "job", pipeline: segments[0]!, job: segments[1]!, build };
    if (segments.length === 3) return { kind: "job", team: segments[0]!, pipeline: segments[1]!, job: segments[2]!, build };
    if (segments.length > 3) {
      const instanceVars = segments.slice(2, -1).join("/");
      return { kind: "job", team: segments[0]!, pipeline: segments[1]!, instanceVars, job: segments.at(-1)!, build };
    }
  }
  if (/^claiming: .+$/.test(subject)) {
    const url = body.map((line) => /^Build URL: (\S+)\s*$/.exec(line)?.[1]).find((found) => found !== undefined);
    if (url !== undefined) return { kind: "url", url };
  }
  if (/^adding claimed: .+$/.test(subject)) return { kind: "added-claimed" };
  return { kind: "unknown", subject };
}

/** The claiming build in a few words, for status lines and commit messages. */
export function describeClaimingBuild(build: ClaimingBuild): string {
  switch (build.kind) {
    case "job": {
      const path = [build.team, build.pipeline, build.instanceVars, build.job].filter((part) => part !== undefined).join("/");
      return `${path} build ${build.build}`;
    }
    case "one-off":
      return `one-off build ${build.build}`;
    case "url":
      return build.url;
    case "added-claimed":
      return "no build (added already claimed)";
    case "unknown":
      return `an unrecognised commit ("${build.subject}")`;
    default:
      return unreachable(build);
  }
}
