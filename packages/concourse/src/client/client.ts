/**
 * The Concourse REST client: the routes `fly` uses to set a pipeline, unpause it, trigger a job,
 * watch and abort builds, and run one-off builds (reference concourse.md §2). Every method
 * resolves to a Result; a failure's message names the URL, the team, the status and Concourse's
 * own error text, never a credential.
 */
import type { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import { err, ok, type Result } from "@rbuild/core";
import { followBuild, type FollowOptions, type Followed } from "./event-stream.js";
import { discard, readText, Session, type ConcourseTarget } from "./session.js";
import type { Build, ConcourseFailure, Job, Pipeline, SetPipelineResult, WorkerArtifact } from "./types.js";

/** The header carrying a pipeline config's version (atc.ConfigVersionHeader). */
export const CONFIG_VERSION_HEADER = "x-concourse-config-version";
/** What `PUT .../config` answers when the version sent is not the pipeline's current one (atc/db/team.go). */
const CONFLICT_TEXT = "comparison with existing config failed during save";
const ANSWER_BYTES = 16 * 1024 * 1024;

const segment = encodeURIComponent;

export class ConcourseClient {
  readonly #session: Session;

  constructor(target: ConcourseTarget) {
    this.#session = new Session(target);
  }

  get target(): ConcourseTarget {
    return this.#session.target;
  }

  #team(): string {
    return `/api/v1/teams/${segment(this.#session.target.team)}`;
  }

  #pipeline(name: string): string {
    return `${this.#team()}/pipelines/${segment(name)}`;
  }

  /** Logs in now (every method logs in on first use anyway): a wrong password shows before anything else is tried. */
  login(): Promise<Result<void, ConcourseFailure>> {
    return this.#session.login();
  }

  /** The pipeline's config version (`GET .../config`), or `undefined` if there is no such pipeline yet. */
  async configVersion(pipeline: string): Promise<Result<string | undefined, ConcourseFailure>> {
    const path = `${this.#pipeline(pipeline)}/config`;
    const sent = await this.#session.send({ method: "GET", path });
    if (!sent.ok) return sent;
    const response = sent.value;
    if (response.statusCode === 404) {
      discard(response);
      return ok(undefined);
    }
    if (response.statusCode !== 200) return err(await this.#session.failure(response, path, `Reading the config of pipeline "${pipeline}"`));
    discard(response);
    const version = response.headers[CONFIG_VERSION_HEADER];
    if (typeof version !== "string" || version === "") return err(this.#badAnswer(path, `answered the config of pipeline "${pipeline}" without an X-Concourse-Config-Version header`));
    return ok(version);
  }

  /**
   * Sets pipeline `name` to `config` (YAML or JSON text) the way `fly set-pipeline` does: reads the
   * current config version, then saves with it. If someone else saved the pipeline in between,
   * Concourse refuses, and so does this ("config-conflict"): nothing is overwritten.
   */
  async setPipeline(name: string, config: string): Promise<Result<SetPipelineResult, ConcourseFailure>> {
    const version = await this.configVersion(name);
    if (!version.ok) return version;
    const path = `${this.#pipeline(name)}/config`;
    const headers: Record<string, string> = { "content-type": "application/x-yaml" };
    if (version.value !== undefined) headers[CONFIG_VERSION_HEADER] = version.value;
    const sent = await this.#session.send({ method: "PUT", path, headers, body: () => config });
    if (!sent.ok) return sent;
    const response = sent.value;
    const { team } = this.#session.target;
    const url = `${this.#session.base}${path}`;
    const status = response.statusCode;
    if (status === 200 || status === 201) {
      const answer = await this.#json(response, path);
      if (!answer.ok) return answer;
      const warnings = (answer.value as { warnings?: SetPipelineResult["warnings"] } | undefined)?.warnings ?? [];
      return ok({ created: status === 201, warnings });
    }
    if (status === 400) {
      const text = await readText(response, 64 * 1024);
      let errors: string[];
      try {
        errors = (JSON.parse(text) as { errors?: string[] }).errors ?? [text];
      } catch {
        errors = [text];
      }
      const list = errors.map((e) => `  ${e.trim().replaceAll("\n", "\n  ")}`).join("\n");
      return err({ reason: "invalid-config", url, status, message: `Concourse refused the config of pipeline "${name}" in team "${team}" (${url} answered 400):\n${list}\nFix the pipeline file and push again.` });
    }
    if (status === 500) {
      const text = (await readText(response, 4096)).trim();
      if (text.includes(CONFLICT_TEXT)) {
        return err({
          reason: "config-conflict",
          url,
          status,
          message: `Pipeline "${name}" in team "${team}" changed while it was being set (${url} answered 500: ${text}): someone else saved it meanwhile, and nothing was overwritten. Look at what changed, then push again.`,
        });
      }
      return err({ reason: "status", url, status, message: `Setting pipeline "${name}": ${url} answered 500${text === "" ? "" : ` (${text})`}.` });
    }
    return err(await this.#session.failure(response, path, `Setting pipeline "${name}"`));
  }

  async getPipeline(name: string): Promise<Result<Pipeline, ConcourseFailure>> {
    return this.#get<Pipeline>(this.#pipeline(name), `Reading pipeline "${name}"`);
  }

  /** `PUT .../unpause`: jobs start to schedule builds. */
  unpause(pipeline: string): Promise<Result<void, ConcourseFailure>> {
    return this.#put(`${this.#pipeline(pipeline)}/unpause`, `Unpausing pipeline "${pipeline}"`);
  }

  pause(pipeline: string): Promise<Result<void, ConcourseFailure>> {
    return this.#put(`${this.#pipeline(pipeline)}/pause`, `Pausing pipeline "${pipeline}"`);
  }

  listJobs(pipeline: string): Promise<Result<Job[], ConcourseFailure>> {
    return this.#get<Job[]>(`${this.#pipeline(pipeline)}/jobs`, `Listing the jobs of pipeline "${pipeline}"`);
  }

  /** A manual trigger (`POST .../jobs/:j/builds`): the new build, usually `pending` (it stays so while the pipeline is paused). */
  async triggerJob(pipeline: string, job: string): Promise<Result<Build, ConcourseFailure>> {
    const path = `${this.#pipeline(pipeline)}/jobs/${segment(job)}/builds`;
    const sent = await this.#session.send({ method: "POST", path });
    if (!sent.ok) return sent;
    const response = sent.value;
    if (response.statusCode === 409) {
      const failure = await this.#session.failure(response, path, `Triggering job "${job}" of pipeline "${pipeline}"`);
      return err({ ...failure, reason: "trigger-disabled", message: `${failure.message} The job has disable_manual_trigger set: it runs only when its inputs trigger it.` });
    }
    return this.#expectJson<Build>(response, path, `Triggering job "${job}" of pipeline "${pipeline}"`);
  }

  /** The newest builds of a job, of a pipeline, or of the team (`limit`, default 100: one page). */
  listBuilds(scope: { pipeline?: string; job?: string; limit?: number } = {}): Promise<Result<Build[], ConcourseFailure>> {
    const base = scope.pipeline === undefined ? this.#team() : scope.job === undefined ? this.#pipeline(scope.pipeline) : `${this.#pipeline(scope.pipeline)}/jobs/${segment(scope.job)}`;
    const query = scope.limit === undefined ? "" : `?limit=${scope.limit}`;
    return this.#get<Build[]>(`${base}/builds${query}`, "Listing builds");
  }

  getBuild(id: number): Promise<Result<Build, ConcourseFailure>> {
    return this.#get<Build>(`/api/v1/builds/${id}`, `Reading build ${id}`);
  }

  /** `PUT /api/v1/builds/:id/abort` (204); the build then finishes as `aborted`. */
  abortBuild(id: number): Promise<Result<void, ConcourseFailure>> {
    return this.#put(`/api/v1/builds/${id}/abort`, `Aborting build ${id}`);
  }

  /** Follows build `id`'s event stream to its end, reconnecting after drops (see event-stream.ts). */
  followBuild(id: number, options: FollowOptions): Promise<Result<Followed, ConcourseFailure>> {
    return followBuild(this.#session, id, options);
  }

  /** Uploads a tar.gz as an artifact for one-off builds (`POST .../artifacts`, §2.9). `body` is called for each attempt. */
  async uploadArtifact(body: () => Readable | Buffer, platform = "linux"): Promise<Result<WorkerArtifact, ConcourseFailure>> {
    const path = `${this.#team()}/artifacts?platform=${segment(platform)}`;
    const sent = await this.#session.send({ method: "POST", path, headers: { "content-type": "application/octet-stream" }, body });
    if (!sent.ok) return sent;
    return this.#expectJson<WorkerArtifact>(sent.value, path, "Uploading an artifact", 201);
  }

  /** Creates a one-off build from a plan (`POST .../builds`, §2.9); it starts at once. */
  async createBuild(plan: unknown): Promise<Result<Build, ConcourseFailure>> {
    const path = `${this.#team()}/builds`;
    const sent = await this.#session.send({ method: "POST", path, headers: { "content-type": "application/json" }, body: () => JSON.stringify(plan) });
    if (!sent.ok) return sent;
    return this.#expectJson<Build>(sent.value, path, "Creating a one-off build", 201);
  }

  /** The artifacts a build's `artifact_output` steps registered. */
  buildArtifacts(id: number): Promise<Result<WorkerArtifact[], ConcourseFailure>> {
    return this.#get<WorkerArtifact[]>(`/api/v1/builds/${id}/artifacts`, `Listing the artifacts of build ${id}`);
  }

  /** An artifact's tar.gz, whole. */
  async downloadArtifact(id: number): Promise<Result<Buffer, ConcourseFailure>> {
    const path = `${this.#team()}/artifacts/${id}`;
    const sent = await this.#session.send({ method: "GET", path });
    if (!sent.ok) return sent;
    const response = sent.value;
    if (response.statusCode !== 200) return err(await this.#session.failure(response, path, `Downloading artifact ${id}`));
    try {
      return ok(Buffer.from(await response.body.arrayBuffer()));
    } catch (error) {
      return err({ reason: "unreachable", url: `${this.#session.base}${path}`, message: `Downloading artifact ${id}: ${(error as Error).message}` });
    }
  }

  close(): Promise<void> {
    return this.#session.close();
  }

  async #get<T>(path: string, what: string): Promise<Result<T, ConcourseFailure>> {
    const sent = await this.#session.send({ method: "GET", path });
    if (!sent.ok) return sent;
    return this.#expectJson<T>(sent.value, path, what);
  }

  async #put(path: string, what: string): Promise<Result<void, ConcourseFailure>> {
    const sent = await this.#session.send({ method: "PUT", path });
    if (!sent.ok) return sent;
    const response = sent.value;
    if (response.statusCode !== 200 && response.statusCode !== 204) return err(await this.#session.failure(response, path, what));
    discard(response);
    return ok(undefined);
  }

  async #expectJson<T>(response: Dispatcher.ResponseData, path: string, what: string, expected = 200): Promise<Result<T, ConcourseFailure>> {
    if (response.statusCode !== expected && response.statusCode !== 200) return err(await this.#session.failure(response, path, what));
    return this.#json<T>(response, path);
  }

  async #json<T>(response: Dispatcher.ResponseData, path: string): Promise<Result<T, ConcourseFailure>> {
    const text = await readText(response, ANSWER_BYTES);
    if (text.trim() === "") return ok(undefined as T);
    try {
      return ok(JSON.parse(text) as T);
    } catch {
      return err(this.#badAnswer(path, `answered ${response.statusCode} with a body that is not JSON`));
    }
  }

  #badAnswer(path: string, what: string): ConcourseFailure {
    const url = `${this.#session.base}${path}`;
    return { reason: "bad-answer", url, message: `${url} ${what}; is ${this.#session.base} a Concourse?` };
  }
}
