/**
 * What the Concourse REST API answers, as the client hands it on (reference
 * concourse.md §2), and the failures it returns as values. Only the fields
 * rbuild reads are typed; the rest of an answer is kept as it came.
 */

export type BuildStatus = "pending" | "started" | "succeeded" | "failed" | "errored" | "aborted";

/** `atc.Build` (§2.7). `name` is a string; times are unix seconds; no `job_name` means a one-off build. */
export interface Build {
  readonly id: number;
  readonly name: string;
  readonly status: BuildStatus;
  readonly team_name: string;
  readonly api_url: string;
  readonly job_name?: string;
  readonly pipeline_id?: number;
  readonly pipeline_name?: string;
  readonly start_time?: number;
  readonly end_time?: number;
}

/** `atc.Pipeline` (§2.5), the fields rbuild reads. */
export interface Pipeline {
  readonly id: number;
  readonly name: string;
  readonly paused: boolean;
  readonly public: boolean;
  readonly archived: boolean;
  readonly team_name: string;
}

/** `atc.Job` (§2.6), the fields rbuild reads. */
export interface Job {
  readonly id: number;
  readonly name: string;
  readonly team_name: string;
  readonly pipeline_name: string;
  readonly next_build: Build | null;
  readonly finished_build: Build | null;
  readonly disable_manual_trigger?: boolean;
}

/** `atc.WorkerArtifact` (§2.9). */
export interface WorkerArtifact {
  readonly id: number;
  readonly name: string;
  readonly build_id: number;
  readonly created_at: number;
}

/** A `PUT .../config` answer: whether the pipeline is new, and Concourse's warnings (`invalid_identifier`, ...). */
export interface SetPipelineResult {
  readonly created: boolean;
  readonly warnings: readonly { readonly type: string; readonly message: string }[];
}

export interface Origin {
  readonly id: string;
  readonly source?: "stdout" | "stderr";
}

/**
 * One event of a build's stream (§2.8), the envelope's `event` and `data`.
 * `id` is the stream index the server numbered it with (what `Last-Event-ID` resumes after).
 * Types rbuild does not read come as `other`, with their data as sent.
 */
export type BuildEvent = { readonly id: number; readonly version: string } & (
  | { readonly event: "status"; readonly data: { readonly status: BuildStatus; readonly time: number } }
  | { readonly event: "log"; readonly data: { readonly time: number; readonly origin: Origin; readonly payload: string } }
  | { readonly event: "initialize-task" | "start-task"; readonly data: { readonly time: number; readonly origin: Origin; readonly config?: unknown } }
  | { readonly event: "finish-task"; readonly data: { readonly time: number; readonly origin: Origin; readonly exit_status: number } }
  | { readonly event: "error"; readonly data: { readonly time: number; readonly origin?: Origin; readonly message: string } }
  | { readonly event: "other"; readonly type: string; readonly data: unknown }
);

/**
 * Why a request to Concourse failed. `message` says what happened (the URL, the team, the status and
 * Concourse's own error text) and what to do; it never holds a password or a token.
 */
export type ConcourseFailure = {
  readonly reason:
    | "unreachable" // no answer: refused, reset, timed out
    | "login-failed" // the password grant was refused
    | "unauthorized" // 401 even after logging in again
    | "forbidden" // 403: the user is not in the team
    | "not-found" // 404
    | "config-conflict" // the pipeline's config changed between reading its version and saving
    | "invalid-config" // 400 from `PUT .../config`: Concourse's errors are in the message
    | "trigger-disabled" // 409 on a manual trigger
    | "status" // any other unexpected status
    | "bad-answer" // an answer that is not what the API documents
    | "stream-lost"; // the event stream kept dropping without progress
  readonly message: string;
  readonly url: string;
  readonly status?: number;
};

export const TERMINAL_STATUSES: readonly BuildStatus[] = ["succeeded", "failed", "errored", "aborted"];
