import { mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, onTestFinished, test } from "vitest";
import { startCacheServer, type RunningServer } from "rbuild-cache-server";
import { FakeConcourse } from "../../packages/concourse/src/test-support/fake-concourse.js";
import { RBUILD, testWorkspace, type Workspace } from "./test-support/workspace.js";

// What `--executor concourse` shows of a one-off build's log, and how often a task with retries runs there (issue 28.3, 28.2).
const TIMEOUT = 180_000;
const credentials = { CONCOURSE_USERNAME: "main", CONCOURSE_PASSWORD: "main-pass-7" };

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

function scratch(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-cremote-")));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function setUp(): Promise<{ fake: FakeConcourse; flags: string[]; env: Record<string, string> }> {
  const fake = await FakeConcourse.start({ users: [{ username: "main", password: "main-pass-7", teams: { main: ["owner"] } }] });
  onTestFinished(() => fake.close());
  server = await startCacheServer({ dir: scratch(), port: 0, maxSize: 1e9 });
  return {
    fake,
    flags: ["--executor", "concourse", "--target", fake.url, "--team", "main", "--image", "registry.example/rbuild:1", "--remote", server.url, "--output", "plain", "-j", "1"],
    env: { ...credentials, RBUILD_BIN: RBUILD, RBUILD_TOKEN: "cache-token-s3cret" },
  };
}

const oneOffs = (fake: FakeConcourse): number => fake.requests.filter((r) => r.method === "POST" && r.path === "/api/v1/teams/main/builds").length;
const tidy = (text: string): string => text.replace(/one-off build \d+/g, "one-off build <n>").replace(/\/builds\/\d+/g, "/builds/<n>");

async function build(ws: Workspace, target: string): Promise<{ exitCode: number | undefined; stdout: string; stderr: string; fake: FakeConcourse }> {
  const { fake, flags, env } = await setUp();
  const result = await ws.run([target, ...flags], { env });
  return { exitCode: result.exitCode, stdout: tidy(result.stdout), stderr: tidy(result.stderr), fake };
}

describe("28.3: the log of a one-off build, as the local reporter shows it", () => {
  test("28.3: each line the task wrote, prefixed once with its name; nothing of the reporter there", { timeout: TIMEOUT }, async () => {
    const ws = testWorkspace({
      "Buildfile.ts":
        'import { task } from "rbuild";\n' +
        'const lib = task({ name: "lib", outputs: ["lib.txt"], run: "echo lib > lib.txt && echo lib built && echo lib warns >&2" });\n' +
        'task({ name: "app", deps: [lib], outputs: ["app.txt"], run: "cat lib.txt > app.txt && echo app line 1 && echo app line 2" });\n',
    });
    const { exitCode, stdout, stderr, fake } = await build(ws, "app");
    expect({ exitCode, stdout, stderr }).toEqual({
      exitCode: 0,
      stdout: "> lib\n[lib] lib built\n✓ lib (<t>)\n> app\n[app] app line 1\n[app] app line 2\n✓ app (<t>)\n",
      stderr:
        `rbuild: task "lib" runs as one-off build <n> on Concourse: ${fake.url}/builds/<n>\n[lib] lib warns\n` +
        `rbuild: task "app" runs as one-off build <n> on Concourse: ${fake.url}/builds/<n>\n` +
        "rbuild: ok: 2 ran, 0 cached in <t>\n",
    });
    expect(ws.read("app.txt")).toBe("lib\n");
  });

  test("28.3: a failing task: its own lines and its command's own exit code, not the exit code of rbuild there", { timeout: TIMEOUT }, async () => {
    const ws = testWorkspace({ "Buildfile.ts": 'import { task } from "rbuild";\ntask({ name: "app", outputs: ["app.txt"], run: "echo app starts; echo app broke >&2; exit 3" });\n' });
    const { exitCode, stdout, stderr, fake } = await build(ws, "app");
    expect({ exitCode, stdout, stderr }).toEqual({
      exitCode: 1,
      stdout: "> app\n[app] app starts\n✗ app (<t>)\n",
      stderr:
        `rbuild: task "app" runs as one-off build <n> on Concourse: ${fake.url}/builds/<n>\n[app] app broke\n` +
        'error: Task "app" failed: its command exited with code 3.\n' +
        "rbuild: failed: 0 ran, 0 cached, 1 failed in <t>\n",
    });
  });
});

describe("28.2: retries of a task run on Concourse", () => {
  test("28.2: a task with retries: 2 that fails every time runs exactly 3 times, each a one-off build of one run", { timeout: TIMEOUT }, async () => {
    const runs = join(scratch(), "runs");
    const ws = testWorkspace({
      "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "flaky", outputs: ["out.txt"], retries: 2, retryDelay: 1, run: "echo ran >> ${runs}; echo no luck; exit 5" });\n`,
    });
    const { exitCode, stdout, fake } = await build(ws, "flaky");
    // The retries are this build's (the delay is jittered): each attempt one one-off build, of one run.
    expect([exitCode, stdout.replace(/ in \d+ ms:/g, " in <ms>:")]).toEqual([
      1,
      "> flaky\n[flaky] no luck\nretrying flaky (attempt 2 of 3) in <ms>: exit 5\n> flaky\n[flaky] no luck\nretrying flaky (attempt 3 of 3) in <ms>: exit 5\n> flaky\n[flaky] no luck\n✗ flaky (<t>)\n",
    ]);
    expect([readFileSync(runs, "utf8"), oneOffs(fake)]).toEqual(["ran\nran\nran\n", 3]);
  });

  test("28.2: retryOn sees the task's own exit code there: a code not in it is not retried", { timeout: TIMEOUT }, async () => {
    const runs = join(scratch(), "runs");
    const ws = testWorkspace({
      "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "smoke", outputs: ["out.txt"], retries: 3, retryDelay: 1, retryOn: [75], run: "echo ran >> ${runs}; n=$(wc -l < ${runs}); [ $n -lt 3 ] && exit 75; exit 4" });\n`,
    });
    const { exitCode, fake } = await build(ws, "smoke");
    // 75, 75, then 4: three runs, not four (and not 4 x 4).
    expect([exitCode, readFileSync(runs, "utf8"), oneOffs(fake)]).toEqual([1, "ran\nran\nran\n", 3]);
  });

  test("28.2: --no-retries runs a task with retries once, here too", { timeout: TIMEOUT }, async () => {
    const runs = join(scratch(), "runs");
    const ws = testWorkspace({ "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "flaky", retries: 2, retryDelay: 1, run: "echo ran >> ${runs}; exit 5" });\n` });
    const result = await ws.run(["flaky", "--no-retries", "--output", "plain"]);
    expect([result.exitCode, result.stdout, readFileSync(runs, "utf8")]).toEqual([1, "> flaky\n✗ flaky (<t>)\n", "ran\n"]);
  });
});
