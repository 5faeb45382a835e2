import { readFileSync } from "node:fs";
import { expect, onTestFinished, test } from "vitest";
import { ConcourseClient } from "@rbuild/concourse";
import { FakeConcourse } from "../../packages/concourse/src/test-support/fake-concourse.js";
import { testWorkspace } from "./test-support/workspace.js";

const TIMEOUT = 120_000;
const PIPELINE = "jobs:\n- name: build\n  plan:\n  - task: hello\n    config:\n      platform: linux\n      run: {path: echo, args: [hello]}\n";
const credentials = { CONCOURSE_USERNAME: "main", CONCOURSE_PASSWORD: "main-pass-7" };

async function double(): Promise<FakeConcourse> {
  const fake = await FakeConcourse.start({ users: [{ username: "main", password: "main-pass-7", teams: { main: ["owner"] } }] });
  onTestFinished(() => fake.close());
  return fake;
}

test("28.2: rbuild concourse push sets the pipeline (created, then updated) and unpauses it", { timeout: TIMEOUT }, async () => {
  const fake = await double();
  const ws = testWorkspace({ "ci/app.yml": PIPELINE });
  expect(await ws.run(["concourse", "push", "ci/app.yml", "--target", fake.url, "--team", "main"], { env: credentials })).toEqual({
    exitCode: 0,
    stderr: "",
    stdout: `created pipeline "app" in team "main" at ${fake.url}\nunpaused: ${fake.url}/teams/main/pipelines/app\n`,
  });
  expect(fake.pipeline("main", "app")).toMatchObject({ paused: false, version: 1, config: { jobs: [{ name: "build" }] } });
  expect(await ws.run(["concourse", "push", "ci/app.yml", "--target", `${fake.url}/`, "--team", "main", "--pipeline", "web", "--username", "main", "--password", "main-pass-7"])).toEqual({
    exitCode: 0,
    stderr: "",
    stdout: `created pipeline "web" in team "main" at ${fake.url}\nunpaused: ${fake.url}/teams/main/pipelines/web\n`,
  });
  ws.write({ "ci/app.yml": PIPELINE.replace("hello]", "again]") });
  expect(await ws.run(["concourse", "push", "ci/app.yml", "--target", fake.url, "--team", "main"], { env: credentials })).toEqual({
    exitCode: 0,
    stderr: "",
    stdout: `updated pipeline "app" in team "main" at ${fake.url}\nunpaused: ${fake.url}/teams/main/pipelines/app\n`,
  });
  expect(JSON.stringify(fake.pipeline("main", "app")?.config)).toContain("again");
});

test("28.2: rbuild concourse push refuses to overwrite a pipeline someone else saved meanwhile, and exits 1", { timeout: TIMEOUT }, async () => {
  const fake = await double();
  const ws = testWorkspace({ "app.yml": PIPELINE });
  expect((await ws.run(["concourse", "push", "app.yml", "--target", fake.url, "--team", "main"], { env: credentials })).exitCode).toBe(0);
  const colleague = new ConcourseClient({ url: fake.url, team: "main", username: "main", password: "main-pass-7" });
  onTestFinished(() => colleague.close());
  fake.beforeNext("PUT", /\/pipelines\/app\/config$/, async () => {
    expect((await colleague.setPipeline("app", PIPELINE.replace("hello]", "colleague]"))).ok).toBe(true);
  });
  const url = `${fake.url}/api/v1/teams/main/pipelines/app/config`;
  expect(await ws.run(["concourse", "push", "app.yml", "--target", fake.url, "--team", "main"], { env: credentials })).toEqual({
    exitCode: 1,
    stdout: "",
    stderr: `rbuild: error: Pipeline "app" in team "main" changed while it was being set (${url} answered 500: failed to save config: comparison with existing config failed during save): someone else saved it meanwhile, and nothing was overwritten. Look at what changed, then push again.\n`,
  });
  expect(JSON.stringify(fake.pipeline("main", "app")?.config)).toContain("colleague");
});

test("28.2: rbuild concourse push never prints the password: a refused login, a forbidden team, a config Concourse rejects", { timeout: TIMEOUT }, async () => {
  const fake = await double();
  const ws = testWorkspace({ "app.yml": PIPELINE, "bad.yml": "jobs: []\n" });
  const wrong = await ws.run(["concourse", "push", "app.yml", "--target", fake.url, "--team", "main"], { env: { CONCOURSE_USERNAME: "main", CONCOURSE_PASSWORD: "hunter2-wrong" } });
  expect(wrong).toEqual({
    exitCode: 1,
    stdout: "",
    stderr: `rbuild: error: Logging in to ${fake.url} as "main" failed: ${fake.url}/sky/issuer/token answered 401 ({"error":"access_denied","error_description":"Invalid username or password"}). Check the username and password (and that the user may log in with a password).\n`,
  });
  const forbidden = await ws.run(["concourse", "push", "app.yml", "--target", fake.url, "--team", "ops", "--password", "main-pass-7"], { env: { CONCOURSE_USERNAME: "main" } });
  expect(forbidden).toEqual({
    exitCode: 1,
    stdout: "",
    stderr: `rbuild: error: Reading the config of pipeline "app": ${fake.url}/api/v1/teams/ops/pipelines/app/config answered 403. User "main" is not allowed in team "ops"; check --team, or ask an owner of the team to add the user.\n`,
  });
  const url = `${fake.url}/api/v1/teams/main/pipelines/bad/config`;
  expect(await ws.run(["concourse", "push", "bad.yml", "--target", fake.url, "--team", "main"], { env: credentials })).toEqual({
    exitCode: 1,
    stdout: "",
    stderr: `rbuild: error: Concourse refused the config of pipeline "bad" in team "main" (${url} answered 400):\n  invalid jobs:\n  \tjobs: pipeline must contain at least one job\nFix the pipeline file and push again.\n`,
  });
  for (const result of [wrong, forbidden]) expect(`${result.stdout}${result.stderr}`).not.toMatch(/hunter2|main-pass-7/);
});

test("28.2: rbuild concourse push usage errors: no target, no team, no credentials, a file name that is no pipeline name", { timeout: TIMEOUT }, async () => {
  const ws = testWorkspace({ "App Pipeline.yml": PIPELINE });
  const usage = [
    "Usage: rbuild concourse push <pipeline-file> --target URL --team T [--pipeline NAME] [-v VAR=VALUE...]",
    "                                 set the pipeline (NAME: the file's name without .yml) on the",
    "                                 Concourse at URL and unpause it; log in with CONCOURSE_USERNAME and",
    "                                 CONCOURSE_PASSWORD (or --username/--password, visible to ps);",
    "                                 -v fills in ((VAR)), as fly set-pipeline -v (others are left",
    "                                 for Concourse's credential manager)",
    "",
  ].join("\n");
  const push = (args: string[], env: Record<string, string> = credentials) => ws.run(["concourse", "push", ...args], { env });
  const error = (message: string) => ({ exitCode: 2, stdout: "", stderr: `rbuild: error: ${message}\n${usage}` });
  expect(await push(["App Pipeline.yml", "--team", "main"])).toEqual(error("`rbuild concourse push` needs --target URL: the Concourse's address, e.g. --target https://ci.example."));
  expect(await push(["App Pipeline.yml", "--target", "ci.example", "--team", "main"])).toEqual(error('--target must be an http:// or https:// URL, got "ci.example".'));
  expect(await push(["App Pipeline.yml", "--target", "http://127.0.0.1:9"])).toEqual(error("`rbuild concourse push` needs --team T: the Concourse team the pipeline belongs to (often `main`)."));
  expect(await push(["App Pipeline.yml", "--target", "http://127.0.0.1:9", "--team", "main"], {})).toEqual(error("`rbuild concourse push` needs a user to log in as: set CONCOURSE_USERNAME (or pass --username)."));
  expect(await push(["App Pipeline.yml", "--target", "http://127.0.0.1:9", "--team", "main"], { CONCOURSE_USERNAME: "main" })).toEqual(
    error('`rbuild concourse push` needs the password of "main": set CONCOURSE_PASSWORD (or pass --password, which other users can see in ps).'),
  );
  expect(await push(["App Pipeline.yml", "--target", "http://127.0.0.1:9", "--team", "main"])).toEqual(
    error('The pipeline would be named "App Pipeline" after its file, which is not a valid Concourse name (lowercase letters, digits, -, _ and .); pass --pipeline NAME.'),
  );
  expect(await push(["App Pipeline.yml", "--target", "http://127.0.0.1:9", "--team", "main", "--pipeline", "app", "-v", "=main"])).toEqual(error('-v takes VAR=VALUE, e.g. -v source-branch=main; got "".'));
  expect(await push(["nope.yml", "--target", "http://127.0.0.1:9", "--team", "main"])).toEqual({ exitCode: 2, stdout: "", stderr: "rbuild: error: cannot read the pipeline file <root>/nope.yml: ENOENT\n" });
});

test("28.2: rbuild concourse push fills in -v vars as fly does, leaves the credential manager's, and prints Concourse's warnings", { timeout: TIMEOUT }, async () => {
  const fake = await double();
  const golden = readFileSync(new URL("../../packages/concourse/golden/c-hello.yml", import.meta.url), "utf8");
  const ws = testWorkspace({ "pipeline.yml": golden });
  const args = ["concourse", "push", "pipeline.yml", "--target", fake.url, "--team", "main", "--pipeline", "Hello", "-v", "source-uri=https://git.example/acme/hello.git", "--var=source-branch=main"];
  expect(await ws.run(args, { env: credentials })).toEqual({
    exitCode: 0,
    stderr: "rbuild: warning: Concourse: pipeline: 'Hello' is not a valid identifier: must start with a lowercase letter or a number\n",
    stdout: `created pipeline "Hello" in team "main" at ${fake.url}\nunpaused: ${fake.url}/teams/main/pipelines/Hello\n`,
  });
  const config = fake.pipeline("main", "Hello")?.config as { resources: { source: unknown }[]; jobs: unknown[] };
  expect(config.resources[0]!.source).toEqual({ uri: "https://git.example/acme/hello.git", branch: "main" });
  expect(JSON.stringify(config.jobs)).toContain('"RBUILD_TOKEN":"((rbuild-cache-token))"');
  expect(JSON.stringify(config)).not.toMatch(/\(\(source-/);
});
