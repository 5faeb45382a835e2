/**
 * `--executor concourse`: a Runner that runs each cache miss as a Concourse one-off build (what
 * `fly execute` does, reference concourse.md §2.9). The executor's cache step runs first, as with
 * any runner, so a task that hits the cache never gets here.
 *
 * For a request whose result the executor can pick up from the remote cache (`remoteResult`: a
 * pure task in a build with --remote), the runner uploads an artifact holding the inputs of the
 * task and of its deps (there, their keys are computed again to find them in the cache) and the Buildfile's sources (workspace-archive.ts), creates a build whose plan runs
 * `rbuild run <task> --only --remote URL` in the image, follows its event stream (the client
 * resumes a dropped one with Last-Event-ID) with the log handed on as the task's output, and
 * answers `remote-cache`: the run there uploaded the result, and the executor restores it from
 * the remote cache, verified. The cache token goes in the plan's params (the task's environment
 * there), never on its command line. An abort of the request aborts the build.
 *
 * Other requests (an impure task, whose result no cache keeps) run here, with `local`.
 */
import { describeFailure } from "@rbuild/core";
import type { BuildHold, RunOutcome, RunRequest, Runner } from "@rbuild/runners";
import { imageResource, type ImageResource } from "../render/image.js";
import type { ConcourseClient } from "../client/client.js";
import type { BuildEvent } from "../client/types.js";
import { archiveFiles, packArchive } from "./workspace-archive.js";
import { RemoteEvents } from "./remote-events.js";

export interface ConcourseRunnerOptions {
  readonly client: ConcourseClient;
  /** The shared remote cache: the one-off builds read deps from it and write results to it. */
  readonly remote: { readonly url: string; readonly token?: string };
  /** The container image the builds run in: it must have rbuild on its PATH (see `rbuildBin`). */
  readonly image: string;
  /** What the Buildfile's code comes from (absolute paths): sent along, so the build there can load it. */
  readonly sources: readonly string[];
  /** Runs what cannot run remotely, and keeps the build's process records (begin, prepare). */
  readonly local: Runner & { close?(): void };
  /**
   * How the build's script starts rbuild, as RBUILD_BIN in its environment: by default `rbuild`
   * on the image's PATH. The test double runs scripts on this machine, so tests give the built CLI.
   */
  readonly rbuildBin?: string;
}

const INPUT = "workspace";

/** A word for sh, quoted. */
const quote = (word: string): string => `'${word.replaceAll("'", `'\\''`)}'`;

export class ConcourseRunner implements Runner {
  readonly #options: ConcourseRunnerOptions;
  readonly #image: ImageResource;
  /** Plan ids, as fly makes them: hex of a counter seeded with the time. */
  #planId = Math.floor(Date.now() / 1000);

  constructor(options: ConcourseRunnerOptions) {
    const image = imageResource(options.image);
    if (image === undefined) throw new Error(`bug: "${options.image}" is not an image reference (the CLI checks it)`);
    this.#options = options;
    this.#image = image;
  }

  run(request: RunRequest): Promise<RunOutcome> {
    if (request.remoteResult !== true) return this.#options.local.run(request);
    return this.#runRemotely(request);
  }

  prepare(runs: Iterable<RunRequest["run"] | undefined>): void {
    this.#options.local.prepare?.(runs);
  }

  async begin(dir: string): Promise<BuildHold> {
    return (await this.#options.local.begin?.(dir)) ?? { stopped: [], release() {} };
  }

  mayHaveLeftRunning(dir: string): boolean {
    return this.#options.local.mayHaveLeftRunning?.(dir) ?? false;
  }

  functionsRunning(): readonly string[] {
    return this.#options.local.functionsRunning?.() ?? [];
  }

  close(): void {
    this.#options.local.close?.();
    void this.#options.client.close();
  }

  #id(): string {
    return (this.#planId++).toString(16);
  }

  /** The one-off build's plan: the artifact as input `workspace`, and a task running rbuild in it. */
  #plan(task: string, artifactId: number): unknown {
    const { remote, rbuildBin } = this.#options;
    // No daemon: the build's container ends with the run.
    const params: Record<string, string> = { RBUILD_DAEMON: "0" };
    if (remote.token !== undefined) params.RBUILD_TOKEN = remote.token;
    if (rbuildBin !== undefined) params.RBUILD_BIN = rbuildBin;
    // Events, not a reporter's lines (see remote-events.ts); no retries there: this build's executor retries the task.
    const script = `exec "\${RBUILD_BIN:-rbuild}" run ${quote(task)} --only --no-retries --remote ${quote(remote.url)} --output json`;
    return {
      id: this.#id(),
      do: [
        { id: this.#id(), in_parallel: { steps: [{ id: this.#id(), artifact_input: { artifact_id: artifactId, name: INPUT } }] } },
        {
          id: this.#id(),
          task: {
            name: "one-off",
            privileged: false,
            hermetic: false,
            config: { platform: "linux", image_resource: this.#image, inputs: [{ name: INPUT }], params, run: { path: "sh", args: ["-c", script], dir: INPUT } },
          },
        },
      ],
    };
  }

  async #runRemotely(request: RunRequest): Promise<RunOutcome> {
    const { client } = this.#options;
    const { task, signal } = request;
    const failed = (message: string): RunOutcome => ({ ok: false, exitCode: null, failure: { reason: "remote-run", task, message } });
    const interrupted: RunOutcome = { ok: false, exitCode: null, failure: { reason: "interrupted", task } };
    if (signal.aborted) return interrupted;

    let archive: Buffer;
    try {
      archive = await packArchive(request.root, archiveFiles(request.root, [request.inputs, ...(request.depInputs ?? [])], this.#options.sources));
    } catch (error) {
      return failed(`its inputs could not be packed for Concourse: ${(error as Error).message}`);
    }
    const artifact = await client.uploadArtifact(() => archive);
    if (!artifact.ok) return failed(`uploading its inputs to Concourse: ${artifact.error.message}`);
    if (signal.aborted) return interrupted;
    const created = await client.createBuild(this.#plan(task, artifact.value.id));
    if (!created.ok) return failed(`starting its one-off build on Concourse: ${created.error.message}`);
    const build = created.value;
    const where = `${client.target.url.replace(/\/+$/, "")}/builds/${build.id}`;
    request.info?.("concourse", `task "${task}" runs as one-off build ${build.id} on Concourse: ${where}`);

    // Ctrl-C (or the build stopping for a failure): abort the remote build, then follow it to its end.
    let aborted: Promise<unknown> | undefined;
    const abort = (): void => {
      aborted ??= client.abortBuild(build.id);
    };
    signal.addEventListener("abort", abort, { once: true });
    if (signal.aborted) abort();
    let exitStatus: number | undefined;
    const errors: string[] = [];
    const remoteEvents = new RemoteEvents(task, { stdout: request.stdout, stderr: request.stderr });
    const onEvent = (event: BuildEvent): void => {
      if (event.event === "log") remoteEvents.log(event.data.origin.source === "stderr" ? "stderr" : "stdout", event.data.payload);
      else if (event.event === "finish-task") exitStatus = event.data.exit_status;
      else if (event.event === "error") errors.push(event.data.message);
    };
    try {
      const followed = await client.followBuild(build.id, { onEvent });
      remoteEvents.end();
      await aborted;
      if (signal.aborted) return interrupted;
      if (!followed.ok) return failed(`following its one-off build ${build.id} on Concourse: ${followed.error.message} See ${where}.`);
      const status = followed.value.status;
      if (status === "succeeded") return { ok: true, exitCode: remoteEvents.result?.exitCode ?? 0, produced: { kind: "remote-cache" } };
      if (status === "failed" && exitStatus !== undefined && exitStatus !== 0) {
        // What rbuild there said: the task's own failure (its command's exit code), or what kept it from running.
        const own = remoteEvents.result?.failure;
        if (own?.reason === "exit-nonzero") return { ok: false, exitCode: own.exitCode, failure: own };
        const there = own ?? remoteEvents.otherFailure;
        if (there !== undefined) return failed(`in its one-off build ${build.id} on Concourse: ${describeFailure(there, { cwd: request.root })} See ${where}.`);
        return failed(`rbuild in its one-off build ${build.id} on Concourse exited with code ${exitStatus} before it ran the task; its log above says why. See ${where}.`);
      }
      const said = errors.length === 0 ? "" : `: ${errors.join("; ")}`;
      return failed(`its one-off build ${build.id} on Concourse ended ${status ?? "without a status"}${said}. See ${where}.`);
    } finally {
      signal.removeEventListener("abort", abort);
    }
  }
}
