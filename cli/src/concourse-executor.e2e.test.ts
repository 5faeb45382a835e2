import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, onTestFinished, test } from "vitest";
import type { RunningServer } from "rbuild-cache-server";
import { FakeConcourse } from "../../packages/concourse/src/test-support/fake-concourse.js";
import { testCacheServer } from "./test-support/cache-server.js";
import { RBUILD, testWorkspace, type Workspace } from "./test-support/workspace.js";

const TIMEOUT = 180_000;
// Three tasks in a chain; a count file records every real run of a task, wherever it ran.
const BUILDFILE = `import { task } from "rbuild";
const lib = task({ name: "lib", inputs: ["src/**"], outputs: ["out/lib.txt"], run: "mkdir -p out && cat src/*.txt > out/lib.txt && echo lib built" });
const app = task({ name: "app", deps: [lib], inputs: ["app.sh"], outputs: ["out/app.txt"], run: "sh app.sh" });
task({ name: "site", deps: [app], outputs: ["out/site.txt"], run: "echo site of $(cat out/app.txt) > out/site.txt && echo site done" });
`;
const credentials = { CONCOURSE_USERNAME: "main", CONCOURSE_PASSWORD: "main-pass-7" };

const cacheServer = (): Promise<RunningServer> => testCacheServer("rbuild-cexec-e2e-");

async function double(): Promise<FakeConcourse> {
  const fake = await FakeConcourse.start({ users: [{ username: "main", password: "main-pass-7", teams: { main: ["owner"] } }] });
  onTestFinished(() => fake.close());
  return fake;
}

const workspace = (appScript = "echo app of $(wc -c < out/lib.txt) > out/app.txt && echo app done\n"): Workspace => testWorkspace({ "Buildfile.ts": BUILDFILE, "src/a.txt": "alpha\n", "app.sh": appScript });

/** The build's flags for the double and the cache server; RBUILD_BIN is how the double's scripts start the built CLI. */
function concourse(fake: FakeConcourse, cache: RunningServer): { args: string[]; env: Record<string, string> } {
  return {
    args: ["--executor", "concourse", "--target", fake.url, "--team", "main", "--image", "registry.example/rbuild:1", "--remote", cache.url, "--output", "plain", "-j", "1"],
    env: { ...credentials, RBUILD_BIN: RBUILD, RBUILD_TOKEN: "cache-token-s3cret" },
  };
}

const oneOffs = (fake: FakeConcourse): number => fake.requests.filter((r) => r.method === "POST" && r.path === "/api/v1/teams/main/builds").length;
const tidy = (text: string): string => text.replace(/one-off build \d+/g, "one-off build <n>").replace(/\/builds\/\d+/g, "/builds/<n>");

// The tasks' own lines, prefixed once: the runs there report events, not lines (see remote-events.ts).
const FIRST_STDOUT = "> lib\n[lib] lib built\n✓ lib (<t>)\n> app\n[app] app done\n✓ app (<t>)\n> site\n[site] site done\n✓ site (<t>)\n";
const firstStderr = (fake: FakeConcourse): string =>
  `rbuild: task "lib" runs as one-off build <n> on Concourse: ${fake.url}/builds/<n>\n` +
  `rbuild: task "app" runs as one-off build <n> on Concourse: ${fake.url}/builds/<n>\n` +
  `rbuild: task "site" runs as one-off build <n> on Concourse: ${fake.url}/builds/<n>\n` +
  "rbuild: ok: 3 ran, 0 cached in <t>\n";

async function build(ws: Workspace, fake: FakeConcourse, cache: RunningServer, extra: string[] = []): Promise<{ exitCode: number | undefined; stdout: string; stderr: string }> {
  const { args, env } = concourse(fake, cache);
  const result = await ws.run(["site", ...args, ...extra], { env });
  expect(`${result.stdout}${result.stderr}`).not.toContain("cache-token-s3cret");
  expect(`${result.stdout}${result.stderr}`).not.toContain("main-pass-7");
  return { exitCode: result.exitCode, stdout: tidy(result.stdout), stderr: tidy(result.stderr) };
}

describe("28.3: --executor concourse", () => {
  test("28.3: misses run as one-off builds on the double, logs under the task names, outputs land; the second build is all cache hits", { timeout: TIMEOUT }, async () => {
    const [fake, cache] = [await double(), await cacheServer()];
    const ws = workspace();
    expect(await build(ws, fake, cache)).toEqual({ exitCode: 0, stdout: FIRST_STDOUT, stderr: firstStderr(fake) });
    expect([ws.read("out/lib.txt"), ws.read("out/app.txt"), ws.read("out/site.txt")]).toEqual(["alpha\n", "app of 6\n", "site of app of 6\n"]);
    expect(oneOffs(fake)).toBe(3);
    // Each build got the inputs as an artifact, and the cache token only through its params.
    const plan = JSON.stringify(fake.build(1)?.plan);
    expect(plan).toContain('"RBUILD_TOKEN":"cache-token-s3cret"');
    expect(plan).not.toContain("--token");

    rmSync(join(ws.root, "out"), { recursive: true, force: true });
    rmSync(join(ws.root, ".rbuild"), { recursive: true, force: true });
    const requests = fake.requests.length;
    expect(await build(ws, fake, cache)).toEqual({
      exitCode: 0,
      stdout: "✓ lib (cached, remote)\n✓ app (cached, remote)\n✓ site (cached, remote)\n",
      stderr: "rbuild: ok: 0 ran, 3 cached in <t>\n",
    });
    expect(fake.requests.slice(requests)).toEqual([]); // Not even a login: hits never leave the machine.
    expect([ws.read("out/lib.txt"), ws.read("out/app.txt"), ws.read("out/site.txt")]).toEqual(["alpha\n", "app of 6\n", "site of app of 6\n"]);
  });

  test("28.3: a failing remote task fails the build with its log; what depends on it is skipped", { timeout: TIMEOUT }, async () => {
    const [fake, cache] = [await double(), await cacheServer()];
    const ws = workspace("echo app broke >&2; exit 3\n");
    expect(await build(ws, fake, cache)).toEqual({
      exitCode: 1,
      stdout: "> lib\n[lib] lib built\n✓ lib (<t>)\n> app\n✗ app (<t>)\n- site skipped (dependency-failed: app)\n",
      stderr:
        `rbuild: task "lib" runs as one-off build <n> on Concourse: ${fake.url}/builds/<n>\n` +
        `rbuild: task "app" runs as one-off build <n> on Concourse: ${fake.url}/builds/<n>\n[app] app broke\n` +
        'error: Task "app" failed: its command exited with code 3.\n' +
        "rbuild: failed: 1 ran, 0 cached, 1 failed, 1 skipped in <t>\n",
    });
    expect(existsSync(join(ws.root, "out/app.txt"))).toBe(false);
  });

  test("28.3: a dropped event stream resumes after the last event seen: the log is whole, no line twice", { timeout: TIMEOUT }, async () => {
    const [fake, cache] = [await double(), await cacheServer()];
    // Each of the first three connections (all to build 1, lib's: it has more than three events) is cut after one event.
    fake.dropStreams({ afterEvents: 1, times: 3 });
    const ws = workspace();
    expect(await build(ws, fake, cache)).toEqual({ exitCode: 0, stdout: FIRST_STDOUT, stderr: firstStderr(fake) });
    const resumed = fake.requests.filter((r) => r.lastEventId !== undefined);
    expect(resumed).toEqual(["0", "1", "2"].map((lastEventId) => ({ method: "GET", path: "/api/v1/builds/1/events", lastEventId })));
    expect(ws.read("out/site.txt")).toBe("site of app of 6\n");
  });

  test("28.3: Ctrl-C aborts the remote build; the double sees the abort", { timeout: TIMEOUT }, async () => {
    const [fake, cache] = [await double(), await cacheServer()];
    const stop = join(mkdtempSync(join(tmpdir(), "rbuild-cexec-stop-")), "stop");
    onTestFinished(() => writeFileSync(stop, "")); // Ends the remote task's loop, had the abort missed it.
    const ws = workspace(`echo app waiting; i=0; while [ ! -e ${stop} ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done\n`);
    const { args, env } = concourse(fake, cache);
    const child = ws.start(["site", ...args], { env });
    const waiting = (): number | undefined => {
      for (let id = 1; fake.build(id) !== undefined; id++) {
        if (fake.build(id)!.events.some((e) => e.event === "log" && JSON.stringify(e.data).includes("app waiting"))) return id;
      }
      return undefined;
    };
    for (let tries = 0; waiting() === undefined && tries < 1200; tries++) await new Promise((resolve) => setTimeout(resolve, 100));
    const id = waiting()!;
    expect(id).toBeDefined();
    child.kill("SIGINT");
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(fake.requests.filter((r) => r.method === "PUT" && r.path.endsWith("/abort")).map((r) => r.path)).toEqual([`/api/v1/builds/${id}/abort`]);
    expect(fake.build(id)?.status).toBe("aborted");
    expect(oneOffs(fake)).toBe(2); // site never started.
  });

  test("28.3: a remote run that computes another key (an env var the task declares is not set there) fails, saying why", { timeout: TIMEOUT }, async () => {
    const [fake, cache] = [await double(), await cacheServer()];
    const ws = testWorkspace({ "Buildfile.ts": 'import { task } from "rbuild";\ntask({ name: "greet", env: ["GREETING"], outputs: ["greet.txt"], run: "echo ${GREETING:-none} > greet.txt" });\n' });
    const { args, env } = concourse(fake, cache);
    const result = await ws.run(["greet", ...args], { env: { ...env, GREETING: "hello" } });
    const stderr = tidy(result.stderr).split("\n");
    expect([result.exitCode, tidy(result.stdout)]).toEqual([1, "> greet\n✗ greet (<t>)\n"]);
    expect(stderr[1]).toMatch(
      /^error: Task "greet" failed: it ran elsewhere and passed, but its result is not in the remote cache under the key this build computed \([0-9a-f]{16}\): the run there saw other inputs or another environment \(an env var the task declares, a tool's version\), or could not upload to the remote cache\. Its log above says which\.$/,
    );
    expect(existsSync(join(ws.root, "greet.txt"))).toBe(false);
  });

  test("28.3: an impure task, and what depends on it (--only could not take it from a cache), run here; the rest on Concourse", { timeout: TIMEOUT }, async () => {
    const [fake, cache] = [await double(), await cacheServer()];
    const ws = testWorkspace({
      "Buildfile.ts":
        'import { task } from "rbuild";\n' +
        'const stamp = task({ name: "stamp", pure: false, run: "echo stamped here" });\n' +
        'const page = task({ name: "page", deps: [stamp], outputs: ["page.txt"], run: "echo page > page.txt" });\n' +
        'const lone = task({ name: "lone", outputs: ["lone.txt"], run: "echo lone > lone.txt" });\n' +
        "task({ name: \"all\", deps: [page, lone] });\n",
    });
    const { args, env } = concourse(fake, cache);
    const result = await ws.run(["all", ...args], { env });
    expect([result.exitCode, tidy(result.stderr).split("\n").filter((line) => line.startsWith("rbuild: task"))]).toEqual([0, [`rbuild: task "lone" runs as one-off build <n> on Concourse: ${fake.url}/builds/<n>`]]);
    expect(JSON.stringify(fake.build(1)?.plan)).toContain("run 'lone' --only");
    expect([oneOffs(fake), ws.read("page.txt"), ws.read("lone.txt")]).toEqual([1, "page\n", "lone\n"]);
  });

  test("28.3: --executor concourse without --remote is refused, saying why", async () => {
    const ws = workspace();
    const result = await ws.run(["site", "--executor", "concourse", "--target", "http://127.0.0.1:9", "--team", "main", "--image", "node:20"], { env: credentials });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.split("\n")[0]).toBe(
      "rbuild: error: --executor concourse needs --remote URL (or RBUILD_REMOTE_CACHE), a remote cache that this machine and the Concourse workers share: the one-off builds take what they need from it and leave their results in it, which is how this build gets their outputs back.",
    );
  });
});
