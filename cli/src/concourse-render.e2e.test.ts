import { cpSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { parsePipeline, validatePipeline } from "@rbuild/concourse";
import { testWorkspace } from "./test-support/workspace.js";

const FIXTURES = fileURLToPath(new URL("../../fixtures/", import.meta.url));
const GOLDEN = fileURLToPath(new URL("../../packages/concourse/golden/", import.meta.url));
const FLAGS = ["--image", "acme/rbuild-ci:1", "--remote", "https://rbuild-cache.example:8080"];

describe("28.5: the fixtures' rendered pipelines", () => {
  for (const fixture of ["c-hello", "deploy-pipeline", "graph-demo", "pnpm-monorepo", "ts-monorepo"]) {
    test(`28.5: ${fixture} renders its golden file (packages/concourse/golden/${fixture}.yml), which passes the validator`, async () => {
      const ws = testWorkspace({});
      cpSync(`${FIXTURES}${fixture}`, ws.root, { recursive: true, filter: (source) => !/\/(dist|build|node_modules|\.rbuild)(\/|$)/.test(source.slice(FIXTURES.length)) });
      const golden = readFileSync(`${GOLDEN}${fixture}.yml`, "utf8");
      const result = await ws.run(["concourse", "render", ...FLAGS]);
      expect(result).toEqual({ exitCode: 0, stdout: golden, stderr: "" });
      const parsed = parsePipeline(golden);
      expect(parsed.ok && validatePipeline(parsed.value, { strict: true })).toEqual({ errors: [], warnings: [] });
      const validated = await ws.run(["concourse", "validate", "--strict", `${GOLDEN}${fixture}.yml`]);
      expect(validated).toEqual({ exitCode: 0, stdout: "looks good\n", stderr: "" });
    });
  }
});

test("28.5: the README's Concourse section shows c-hello's pipeline as rendered", () => {
  const readme = readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8");
  const section = readme.slice(readme.indexOf("## Running on Concourse"));
  expect(/```yaml\n([\s\S]*?)```/.exec(section)?.[1]).toBe(readFileSync(`${GOLDEN}c-hello.yml`, "utf8"));
});

describe("28.1: rbuild concourse render and validate", () => {
  const buildfile = `import { task } from "rbuild";
const lib = task({ name: "lib", outputs: ["lib.txt"], run: "echo lib > lib.txt" });
task({ name: "App", deps: [lib], run: "cat lib.txt" });
task({ name: "deploy", deps: ["App"], pure: false, run: "echo deploying" });
`;

  test("28.1: named targets render them and what they need; --out writes the file and says how to publish it", async () => {
    const ws = testWorkspace({ "Buildfile.ts": buildfile });
    const result = await ws.run(["concourse", "render", "App", "--out", "pipeline.yml", ...FLAGS]);
    expect(result).toEqual({
      exitCode: 0,
      stdout: "rbuild: wrote pipeline.yml: 2 jobs, valid by Concourse's rules; publish it with `fly -t TARGET set-pipeline -p NAME -c pipeline.yml`\n",
      stderr: "",
    });
    const config = parse(ws.read("pipeline.yml"));
    expect(config.jobs.map((job: { name: string; plan: unknown[] }) => [job.name, job.plan[0]])).toEqual([
      ["lib", { get: "source", trigger: true }],
      ["app", { get: "source", passed: ["lib"], trigger: true }],
    ]);
    expect(ws.read("pipeline.yml")).toContain("  # task: App\n  - name: app\n");
  });

  test("28.1: a task's retries stay rbuild's (no attempts: on its step, see 28.2); an impure task's job is started by hand", async () => {
    const ws = testWorkspace({
      "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "upload", pure: false, retries: 2, run: "echo up" });\n`,
    });
    const result = await ws.run(["concourse", "render", ...FLAGS]);
    expect(result.exitCode).toBe(0);
    const [job] = parse(result.stdout).jobs;
    expect([job.plan[0], job.plan[1].attempts]).toEqual([{ get: "source" }, undefined]);
  });

  test("28.1: a workspace below the top of its git repository: the jobs run rbuild in its directory of the checkout", async () => {
    const ws = testWorkspace({ ".git/HEAD": "ref: refs/heads/main\n", "apps/site/Buildfile.ts": buildfile });
    const result = await ws.run(["concourse", "render", "-C", "apps/site", ...FLAGS]);
    expect(result.exitCode).toBe(0);
    expect(parse(result.stdout).jobs.map((job: { plan: { config?: { run: { dir: string } } }[] }) => job.plan[1]!.config!.run.dir)).toEqual(["source/apps/site", "source/apps/site", "source/apps/site"]);
  });

  test("28.1: render needs --image and a remote cache; the token is never written, only its credential var", async () => {
    const ws = testWorkspace({ "Buildfile.ts": buildfile });
    expect((await ws.run(["concourse", "render", "--remote", "https://c.example"])).stderr.split("\n")[0]).toBe(
      "rbuild: error: `rbuild concourse render` needs --image REF: the container image the jobs run in, with rbuild on its PATH (e.g. --image registry.example:5000/acme/ci:1).",
    );
    expect((await ws.run(["concourse", "render", "--image", "node:20"])).stderr.split("\n")[0]).toBe(
      "rbuild: error: `rbuild concourse render` needs --remote URL (or RBUILD_REMOTE_CACHE): the cache every job takes its deps' outputs from, e.g. --remote https://cache.example:8080.",
    );
    const fromEnv = await ws.run(["concourse", "render", "--image", "node:20"], { env: { RBUILD_REMOTE_CACHE: "https://c.example", RBUILD_TOKEN: "s3cret" } });
    expect([fromEnv.exitCode, fromEnv.stdout.includes("RBUILD_REMOTE_CACHE: https://c.example\n"), fromEnv.stdout.includes("s3cret"), fromEnv.stdout.includes("RBUILD_TOKEN: ((rbuild-cache-token))")]).toEqual([0, true, false, true]);
  });

  test("28.1: validate names the job, step and rule, errors exit 1, warnings only with --strict", async () => {
    const ws = testWorkspace({
      "bad.yml": "resources:\n  - name: src\n    type: git\n  - name: spare\n    type: time\njobs:\n  - name: a\n    plan:\n      - get: src\n  - name: b\n    plan:\n      - get: src\n        passed: [c]\n  - name: c\n    plan: []\n",
      "warned.yml": "resources:\n  - name: src\n    type: git\njobs:\n  - name: Build\n    plan:\n      - get: src\n",
    });
    expect(await ws.run(["concourse", "validate", "bad.yml"])).toEqual({
      exitCode: 1,
      stdout: "",
      stderr: "invalid resources:\n\tresource 'spare' is not used\ninvalid jobs:\n\tjobs.b.plan.do[0].get(src).passed: job 'c' does not interact with resource 'src'\nconfiguration invalid\n",
    });
    const warning = "WARNING: jobs.Build: 'Build' is not a valid identifier: must start with a lowercase letter or a number\n";
    expect(await ws.run(["concourse", "validate", "warned.yml"])).toEqual({ exitCode: 0, stdout: "looks good\n", stderr: warning });
    expect(await ws.run(["concourse", "validate", "warned.yml", "--strict"])).toEqual({ exitCode: 1, stdout: "", stderr: `${warning}configuration invalid\n` });
  });
});
