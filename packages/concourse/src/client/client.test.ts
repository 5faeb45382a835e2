import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, onTestFinished, test } from "vitest";
import { FakeConcourse, type FakeConcourseOptions } from "../test-support/fake-concourse.js";
import { ConcourseClient } from "./client.js";
import type { Build, BuildEvent } from "./types.js";

const TIMEOUT = 60_000;

async function double(options: FakeConcourseOptions = {}): Promise<FakeConcourse> {
  const fake = await FakeConcourse.start(options);
  onTestFinished(() => fake.close());
  return fake;
}

function client(fake: FakeConcourse, fields: Partial<ConstructorParameters<typeof ConcourseClient>[0]> = {}): ConcourseClient {
  const made = new ConcourseClient({ url: fake.url, team: "main", username: "main", password: "main", ...fields });
  onTestFinished(() => made.close());
  return made;
}

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "concourse-client-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A pipeline of one job running `script` with sh, with `params` as its environment. */
function pipelineYaml(script: string, params: Record<string, string> = {}, job: Record<string, unknown> = {}): string {
  return JSON.stringify({
    jobs: [{ name: "build", ...job, plan: [{ task: "run", config: { platform: "linux", image_resource: { type: "registry-image", source: { repository: "busybox" } }, params, run: { path: "sh", args: ["-c", script] } } }] }],
  });
}

/** Sets pipeline "app" (one job, "build", running `script`), unpauses it and triggers the job: the build. */
async function triggeredBuild(concourse: ConcourseClient, script: string, params: Record<string, string> = {}): Promise<Build> {
  expect((await concourse.setPipeline("app", pipelineYaml(script, params))).ok).toBe(true);
  expect((await concourse.unpause("app")).ok).toBe(true);
  const build = await concourse.triggerJob("app", "build");
  if (!build.ok) throw new Error(build.error.message);
  return build.value;
}

/** What a stream handed on, as `type[:payload]` lines, and the log text. */
function summary(events: BuildEvent[]): { types: string[]; log: string; ids: number[] } {
  return {
    types: events.map((e) => (e.event === "status" ? `status:${e.data.status}` : e.event === "finish-task" ? `finish-task:${e.data.exit_status}` : e.event)),
    log: events.map((e) => (e.event === "log" ? e.data.payload : "")).join(""),
    ids: events.map((e) => e.id),
  };
}

/** The requests the double saw, as `METHOD path` lines (with Last-Event-ID when sent). */
const seen = (fake: FakeConcourse): string[] => fake.requests.map((r) => `${r.method} ${r.path}${r.lastEventId === undefined ? "" : ` [Last-Event-ID: ${r.lastEventId}]`}`);

test("28.2: login with the password grant; a wrong password is a failure that names the user and the URL, never the password", async () => {
  const fake = await double();
  expect(await client(fake).login()).toEqual({ ok: true, value: undefined });
  const wrong = await client(fake, { password: "s3cret-wrong" }).login();
  expect(wrong).toEqual({
    ok: false,
    error: {
      reason: "login-failed",
      url: `${fake.url}/sky/issuer/token`,
      status: 401,
      message: `Logging in to ${fake.url} as "main" failed: ${fake.url}/sky/issuer/token answered 401 ({"error":"access_denied","error_description":"Invalid username or password"}). Check the username and password (and that the user may log in with a password).`,
    },
  });
  expect(JSON.stringify(wrong)).not.toContain("s3cret-wrong");
});

test("28.2: a token the server expired is replaced by logging in again, and the request is repeated once", async () => {
  const fake = await double();
  const concourse = client(fake);
  expect((await concourse.setPipeline("app", pipelineYaml("true"))).ok).toBe(true);
  fake.expireTokens();
  expect(await concourse.getPipeline("app")).toMatchObject({ ok: true, value: { name: "app", paused: true } });
  expect(seen(fake)).toEqual([
    "POST /sky/issuer/token",
    "GET /api/v1/teams/main/pipelines/app/config",
    "PUT /api/v1/teams/main/pipelines/app/config",
    "GET /api/v1/teams/main/pipelines/app", // 401: the token expired
    "POST /sky/issuer/token",
    "GET /api/v1/teams/main/pipelines/app",
  ]);
});

test("28.2: a token about to run out (its expires_in) is replaced before it is used", async () => {
  const fake = await double({ tokenSeconds: 3600 });
  let now = Date.now();
  const concourse = client(fake, { now: () => now });
  expect((await concourse.listBuilds()).ok).toBe(true);
  now += 3600_000 - 30_000; // Within a minute of its expiry.
  expect((await concourse.listBuilds()).ok).toBe(true);
  expect(seen(fake)).toEqual(["POST /sky/issuer/token", "GET /api/v1/teams/main/builds", "POST /sky/issuer/token", "GET /api/v1/teams/main/builds"]);
});

test("28.2: setting a pipeline creates it paused (201), updates it with the config version (200), and refuses when someone else saved it meanwhile", async () => {
  const fake = await double();
  const concourse = client(fake);
  expect(await concourse.setPipeline("app", pipelineYaml("echo one"))).toEqual({ ok: true, value: { created: true, warnings: [] } });
  expect(fake.pipeline("main", "app")).toMatchObject({ paused: true, version: 1 });
  expect(await concourse.setPipeline("app", pipelineYaml("echo two"))).toEqual({ ok: true, value: { created: false, warnings: [] } });
  expect(fake.pipeline("main", "app")?.version).toBe(2);

  // Between our read of the version and our save, a colleague sets the pipeline.
  const colleague = client(fake);
  fake.beforeNext("PUT", /\/pipelines\/app\/config$/, async () => {
    expect((await colleague.setPipeline("app", pipelineYaml("echo colleague"))).ok).toBe(true);
  });
  const url = `${fake.url}/api/v1/teams/main/pipelines/app/config`;
  expect(await concourse.setPipeline("app", pipelineYaml("echo three"))).toEqual({
    ok: false,
    error: {
      reason: "config-conflict",
      url,
      status: 500,
      message: `Pipeline "app" in team "main" changed while it was being set (${url} answered 500: failed to save config: comparison with existing config failed during save): someone else saved it meanwhile, and nothing was overwritten. Look at what changed, then push again.`,
    },
  });
  expect(JSON.stringify(fake.pipeline("main", "app")?.config)).toContain("echo colleague");
});

test("28.2: a config Concourse refuses is a failure listing Concourse's errors", async () => {
  const fake = await double();
  const url = `${fake.url}/api/v1/teams/main/pipelines/app/config`;
  expect(await client(fake).setPipeline("app", "jobs: []\nresources: [{name: src, type: git}]\n")).toEqual({
    ok: false,
    error: {
      reason: "invalid-config",
      url,
      status: 400,
      message: `Concourse refused the config of pipeline "app" in team "main" (${url} answered 400):\n  invalid resources:\n  \tresource 'src' is not used\n  invalid jobs:\n  \tjobs: pipeline must contain at least one job\nFix the pipeline file and push again.`,
    },
  });
  expect((await client(fake).setPipeline("app", "jobs: [{name: a, plan: [], pubic: true}]")).ok && "saved").toBe(false);
});

test("28.2: a triggered build stays pending while its pipeline is paused, and runs once it is unpaused", { timeout: TIMEOUT }, async () => {
  const fake = await double();
  const concourse = client(fake);
  expect((await concourse.setPipeline("app", pipelineYaml("echo hello"))).ok).toBe(true);
  const build = await concourse.triggerJob("app", "build");
  expect(build).toEqual({ ok: true, value: { id: 1, name: "1", status: "pending", api_url: "/api/v1/builds/1", team_name: "main", job_name: "build", pipeline_id: 1, pipeline_name: "app" } });
  expect(await concourse.getBuild(1)).toMatchObject({ ok: true, value: { status: "pending" } });
  expect(await concourse.listJobs("app")).toMatchObject({ ok: true, value: [{ name: "build", next_build: { id: 1, status: "pending" }, finished_build: null }] });

  expect(await concourse.unpause("app")).toEqual({ ok: true, value: undefined });
  expect(await concourse.getPipeline("app")).toMatchObject({ ok: true, value: { paused: false } });
  const events: BuildEvent[] = [];
  expect(await concourse.followBuild(1, { onEvent: (e) => events.push(e) })).toEqual({ ok: true, value: { status: "succeeded", reconnects: 0 } });
  expect(summary(events)).toMatchObject({ types: ["status:started", "initialize-task", "start-task", "log", "finish-task:0", "status:succeeded"], log: "hello\n" });
  expect(await concourse.listBuilds({ pipeline: "app", job: "build" })).toMatchObject({ ok: true, value: [{ id: 1, status: "succeeded" }] });
});

test("28.2: following a build whose stream drops mid-build resumes with Last-Event-ID: every log line once, in order", { timeout: TIMEOUT }, async () => {
  const fake = await double();
  const concourse = client(fake);
  const gate = join(scratch(), "go");
  // The task writes a line, then waits for the test: the stream is cut (after 4 events) while the build still runs.
  const script = 'echo "line 1"; while [ ! -e "$GATE" ]; do sleep 0.05; done; echo "line 2"; echo "line 3"';
  fake.dropStreams({ afterEvents: 4, times: 1 });
  const build = await triggeredBuild(concourse, script, { GATE: gate });
  const events: BuildEvent[] = [];
  const followed = await concourse.followBuild(build.id, {
    onEvent: (event) => {
      events.push(event);
      if (event.event === "log" && event.data.payload === "line 1\n") writeFileSync(gate, "");
    },
    pause: async () => {},
  });
  expect(followed).toEqual({ ok: true, value: { status: "succeeded", reconnects: 1 } });
  const { types, log, ids } = summary(events);
  expect(types.slice(0, 4)).toEqual(["status:started", "initialize-task", "start-task", "log"]);
  expect(types.slice(-2)).toEqual(["finish-task:0", "status:succeeded"]);
  expect(log).toBe("line 1\nline 2\nline 3\n");
  expect(ids).toEqual(ids.map((_, i) => i)); // Each event once, none missing.
  expect(seen(fake).filter((line) => line.includes("/events"))).toEqual(["GET /api/v1/builds/1/events", "GET /api/v1/builds/1/events [Last-Event-ID: 3]"]);
});

test("28.2: a stream cut after the token expired resumes after logging in again, from Last-Event-ID", { timeout: TIMEOUT }, async () => {
  const fake = await double();
  const concourse = client(fake);
  const gate = join(scratch(), "go");
  const build = await triggeredBuild(concourse, 'echo one; while [ ! -e "$GATE" ]; do sleep 0.05; done; echo two', { GATE: gate });
  fake.dropStreams({ afterEvents: 4, times: 1 });
  const events: BuildEvent[] = [];
  const followed = await concourse.followBuild(build.id, {
    onEvent: (event) => {
      events.push(event);
      if (event.event === "log" && event.data.payload === "one\n") {
        fake.expireTokens();
        writeFileSync(gate, "");
      }
    },
    pause: async () => {},
  });
  expect(followed).toEqual({ ok: true, value: { status: "succeeded", reconnects: 1 } });
  expect(summary(events).log).toBe("one\ntwo\n");
  expect(seen(fake).slice(-3)).toEqual([
    "GET /api/v1/builds/1/events [Last-Event-ID: 3]", // 401
    "POST /sky/issuer/token",
    "GET /api/v1/builds/1/events [Last-Event-ID: 3]",
  ]);
});

test("28.2: a stream that keeps dropping without a new event is given up with a failure that says the build may still run", { timeout: TIMEOUT }, async () => {
  const fake = await double();
  const concourse = client(fake);
  const gate = join(scratch(), "never");
  const build = await triggeredBuild(concourse, 'while [ ! -e "$GATE" ]; do sleep 0.05; done', { GATE: gate });
  // Every connection is cut right after its headers, before any event.
  fake.dropStreams({ afterEvents: 0, times: 100 });
  const followed = await concourse.followBuild(1, { onEvent: () => {}, pause: async () => {} });
  const url = `${fake.url}/api/v1/builds/1/events`;
  expect(followed).toEqual({
    ok: false,
    error: { reason: "stream-lost", url, message: `The event stream of build 1 (${url}) dropped 6 times in a row without a new event (last: the connection was cut: other side closed); the build may still be running.` },
  });
  writeFileSync(gate, "");
});

test("28.2: aborting a running build stops its task; the build and its stream end as aborted", { timeout: TIMEOUT }, async () => {
  const fake = await double();
  const concourse = client(fake);
  const gate = join(scratch(), "never");
  const build = await triggeredBuild(concourse, 'echo started; while [ ! -e "$GATE" ]; do sleep 0.05; done; echo "not reached"', { GATE: gate });
  const events: BuildEvent[] = [];
  const followed = await concourse.followBuild(build.id, {
    onEvent: (event) => {
      events.push(event);
      if (event.event === "log") void concourse.abortBuild(build.id);
    },
  });
  expect(followed).toEqual({ ok: true, value: { status: "aborted", reconnects: 0 } });
  expect(summary(events)).toMatchObject({ types: ["status:started", "initialize-task", "start-task", "log", "status:aborted"], log: "started\n" });
  expect(await concourse.getBuild(build.id)).toMatchObject({ ok: true, value: { status: "aborted" } });
});

test("28.2: aborting a pending build (paused pipeline) finishes it as aborted at once", async () => {
  const fake = await double();
  const concourse = client(fake);
  expect((await concourse.setPipeline("app", pipelineYaml("true"))).ok).toBe(true);
  expect((await concourse.triggerJob("app", "build")).ok).toBe(true);
  expect(await concourse.abortBuild(1)).toEqual({ ok: true, value: undefined });
  expect(await concourse.getBuild(1)).toMatchObject({ ok: true, value: { status: "aborted" } });
  const events: BuildEvent[] = [];
  expect(await concourse.followBuild(1, { onEvent: (e) => events.push(e) })).toEqual({ ok: true, value: { status: "aborted", reconnects: 0 } });
  expect(summary(events).types).toEqual(["status:aborted"]);
});

test("28.2: failures name the URL, the team, the status and what to do: another team (403), no such pipeline (404), manual trigger disabled (409), nothing listening", async () => {
  const fake = await double({ users: [{ username: "main", password: "main", teams: { main: ["owner"] } }], teams: ["main", "ops"] });
  const other = await client(fake, { team: "ops" }).getPipeline("app");
  expect(other).toEqual({
    ok: false,
    error: {
      reason: "forbidden",
      url: `${fake.url}/api/v1/teams/ops/pipelines/app`,
      status: 403,
      message: `Reading pipeline "app": ${fake.url}/api/v1/teams/ops/pipelines/app answered 403. User "main" is not allowed in team "ops"; check --team, or ask an owner of the team to add the user.`,
    },
  });
  const concourse = client(fake);
  expect(await concourse.unpause("nope")).toEqual({
    ok: false,
    error: {
      reason: "not-found",
      url: `${fake.url}/api/v1/teams/main/pipelines/nope/unpause`,
      status: 404,
      message: `Unpausing pipeline "nope": ${fake.url}/api/v1/teams/main/pipelines/nope/unpause answered 404. Check the team ("main") and the names in the request.`,
    },
  });
  expect((await concourse.setPipeline("app", pipelineYaml("true", {}, { disable_manual_trigger: true }))).ok).toBe(true);
  expect(await concourse.triggerJob("app", "build")).toMatchObject({ ok: false, error: { reason: "trigger-disabled", status: 409 } });
  const closed = await FakeConcourse.start();
  const url = closed.url;
  await closed.close();
  const unreachable = await new ConcourseClient({ url, team: "main", username: "main", password: "main" }).login();
  expect(unreachable).toMatchObject({ ok: false, error: { reason: "unreachable", url: `${url}/sky/issuer/token` } });
  expect(!unreachable.ok && unreachable.error.message).toMatch(new RegExp(`^No answer from ${url}/sky/issuer/token: .*ECONNREFUSED.*\\. Check the URL and that the Concourse is up\\.$`));
});
