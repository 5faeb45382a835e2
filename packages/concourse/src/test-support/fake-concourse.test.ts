import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, onTestFinished, test } from "vitest";
import { ConcourseClient } from "../client/client.js";
import type { BuildEvent } from "../client/types.js";
import { FakeConcourse } from "./fake-concourse.js";

const TIMEOUT = 60_000;

async function double(): Promise<FakeConcourse> {
  const fake = await FakeConcourse.start();
  onTestFinished(() => fake.close());
  return fake;
}

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "fake-concourse-test-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function token(fake: FakeConcourse): Promise<string> {
  const answer = await fetch(`${fake.url}/sky/issuer/token`, {
    method: "POST",
    headers: { authorization: `Basic ${Buffer.from("fly:Zmx5").toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
    body: "grant_type=password&password=main&scope=openid+profile+email+federated%3Aid+groups&username=main",
  });
  const body = (await answer.json()) as { access_token: string; token_type: string; expires_in: number };
  expect({ status: answer.status, type: body.token_type, expires: body.expires_in, length: body.access_token.length }).toEqual({ status: 200, type: "bearer", expires: 86399, length: 38 });
  return `Bearer ${body.access_token}`;
}

async function call(fake: FakeConcourse, method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  const answer = await fetch(`${fake.url}${path}`, { method, headers, body });
  return { status: answer.status, type: answer.headers.get("content-type"), version: answer.headers.get("x-concourse-version"), body: await answer.text() };
}

/** Reads an event stream as text until its `end` message; `open` says whether the server still held the connection then. */
function readStream(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; text: string; open: boolean }> {
  return new Promise((resolve, reject) => {
    const request = get(url, { headers }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        text += chunk;
        if (/event: end\ndata\n\n$/.test(text) || response.statusCode !== 200) {
          const open = !response.complete;
          const { date: _, ...rest } = response.headers;
          request.destroy();
          resolve({ status: response.statusCode ?? 0, headers: rest, text, open });
        }
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: {}, text, open: false }));
    });
    request.on("error", reject);
  });
}

const tgz = (dir: string): Buffer => execFileSync("tar", ["-czf", "-", "-C", dir, "."]);

test("28.4: the double answers with Concourse's status codes, headers and error texts", async () => {
  const fake = await double();
  expect(await call(fake, "GET", "/api/v1/info")).toEqual({
    status: 200,
    type: "application/json",
    version: "8.2.1",
    body: JSON.stringify({ version: "8.2.1", worker_version: "2.5", feature_flags: {}, external_url: fake.url, cluster_name: "fake" }),
  });
  expect(await call(fake, "GET", "/api/v1/teams")).toEqual({ status: 401, type: "text/plain; charset=utf-8", version: "8.2.1", body: "not authorized" });
  expect(await call(fake, "GET", "/api/v1/teams", { authorization: "Bearer not-a-token" })).toMatchObject({ status: 401, body: "not authorized" });
  const auth = { authorization: await token(fake) };
  const config = "/api/v1/teams/main/pipelines/app/config";
  const yaml = "x-anchors: &task {platform: linux, run: {path: 'true'}}\njobs:\n- name: a\n  plan: [{task: t, config: *task}]\n";
  expect(await call(fake, "PUT", config, { ...auth, "content-type": "text/plain" }, yaml)).toEqual({ status: 415, type: null, version: "8.2.1", body: "" });
  expect((await call(fake, "PUT", config, { ...auth, "content-type": "application/x-yaml", "x-concourse-config-version": "one" }, yaml)).status).toBe(400);
  expect(await call(fake, "PUT", config, { ...auth, "content-type": "application/x-yaml" }, yaml)).toEqual({ status: 201, type: "application/json", version: "8.2.1", body: "{}" });
  // An existing pipeline: no version header counts as version 0, a mismatch.
  expect(await call(fake, "PUT", config, { ...auth, "content-type": "application/x-yaml" }, yaml)).toEqual({
    status: 500,
    type: "text/plain; charset=utf-8",
    version: "8.2.1",
    body: "failed to save config: comparison with existing config failed during save",
  });
  const got = await fetch(`${fake.url}${config}`, { headers: auth });
  // The unknown top-level key (a YAML anchor block) is dropped; the anchor's content stays where it was used.
  expect({ version: got.headers.get("x-concourse-config-version"), body: await got.json() }).toEqual({
    version: "1",
    body: { config: { jobs: [{ name: "a", plan: [{ task: "t", config: { platform: "linux", run: { path: "true" } } }] }] } },
  });
  expect(await call(fake, "PUT", config, { ...auth, "content-type": "application/json", "x-concourse-config-version": "1" }, JSON.stringify({ jobs: [{ name: "a", plan: [], pubic: true }] }))).toEqual({
    status: 400,
    type: "application/json",
    version: "8.2.1",
    body: JSON.stringify({ errors: ['malformed config: error unmarshaling JSON: while decoding JSON: json: unknown field "pubic"'] }),
  });
  expect(await call(fake, "PUT", config, { ...auth, "content-type": "application/json", "x-concourse-config-version": "1" }, JSON.stringify({ jobs: [{ name: "a", plan: [] }] }))).toMatchObject({ status: 200 });
  expect(await call(fake, "PUT", "/api/v1/teams/main/pipelines/app/unpause", auth)).toEqual({ status: 200, type: null, version: "8.2.1", body: "" });
  expect((await call(fake, "GET", "/api/v1/teams/other/pipelines", auth)).status).toBe(403);
  expect((await call(fake, "GET", "/api/v1/builds/99", auth)).status).toBe(404);
});

test("28.4: the event stream: Concourse's headers, `event: event` envelopes under 0-based ids, `end`, the connection held open, Last-Event-ID resume", { timeout: TIMEOUT }, async () => {
  const fake = await double();
  const concourse = new ConcourseClient({ url: fake.url, team: "main", username: "main", password: "main" });
  onTestFinished(() => concourse.close());
  const plan = { id: "69b7cd6d", task: { name: "one-off", privileged: false, hermetic: false, config: { platform: "linux", run: { path: "sh", args: ["-c", "echo hi"] } } } };
  const build = await concourse.createBuild(plan);
  expect(build).toEqual({ ok: true, value: { id: 1, name: "1", status: "started", api_url: "/api/v1/builds/1", team_name: "main", start_time: expect.any(Number) } });
  expect(await concourse.followBuild(1, { onEvent: () => {} })).toMatchObject({ ok: true, value: { status: "succeeded" } });

  const auth = { authorization: await token(fake) };
  const stream = await readStream(`${fake.url}/api/v1/builds/1/events`, auth);
  const text = stream.text.replace(/"time":\d+/g, '"time":<t>');
  const config = '{"platform":"linux","image":"","run":{"path":"sh","args":["-c","echo hi"]},"inputs":[]}';
  expect({ ...stream, text }).toEqual({
    status: 200,
    open: true,
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-store, must-revalidate",
      "x-accel-buffering": "no",
      "x-atc-stream-version": "2.0",
      "x-concourse-version": "8.2.1",
      connection: "keep-alive",
      "keep-alive": "timeout=5",
      "transfer-encoding": "chunked",
    },
    text: [
      'id: 0\nevent: event\ndata: {"data":{"status":"started","time":<t>},"event":"status","version":"1.0","event_id":"0"}\n\n',
      `id: 1\nevent: event\ndata: {"data":{"time":<t>,"origin":{"id":"69b7cd6d"},"config":${config}},"event":"initialize-task","version":"4.0","event_id":"1"}\n\n`,
      `id: 2\nevent: event\ndata: {"data":{"time":<t>,"origin":{"id":"69b7cd6d"},"config":${config}},"event":"start-task","version":"5.0","event_id":"2"}\n\n`,
      'id: 3\nevent: event\ndata: {"data":{"time":<t>,"origin":{"id":"69b7cd6d","source":"stdout"},"payload":"hi\\n"},"event":"log","version":"5.1","event_id":"3"}\n\n',
      'id: 4\nevent: event\ndata: {"data":{"time":<t>,"exit_status":0,"origin":{"id":"69b7cd6d"}},"event":"finish-task","version":"4.0","event_id":"4"}\n\n',
      'id: 5\nevent: event\ndata: {"data":{"status":"succeeded","time":<t>},"event":"status","version":"1.0","event_id":"5"}\n\n',
      "id: 6\nevent: end\ndata\n\n",
    ].join(""),
  });
  const resumed = await readStream(`${fake.url}/api/v1/builds/1/events`, { ...auth, "last-event-id": "4" });
  expect(resumed.text.replace(/"time":\d+/g, '"time":<t>')).toBe('id: 5\nevent: event\ndata: {"data":{"status":"succeeded","time":<t>},"event":"status","version":"1.0","event_id":"5"}\n\nid: 6\nevent: end\ndata\n\n');
  expect((await call(fake, "GET", "/api/v1/builds/1/events", { ...auth, "last-event-id": "five" })).status).toBe(400);
  expect(await call(fake, "GET", "/api/v1/builds/1/plan", auth)).toMatchObject({ status: 200, body: JSON.stringify({ schema: "exec.v2", plan }) });
});

test("28.4: a one-off build: uploaded inputs, a task run locally, its output registered and downloaded as tar.gz", { timeout: TIMEOUT }, async () => {
  const fake = await double();
  const concourse = new ConcourseClient({ url: fake.url, team: "main", username: "main", password: "main" });
  onTestFinished(() => concourse.close());
  const dir = scratch();
  mkdirSync(join(dir, "src"));
  writeFileSync(join(dir, "src", "name.txt"), "world\n");
  const artifact = await concourse.uploadArtifact(() => tgz(join(dir, "src")));
  expect(artifact).toEqual({ ok: true, value: { id: 1, name: "", build_id: 0, created_at: expect.any(Number) } });
  // The shape fly execute sends (reference §2.9), with one input and one output.
  const plan = {
    id: "69b7cd70",
    ensure: {
      step: {
        id: "69b7cd6f",
        do: [
          { id: "69b7cd6e", in_parallel: { steps: [{ id: "69b7cd6b", artifact_input: { artifact_id: 1, name: "src" } }] } },
          {
            id: "69b7cd6d",
            task: {
              name: "one-off",
              privileged: false,
              hermetic: false,
              config: {
                platform: "linux",
                image_resource: { name: "", type: "registry-image", source: { repository: "busybox" } },
                inputs: [{ name: "src" }],
                outputs: [{ name: "out" }],
                params: { GREETING: "hello" },
                run: { path: "sh", args: ["-c", 'echo "$GREETING $(cat src/name.txt)" | tee out/greeting.txt; echo done >&2'] },
              },
            },
          },
        ],
      },
      ensure: { id: "69b7cd71", in_parallel: { steps: [{ id: "69b7cd6c", artifact_output: { name: "out" } }] } },
    },
  };
  const build = await concourse.createBuild(plan);
  expect(build).toMatchObject({ ok: true, value: { id: 1, status: "started" } });
  const events: BuildEvent[] = [];
  expect(await concourse.followBuild(1, { onEvent: (e) => events.push(e) })).toEqual({ ok: true, value: { status: "succeeded", reconnects: 0 } });
  const logs = events.flatMap((e) => (e.event === "log" ? [`${e.data.origin.source ?? ""}: ${e.data.payload}`] : [])).sort();
  expect(logs).toEqual(["stderr: done\n", "stdout: hello world\n"]);
  const outputs = await concourse.buildArtifacts(1);
  expect(outputs).toEqual({ ok: true, value: [{ id: 2, name: "out", build_id: 1, created_at: expect.any(Number) }] });
  const downloaded = await concourse.downloadArtifact(2);
  if (!downloaded.ok) throw new Error(downloaded.error.message);
  mkdirSync(join(dir, "got"));
  execFileSync("tar", ["-xzf", "-", "-C", join(dir, "got")], { input: downloaded.value });
  expect(readFileSync(join(dir, "got", "greeting.txt"), "utf8")).toBe("hello world\n");
});

test("28.4: a one-off build whose task fails or cannot start ends failed or errored, with Concourse's events", { timeout: TIMEOUT }, async () => {
  const fake = await double();
  const concourse = new ConcourseClient({ url: fake.url, team: "main", username: "main", password: "main" });
  onTestFinished(() => concourse.close());
  const task = (path: string, args: string[]) => ({ id: "a1", task: { name: "t", config: { platform: "linux", run: { path, args } } } });
  expect((await concourse.createBuild(task("sh", ["-c", "exit 3"]))).ok).toBe(true);
  const types = async (id: number): Promise<string[]> => {
    const events: BuildEvent[] = [];
    await concourse.followBuild(id, { onEvent: (e) => events.push(e) });
    return events.map((e) => (e.event === "status" ? `status:${e.data.status}` : e.event === "finish-task" ? `finish-task:${e.data.exit_status}` : e.event === "error" ? `error:${e.data.message}` : e.event));
  };
  expect(await types(1)).toEqual(["status:started", "initialize-task", "start-task", "finish-task:3", "status:failed"]);
  expect((await concourse.createBuild(task("no-such-program-here", []))).ok).toBe(true);
  expect(await types(2)).toEqual(["status:started", "initialize-task", "start-task", 'error:exec: "no-such-program-here": spawn no-such-program-here ENOENT', "status:errored"]);
  expect((await concourse.createBuild({ id: "b1", artifact_input: { artifact_id: 42, name: "src" } })).ok).toBe(true);
  expect(await types(3)).toEqual(["status:started", "error:artifact 42 not found", "status:errored"]);
});

test("28.4: build lists are newest first, a page at a time, with an absolute Link to the next page", { timeout: TIMEOUT }, async () => {
  const fake = await double();
  const concourse = new ConcourseClient({ url: fake.url, team: "main", username: "main", password: "main" });
  onTestFinished(() => concourse.close());
  for (let i = 0; i < 3; i++) expect((await concourse.createBuild({ id: `p${i}`, task: { name: "t", config: { platform: "linux", run: { path: "true" } } } })).ok).toBe(true);
  for (const id of [1, 2, 3]) await concourse.followBuild(id, { onEvent: () => {} });
  const auth = { authorization: await token(fake) };
  const page = await fetch(`${fake.url}/api/v1/teams/main/builds?limit=2`, { headers: auth });
  expect({ link: page.headers.get("link"), ids: ((await page.json()) as { id: number }[]).map((b) => b.id) }).toEqual({ link: `<${fake.url}/api/v1/teams/main/builds?to=1&limit=2>; rel="next"`, ids: [3, 2] });
  const next = await fetch(`${fake.url}/api/v1/teams/main/builds?to=1&limit=2`, { headers: auth });
  expect({ link: next.headers.get("link"), ids: ((await next.json()) as { id: number }[]).map((b) => b.id) }).toEqual({ link: null, ids: [1] });
});
