/**
 * A Concourse test double: a real HTTP server on 127.0.0.1, port 0, with the ATC's routes, answer
 * shapes, status codes and error texts (reference concourse.md §2, checklist §5), for tests of
 * rbuild's client. It is a test tool, not a claim of compatibility: ../../README.md says which
 * behaviours were checked against the reference and which could not be.
 *
 * State lives in the instance (no module state): users and their tokens, pipelines with their
 * config versions (one global sequence), jobs, builds with their events, artifacts. Builds run
 * here, as local child processes (fake-plan.ts). Tests steer it with `expireTokens`,
 * `dropStreams` and `beforeNext`, and read `requests`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeBuild, type StreamDrop } from "./fake-builds.js";
import { identifierProblem } from "../validate/index.js";
import { readPipelineConfig, warningType, type FakeJobConfig } from "./fake-pipeline-config.js";
import { pack, presentArtifact, unpack, type FakeArtifact } from "./fake-artifacts.js";
import { runJob, runPlan, type Outcome, type PlanContext } from "./fake-plan.js";

export interface FakeUser {
  readonly username: string;
  readonly password: string;
  /** Team name → roles, as `GET /api/v1/user` shows them. */
  readonly teams: Record<string, string[]>;
}

export interface FakeConcourseOptions {
  /** By default one user, main/main, owner of team main (the quickstart's). */
  readonly users?: readonly FakeUser[];
  /** By default the teams the users are in. */
  readonly teams?: readonly string[];
  /** The `expires_in` of issued tokens; 86399 by default, as a real login answered. */
  readonly tokenSeconds?: number;
  /** The validation rules a saved config must pass (the double applies a few of them by default). */
  readonly validate?: (config: Record<string, unknown>) => string[];
  /**
   * What a job's `get` of a resource gives, by resource name: a copy of that directory (the double
   * checks no resources; without one here, a `get` gives an empty directory).
   */
  readonly resources?: Readonly<Record<string, string>>;
  /** Environment every task gets besides its params (what its image would have: a PATH with rbuild on it). */
  readonly taskEnv?: Readonly<Record<string, string>>;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly lastEventId?: string;
}

interface FakeJob {
  readonly id: number;
  config: FakeJobConfig;
  nextNumber: number;
  readonly builds: FakeBuild[];
}

interface FakePipeline {
  readonly id: number;
  readonly team: string;
  readonly name: string;
  paused: boolean;
  version: number;
  config: Record<string, unknown>;
  readonly jobs: Map<string, FakeJob>;
}

const VERSION = "8.2.1";
const CONFLICT = "failed to save config: comparison with existing config failed during save";
const unixNow = (): number => Math.floor(Date.now() / 1000);

type Handler = (request: IncomingMessage, response: ServerResponse, params: string[], user: FakeUser) => Promise<void> | void;

export class FakeConcourse {
  readonly requests: RecordedRequest[] = [];
  readonly #server: Server;
  readonly #options: FakeConcourseOptions;
  readonly #users: readonly FakeUser[];
  readonly #teams: Set<string>;
  readonly #tokens = new Map<string, { user: FakeUser; expiresAt: number }>();
  readonly #pipelines = new Map<string, FakePipeline>();
  readonly #builds = new Map<number, FakeBuild>();
  readonly #artifacts = new Map<number, FakeArtifact>();
  readonly #running = new Set<Promise<void>>();
  readonly #root = mkdtempSync(join(tmpdir(), "fake-concourse-"));
  readonly #routes: [string, RegExp, Handler][];
  readonly #intercepts: { method: string; path: RegExp; run: () => Promise<void> | void }[] = [];
  #drop: StreamDrop | undefined;
  #ids = { pipeline: 0, job: 0, build: 0, oneOff: 0, event: 0, artifact: 0, configVersion: 0 };

  private constructor(options: FakeConcourseOptions) {
    this.#options = options;
    this.#users = options.users ?? [{ username: "main", password: "main", teams: { main: ["owner"] } }];
    this.#teams = new Set(options.teams ?? this.#users.flatMap((user) => Object.keys(user.teams)));
    this.#server = createServer((request, response) => void this.#handle(request, response));
    this.#routes = this.#table();
  }

  /** Starts a double on 127.0.0.1, on a port of the system's choosing. */
  static async start(options: FakeConcourseOptions = {}): Promise<FakeConcourse> {
    const fake = new FakeConcourse(options);
    await new Promise<void>((resolve) => fake.#server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Every issued token stops working, as after its expiry: the next request with one gets 401. */
  expireTokens(): void {
    this.#tokens.clear();
  }

  /** The next `drop.times` event streams are cut after `drop.afterEvents` events each. */
  dropStreams(drop: StreamDrop): void {
    this.#drop = { ...drop };
  }

  /** Runs `run` once, before handling the next request that matches (e.g. to save a pipeline in between). */
  beforeNext(method: string, path: RegExp, run: () => Promise<void> | void): void {
    this.#intercepts.push({ method, path, run });
  }

  /** A pipeline's state, for assertions. */
  pipeline(team: string, name: string): { paused: boolean; version: number; config: Record<string, unknown> } | undefined {
    return this.#pipelines.get(`${team}/${name}`);
  }

  build(id: number): FakeBuild | undefined {
    return this.#builds.get(id);
  }

  async close(): Promise<void> {
    for (const build of this.#builds.values()) {
      build.abortRequested = true;
      build.stop?.();
    }
    await Promise.all([...this.#running]);
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    rmSync(this.#root, { recursive: true, force: true });
  }

  #table(): [string, RegExp, Handler][] {
    const team = "/api/v1/teams/([^/]+)";
    const pipeline = `${team}/pipelines/([^/]+)`;
    return [
      ["GET", /^\/api\/v1\/user$/, (_q, s, _p, user) => json(s, 200, { user_name: "", name: user.username, user_id: user.username, display_user_id: user.username, email: user.username, connector: "local", is_admin: false, is_system: false, teams: user.teams })],
      ["GET", /^\/api\/v1\/teams$/, (_q, s) => json(s, 200, [...this.#teams].map((name, i) => ({ id: i + 1, name })))],
      ["GET", /^\/api\/v1\/workers$/, (_q, s) => json(s, 200, [{ name: "fake-worker", platform: "linux", state: "running", team: "", tags: [], active_containers: 0, active_volumes: 0, active_tasks: 0, version: "2.5", ephemeral: false, resource_types: [] }])],
      ["GET", new RegExp(`^${pipeline}/config$`), (_q, s, [t, p]) => this.#getConfig(s, t!, p!)],
      ["PUT", new RegExp(`^${pipeline}/config$`), (q, s, [t, p]) => this.#saveConfig(q, s, t!, p!)],
      ["PUT", new RegExp(`^${pipeline}/(pause|unpause)$`), (_q, s, [t, p, action]) => this.#pause(s, t!, p!, action === "pause")],
      ["GET", new RegExp(`^${pipeline}/jobs$`), (_q, s, [t, p]) => this.#withPipeline(s, t!, p!, (pl) => json(s, 200, [...pl.jobs.values()].map((job) => this.#presentJob(pl, job))))],
      ["GET", new RegExp(`^${pipeline}/jobs/([^/]+)$`), (_q, s, [t, p, j]) => this.#withJob(s, t!, p!, j!, (pl, job) => json(s, 200, this.#presentJob(pl, job)))],
      ["POST", new RegExp(`^${pipeline}/jobs/([^/]+)/builds$`), (_q, s, [t, p, j]) => this.#trigger(s, t!, p!, j!)],
      ["GET", new RegExp(`^${pipeline}/jobs/([^/]+)/builds$`), (q, s, [t, p, j]) => this.#withJob(s, t!, p!, j!, (_pl, job) => this.#list(q, s, job.builds))],
      ["GET", new RegExp(`^${pipeline}/jobs/([^/]+)/builds/([^/]+)$`), (_q, s, [t, p, j, n]) => this.#withJob(s, t!, p!, j!, (_pl, job) => jobBuild(s, job.builds, n!))],
      ["GET", new RegExp(`^${pipeline}/builds$`), (q, s, [t, p]) => this.#withPipeline(s, t!, p!, (pl) => this.#list(q, s, [...pl.jobs.values()].flatMap((job) => job.builds)))],
      ["GET", new RegExp(`^${pipeline}$`), (_q, s, [t, p]) => this.#withPipeline(s, t!, p!, (pl) => json(s, 200, presentPipeline(pl)))],
      ["GET", new RegExp(`^${team}/pipelines$`), (_q, s, [t]) => json(s, 200, [...this.#pipelines.values()].filter((pl) => pl.team === t).map(presentPipeline))],
      ["GET", new RegExp(`^${team}/builds$`), (q, s, [t]) => this.#list(q, s, [...this.#builds.values()].filter((b) => b.team === t))],
      ["POST", new RegExp(`^${team}/builds$`), (q, s, [t]) => this.#createOneOff(q, s, t!)],
      ["POST", new RegExp(`^${team}/artifacts$`), (q, s, [t]) => this.#upload(q, s, t!)],
      ["GET", new RegExp(`^${team}/artifacts/(\\d+)$`), (_q, s, [t, id]) => this.#download(s, t!, Number(id))],
      ["GET", /^\/api\/v1\/builds\/(\d+)$/, (_q, s, [id], user) => this.#withBuild(s, user, Number(id), (b) => json(s, 200, b.present()))],
      ["PUT", /^\/api\/v1\/builds\/(\d+)\/abort$/, (_q, s, [id], user) => this.#withBuild(s, user, Number(id), (b) => this.#abort(s, b))],
      ["GET", /^\/api\/v1\/builds\/(\d+)\/events$/, (q, s, [id], user) => this.#withBuild(s, user, Number(id), (b) => this.#stream(q, s, b))],
      ["GET", /^\/api\/v1\/builds\/(\d+)\/plan$/, (_q, s, [id], user) => this.#withBuild(s, user, Number(id), (b) => (b.plan === undefined ? empty(s, 404) : json(s, 200, { schema: "exec.v2", plan: b.plan })))],
      ["GET", /^\/api\/v1\/builds\/(\d+)\/artifacts$/, (_q, s, [id], user) => this.#withBuild(s, user, Number(id), (b) => json(s, 200, b.artifacts.map((a) => presentArtifact(this.#artifacts.get(a)!))))],
    ];
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://fake");
    const path = url.pathname;
    const lastEventId = request.headers["last-event-id"];
    this.requests.push({ method: request.method ?? "", path: `${path}${url.search}`, ...(typeof lastEventId === "string" ? { lastEventId } : {}) });
    const intercept = this.#intercepts.findIndex((i) => i.method === request.method && i.path.test(path));
    if (intercept !== -1) await this.#intercepts.splice(intercept, 1)[0]!.run();
    try {
      if (path === "/sky/issuer/token" && request.method === "POST") return await this.#token(request, response);
      if (!path.startsWith("/api/v1/")) return text(response, 404, "404 page not found\n");
      response.setHeader("x-concourse-version", VERSION);
      if (path === "/api/v1/info" && request.method === "GET") {
        return json(response, 200, { version: VERSION, worker_version: "2.5", feature_flags: {}, external_url: this.url, cluster_name: "fake" });
      }
      const user = this.#authenticate(request);
      if (user === undefined) return text(response, 401, "not authorized");
      for (const [method, pattern, handler] of this.#routes) {
        const match = pattern.exec(path);
        if (match === null || method !== request.method) continue;
        const params = match.slice(1).map(decodeURIComponent);
        const teamName = /^\/api\/v1\/teams\/([^/]+)/.exec(path)?.[1];
        if (teamName !== undefined) {
          const name = decodeURIComponent(teamName);
          if (user.teams[name] === undefined) return empty(response, 403);
          if (!this.#teams.has(name)) return empty(response, 404);
        }
        return await handler(request, response, params, user);
      }
      return text(response, 404, "404 page not found\n");
    } catch (error) {
      if (!response.headersSent) text(response, 500, (error as Error).message);
      else response.destroy();
    }
  }

  async #token(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const form = new URLSearchParams((await readBody(request)).toString("utf8"));
    if (request.headers.authorization !== `Basic ${Buffer.from("fly:Zmx5").toString("base64")}`) {
      return json(response, 401, { error: "invalid_client", error_description: "Invalid client credentials." });
    }
    if (form.get("grant_type") !== "password") return json(response, 400, { error: "unsupported_grant_type" });
    const user = this.#users.find((u) => u.username === form.get("username") && u.password === form.get("password"));
    if (user === undefined) return json(response, 401, { error: "access_denied", error_description: "Invalid username or password" });
    // An opaque token, 20 random bytes and the expiry, as the ATC makes them (skymarshal/token/access_token.go).
    const seconds = this.#options.tokenSeconds ?? 86399;
    const expiry = Buffer.alloc(8);
    expiry.writeBigUInt64LE(BigInt(unixNow() + seconds));
    const token = Buffer.concat([Buffer.from(crypto.getRandomValues(new Uint8Array(20))), expiry]).toString("base64").replace(/=+$/, "");
    this.#tokens.set(token, { user, expiresAt: Date.now() + seconds * 1000 });
    json(response, 200, { access_token: token, expires_in: seconds, id_token: "fake.id.token", token_type: "bearer" });
  }

  #authenticate(request: IncomingMessage): FakeUser | undefined {
    const parts = (request.headers.authorization ?? "").split(" ");
    if (parts.length !== 2 || parts[0]!.toLowerCase() !== "bearer") return undefined;
    const held = this.#tokens.get(parts[1]!);
    if (held === undefined || held.expiresAt <= Date.now()) return undefined;
    return held.user;
  }

  #withPipeline(response: ServerResponse, team: string, name: string, use: (pipeline: FakePipeline) => void | Promise<void>): void | Promise<void> {
    const pipeline = this.#pipelines.get(`${team}/${name}`);
    return pipeline === undefined ? text(response, 404, "") : use(pipeline);
  }

  #withJob(response: ServerResponse, team: string, name: string, job: string, use: (pipeline: FakePipeline, job: FakeJob) => void | Promise<void>): void | Promise<void> {
    return this.#withPipeline(response, team, name, (pipeline) => {
      const found = pipeline.jobs.get(job);
      return found === undefined ? text(response, 404, "") : use(pipeline, found);
    });
  }

  #withBuild(response: ServerResponse, user: FakeUser, id: number, use: (build: FakeBuild) => void | Promise<void>): void | Promise<void> {
    const build = this.#builds.get(id);
    if (build === undefined) return text(response, 404, "");
    if (user.teams[build.team] === undefined) return empty(response, 403);
    return use(build);
  }

  #getConfig(response: ServerResponse, team: string, name: string): void {
    const pipeline = this.#pipelines.get(`${team}/${name}`);
    if (pipeline === undefined) return text(response, 404, "");
    response.setHeader("x-concourse-config-version", String(pipeline.version));
    json(response, 200, { config: pipeline.config });
  }

  async #saveConfig(request: IncomingMessage, response: ServerResponse, team: string, name: string): Promise<void> {
    const type = (request.headers["content-type"] ?? "").split(";")[0]!.trim();
    if (type !== "application/json" && type !== "application/x-yaml") return empty(response, 415);
    const header = request.headers["x-concourse-config-version"];
    if (header !== undefined && !/^\d+$/.test(String(header))) return text(response, 400, `config version is malformed: ${String(header)}`);
    const read = readPipelineConfig((await readBody(request)).toString("utf8"), this.#options.validate);
    if ("errors" in read) return json(response, 400, { errors: read.errors });
    const key = `${team}/${name}`;
    const existing = this.#pipelines.get(key);
    // Sending no version counts as version 0; a new pipeline ignores it (atc/db/team.go).
    if (existing !== undefined && Number(header ?? 0) !== existing.version) return text(response, 500, CONFLICT);
    const version = ++this.#ids.configVersion;
    const pipeline: FakePipeline = existing ?? { id: ++this.#ids.pipeline, team, name, paused: true, version, config: {}, jobs: new Map() };
    pipeline.version = version;
    pipeline.config = read.config;
    for (const jobName of [...pipeline.jobs.keys()]) if (!read.jobs.some((job) => job.name === jobName)) pipeline.jobs.delete(jobName);
    for (const job of read.jobs) {
      const kept = pipeline.jobs.get(job.name);
      if (kept === undefined) pipeline.jobs.set(job.name, { id: ++this.#ids.job, config: job, nextNumber: 1, builds: [] });
      else kept.config = job;
    }
    this.#pipelines.set(key, pipeline);
    // Invalid pipeline (or team) names are warnings too (atc/api/configserver/save.go); none: no `warnings` key.
    const named = [["pipeline", name], ["team", team]].flatMap(([what, value]) => {
      const problem = identifierProblem(value!);
      return problem === undefined ? [] : [{ type: warningType(problem.text), message: `${what}: ${problem.text}` }];
    });
    const warnings = [...named, ...read.warnings];
    json(response, existing === undefined ? 201 : 200, warnings.length === 0 ? {} : { warnings });
  }

  #pause(response: ServerResponse, team: string, name: string, paused: boolean): void | Promise<void> {
    return this.#withPipeline(response, team, name, (pipeline) => {
      pipeline.paused = paused;
      this.#schedule();
      empty(response, 200);
    });
  }

  #presentJob(pipeline: FakePipeline, job: FakeJob): Record<string, unknown> {
    const newest = (builds: FakeBuild[]): Record<string, unknown> | null => builds.at(-1)?.present() ?? null;
    return {
      id: job.id,
      name: job.config.name,
      pipeline_id: pipeline.id,
      pipeline_name: pipeline.name,
      team_name: pipeline.team,
      next_build: newest(job.builds.filter((b) => !b.finished)),
      finished_build: newest(job.builds.filter((b) => b.finished)),
      ...(job.config.disable_manual_trigger === true ? { disable_manual_trigger: true } : {}),
    };
  }

  #trigger(response: ServerResponse, team: string, name: string, jobName: string): void | Promise<void> {
    return this.#withJob(response, team, name, jobName, (pipeline, job) => {
      if (job.config.disable_manual_trigger === true) return text(response, 409, "");
      const build = this.#newBuild(team, String(job.nextNumber++), { name: jobName, pipeline: pipeline.name, pipelineId: pipeline.id }, undefined, "pending");
      job.builds.push(build);
      json(response, 200, build.present());
      this.#schedule();
    });
  }

  #newBuild(team: string, name: string, job: FakeBuild["job"], plan: unknown, status: "pending" | "started"): FakeBuild {
    const build = new FakeBuild({ id: ++this.#ids.build, name, team, job, plan, status: "pending", nextEventId: () => this.#ids.event++ });
    if (status === "started") build.start(unixNow());
    this.#builds.set(build.id, build);
    return build;
  }

  /** Starts every pending job build whose pipeline is not paused (a paused pipeline's builds stay pending). */
  #schedule(): void {
    for (const pipeline of this.#pipelines.values()) {
      if (pipeline.paused) continue;
      for (const job of pipeline.jobs.values()) {
        for (const build of job.builds) {
          if (build.status !== "pending") continue;
          build.start(unixNow());
          this.#run(build, (context) => runJob(context, job.config.plan));
        }
      }
    }
  }

  #run(build: FakeBuild, runner: (context: PlanContext) => Promise<Outcome>): void {
    const workDir = mkdtempSync(join(this.#root, `build-${build.id}-`));
    const context: PlanContext = {
      build,
      workDir,
      now: unixNow,
      artifactDir: (id) => this.#artifacts.get(id)?.dir,
      resourceDir: (name) => this.#options.resources?.[name],
      taskEnv: this.#options.taskEnv ?? {},
      registerArtifact: (name, dir) => {
        const artifact = { id: ++this.#ids.artifact, name, team: build.team, buildId: build.id, createdAt: unixNow(), dir };
        this.#artifacts.set(artifact.id, artifact);
        build.artifacts.push(artifact.id);
        return artifact.id;
      },
    };
    const running = runner(context)
      .catch((error: unknown) => {
        build.emit("error", "4.1", { message: (error as Error).message, origin: {}, time: unixNow() });
        return "errored" as const;
      })
      .then((outcome) => build.finish(build.abortRequested ? "aborted" : outcome, unixNow()))
      .finally(() => this.#running.delete(running));
    this.#running.add(running);
  }

  #abort(response: ServerResponse, build: FakeBuild): void {
    if (build.status === "pending") build.finish("aborted", unixNow());
    else if (!build.finished) {
      build.abortRequested = true;
      build.stop?.();
    }
    empty(response, 204);
  }

  #stream(request: IncomingMessage, response: ServerResponse, build: FakeBuild): Promise<void> {
    let drop: StreamDrop | undefined;
    if (this.#drop !== undefined && this.#drop.times > 0) {
      drop = this.#drop;
      if (--this.#drop.times === 0) this.#drop = undefined;
    }
    return build.stream(request, response, drop);
  }

  /** Newest first, `limit` per page (100 by default), `to` for older pages, with a `Link` to the next page. */
  #list(request: IncomingMessage, response: ServerResponse, builds: FakeBuild[]): void {
    const query = new URL(request.url ?? "/", "http://fake").searchParams;
    const limit = Number(query.get("limit") ?? 100);
    const to = query.get("to");
    const sorted = builds.filter((b) => to === null || b.id <= Number(to)).sort((a, b) => b.id - a.id);
    const page = sorted.slice(0, limit);
    if (sorted.length > page.length) {
      const path = new URL(request.url ?? "/", "http://fake").pathname;
      response.setHeader("link", `<${this.url}${path}?to=${page.at(-1)!.id - 1}&limit=${limit}>; rel="next"`);
    }
    json(response, 200, page.map((b) => b.present()));
  }

  async #createOneOff(request: IncomingMessage, response: ServerResponse, team: string): Promise<void> {
    let plan: unknown;
    try {
      plan = JSON.parse((await readBody(request)).toString("utf8"));
    } catch (error) {
      return text(response, 400, (error as Error).message);
    }
    if (typeof plan !== "object" || plan === null) return text(response, 400, "malformed plan");
    // The build is created started, its `status: started` event stored with it (CreateStartedBuild).
    const build = this.#newBuild(team, String(++this.#ids.oneOff), undefined, plan, "started");
    json(response, 201, build.present());
    this.#run(build, (context) => runPlan(context, plan));
  }

  async #upload(request: IncomingMessage, response: ServerResponse, team: string): Promise<void> {
    const id = ++this.#ids.artifact;
    const dir = join(this.#root, `artifact-${id}`);
    const problem = await unpack(request, dir);
    if (problem !== undefined) return text(response, 500, problem);
    const artifact: FakeArtifact = { id, name: "", team, buildId: 0, createdAt: unixNow(), dir };
    this.#artifacts.set(id, artifact);
    json(response, 201, presentArtifact(artifact));
  }

  async #download(response: ServerResponse, team: string, id: number): Promise<void> {
    const artifact = this.#artifacts.get(id);
    if (artifact === undefined || artifact.team !== team) return text(response, 404, "");
    response.writeHead(200, { "content-type": "application/octet-stream" });
    await pack(artifact.dir, response);
  }
}

/** `GET .../jobs/:j/builds/:name`: the job's build of that name, 404 with an empty body when there is none. */
function jobBuild(response: ServerResponse, builds: readonly FakeBuild[], name: string): void {
  const build = builds.find((b) => b.name === name);
  return build === undefined ? text(response, 404, "") : json(response, 200, build.present());
}

function presentPipeline(pipeline: FakePipeline): Record<string, unknown> {
  return { id: pipeline.id, name: pipeline.name, paused: pipeline.paused, public: false, archived: false, team_name: pipeline.team, last_updated: unixNow() };
}

function json(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
}

function text(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { "content-type": "text/plain; charset=utf-8" }).end(body);
}

function empty(response: ServerResponse, status: number): void {
  response.writeHead(status).end();
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
