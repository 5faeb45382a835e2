/**
 * What a new user's runs of today's features (issues 24, 25, 26) found broken,
 * each pinned by the scenario that showed it: real workspaces, the built CLI,
 * a real cache server.
 */
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startCacheServer, type RunningServer } from "rbuild-cache-server";
import { eventually, killGroups } from "../../test-support/processes.js";
import { normalize, testWorkspace, type Workspace } from "./test-support/workspace.js";

const TOKENS = new Map([["w", "write"]] as const);

let shared: string;
let serverDir: string;
let server: RunningServer | undefined;

beforeEach(async () => {
  shared = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-newuser-")));
  serverDir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-newuser-server-")));
  server = await startCacheServer({ dir: serverDir, port: 0, maxSize: 1e9, tokens: TOKENS });
});
afterEach(async () => {
  writeFileSync(join(shared, "go"), ""); // Whatever still waits ends.
  for (const name of ["a", "b"]) {
    const pid = Number(existsSync(join(shared, `${name}.pid`)) ? readFileSync(join(shared, `${name}.pid`), "utf8") : 0);
    if (pid > 0) killGroups([pid]);
  }
  await server?.stop();
  rmSync(shared, { recursive: true, force: true });
  rmSync(serverDir, { recursive: true, force: true });
});

/** A workspace whose `deploy`, in shared pool "staging" of size 1, logs its start and end to the shared times.log and waits for the shared file `go` between them. */
function deployWorkspace(name: string): Workspace {
  const wait = `echo $$ > ${shared}/${name}.pid; for i in $(seq 600); do [ -e ${shared}/go ] && break; sleep 0.1; done`;
  const run = `echo "start ${name} $(date +%s%3N)" >> ${shared}/times.log; ${wait}; echo "end ${name} $(date +%s%3N)" >> ${shared}/times.log`;
  return testWorkspace({
    "Buildfile.ts": `import { pool, task } from "rbuild";
const staging = pool("staging", { size: 1, shared: true });
export const deploy = task({ name: "deploy", pure: false, pool: staging, run: ${JSON.stringify(run)} });
`,
  });
}

const times = (): string[] => (existsSync(join(shared, "times.log")) ? readFileSync(join(shared, "times.log"), "utf8").split("\n").filter(Boolean) : []);
const at = (what: string): number => Number(times().find((line) => line.startsWith(`${what} `))?.split(" ")[2] ?? Number.NaN);

/** The build id, host, ages and the server's port replaced, so a line can be asserted whole. */
const anonymous = (text: string): string =>
  normalize(text, "\u0000")
    .replace(/\b\d+-[0-9a-f]{6}\b/g, "<build>")
    .replace(new RegExp(`\\b${hostname().replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`, "g"), "<host>")
    .replace(/\(for \d+ (s|min)\)/g, "(for <age>)")
    .replace(/127\.0\.0\.1:\d+/g, "<server>");

/** Starts `deploy` in `ws` against `url`, collecting its stderr as it comes. */
function startDeploy(ws: Workspace, url: string, env: Record<string, string> = {}) {
  const child = ws.start(["deploy", "--remote", url, "--token", "w", "--output", "plain"], { env });
  const progress = { stderr: "", exited: false };
  child.stderr!.on("data", (chunk: Buffer) => (progress.stderr += chunk.toString("utf8")));
  void child.then(() => (progress.exited = true));
  return { child, progress };
}

describe("shared leases", () => {
  test("26.4: a task waiting for a shared lease keeps waiting through a restart of the cache server, and runs once the lease is free", async () => {
    const url = server!.url;
    const port = Number(new URL(url).port);
    // A TTL of 10 s: heartbeats every 3.3 s, so the holder's lease outlives the short outage below.
    const ttl = { RBUILD_LEASE_TTL_MS: "10000" };
    const a = startDeploy(deployWorkspace("a"), url, ttl);
    expect(await eventually(() => !Number.isNaN(at("start a")))).toBe(true);
    const b = startDeploy(deployWorkspace("b"), url, ttl);
    expect(await eventually(() => b.progress.stderr.includes("waiting for shared pool"))).toBe(true);

    await server!.stop();
    server = undefined;
    // b asks again every second: it either gives up (the defect) or says it will ask again.
    expect(await eventually(() => b.progress.exited || b.progress.stderr.includes("did not answer"))).toBe(true);
    server = await startCacheServer({ dir: serverDir, port, maxSize: 1e9, tokens: TOKENS });
    // Back, the server still has a's lease (leases survive a restart): b says again who holds it.
    expect(await eventually(() => b.progress.exited || b.progress.stderr.split("waiting for shared pool").length === 3)).toBe(true);
    writeFileSync(join(shared, "go"), "");

    const [ra, rb] = await Promise.all([a.child, b.child]);
    // Why the connection failed depends on when the server went (refused, reset, closed).
    const stderr = anonymous(String(rb.stderr)).replace(/\(taking a lease on pool "staging": [^\n]*\); asking/, '(taking a lease on pool "staging": <why>); asking');
    expect([ra.exitCode, rb.exitCode, stderr]).toEqual([
      0,
      0,
      'rbuild: deploy: waiting for shared pool "staging" (size 1), held by task deploy of build <build> on <host> (for <age>)\n' +
        'rbuild: deploy: the lease server did not answer (taking a lease on pool "staging": <why>); asking again for up to 10 s\n' +
        'rbuild: deploy: waiting for shared pool "staging" (size 1), held by task deploy of build <build> on <host> (for <age>)\n' +
        "rbuild: ok: 1 ran, 0 cached in <t>\n",
    ]);
    expect(at("start b")).toBeGreaterThanOrEqual(at("end a"));
  }, 180_000);

  test("26.4: a cache server that never answered is not waited for: the task fails at once, naming the lease", async () => {
    await server!.stop();
    const url = server!.url;
    server = undefined;
    const ws = deployWorkspace("a");
    const result = await ws.run(["deploy", "--remote", url, "--token", "w", "--output", "plain"], { env: { RBUILD_LEASE_TTL_MS: "60000" } });
    expect([result.exitCode, anonymous(result.stdout)]).toEqual([1, "✗ deploy (<t>)\n"]);
    expect(anonymous(result.stderr).split("\n").filter((line) => line.includes("lease"))).toEqual([
      'error: Task "deploy" did not start: it needs a lease on pool "staging": taking a lease on pool "staging": connect ECONNREFUSED <server>',
    ]);
  }, 180_000);
});

describe("the pool boy's flags without the pool boy", () => {
  test("26.5: `rbuild pool clean`, or --pools, without --git says to add --git REPO, rather than that clean does not exist or --pools is unknown", async () => {
    const ws = testWorkspace({ "Buildfile.ts": 'import { task } from "rbuild";\ntask({ name: "a", run: "true" });\n' });
    const hint =
      "`rbuild pool` takes `status` or `release <pool> <holder>` for the shared pools' leases on --remote (e.g. `rbuild pool status --remote http://<cache server>`), " +
      "or `status` or `clean` with --git REPO --pools NAME:MINUTES,... for the locks of a Concourse pool-resource git repository.";
    const clean = await ws.run(["pool", "clean"]);
    expect([clean.exitCode, clean.stdout, clean.stderr]).toEqual([2, "", `rbuild: error: ${hint}\nRun \`rbuild --help\` for usage.\n`]);
    for (const args of [["pool", "clean", "--pools", "staging:60"], ["pool", "status", "--pools", "staging:60"], ["-C", ws.root, "pool", "status", "--git", ws.root, "--pools", "staging:60"]]) {
      const result = await ws.run(args);
      const flag = args.includes("--git") ? "--git" : "--pools";
      expect([args, result.exitCode, result.stdout, result.stderr]).toEqual([
        args,
        2,
        "",
        `rbuild: error: ${flag} is an option of the pool boy, which reads a Concourse pool-resource git repository: ` +
          "`rbuild pool status --git REPO --pools NAME:MINUTES,...` or `rbuild pool clean --git REPO --pools NAME:MINUTES,...`, with `pool` first on the command line.\n" +
          "Run `rbuild --help` for usage.\n",
      ]);
    }
  }, 120_000);
});

describe("an input edited while its task runs", () => {
  test("24.3: a save while the task runs is not cached under the key of what was there before: reverting the edit runs the task again", async () => {
    // The task reads its input after the test has changed it (it waits for the file `go`), as a save during a watch build can.
    const ws = testWorkspace({
      "Buildfile.ts": `import { task } from "rbuild";
export const copy = task({ name: "copy", inputs: ["src/**"], outputs: ["out/**"],
  run: "touch started; for i in $(seq 600); do [ -e go ] && break; sleep 0.1; done; mkdir -p out && cat src/x.txt > out/x.txt" });
`,
      "src/x.txt": "before\n",
    });
    const child = ws.start(["copy", "--output", "plain"]);
    expect(await eventually(() => existsSync(join(ws.root, "started")))).toBe(true);
    ws.write({ "src/x.txt": "after\n", go: "" });
    const first = await child;
    expect([first.exitCode, normalize(String(first.stdout), ws.root), normalize(String(first.stderr), ws.root)]).toEqual([
      0,
      "> copy\n✓ copy (<t>)\n",
      'rbuild: task "copy": its input src/x.txt changed while it ran, so its result is not cached (it runs again next time)\nrbuild: ok: 1 ran, 0 cached in <t>\n',
    ]);
    expect(ws.read("out/x.txt")).toBe("after\n");

    // Back to what the task's key was computed from: the task runs again; no stored result claims "after" came from "before".
    ws.write({ "src/x.txt": "before\n" });
    const reverted = await ws.run(["copy", "--output", "plain"]);
    expect([reverted.exitCode, reverted.stdout, reverted.stderr]).toEqual([0, "> copy\n✓ copy (<t>)\n", "rbuild: ok: 1 ran, 0 cached in <t>\n"]);
    expect(ws.read("out/x.txt")).toBe("before\n");
    // And what is stable is cached as always.
    const again = await ws.run(["copy", "--output", "plain"]);
    expect([again.exitCode, again.stdout]).toEqual([0, "✓ copy (cached, local)\n"]);
  }, 120_000);
});

describe("scripts() options", () => {
  /** An npm workspace with package `app`, which has a deploy script. */
  function appWorkspace(buildfile: string): Workspace {
    return testWorkspace({
      "package.json": JSON.stringify({ name: "root", private: true, workspaces: ["packages/*"] }),
      "packages/app/package.json": JSON.stringify({ name: "app", version: "1.0.0", scripts: { deploy: "node deploy.mjs" } }),
      "Buildfile.ts": buildfile,
    });
  }

  test("26.1: an option scripts() does not know (turbo's dependsOn, or a task field such as retries) is refused, naming it, rather than silently ignored", async () => {
    const ws = appWorkspace(`import { scripts } from "rbuild";
export const deploy = scripts("deploy", { pure: false, dependsOn: ["^build"], retries: 2, overrides: { app: { output: ["dist/**"] } } } as any);
`);
    const result = await ws.run(["app#deploy", "--output", "plain"]);
    expect([result.exitCode, result.stdout, result.stderr]).toEqual([
      2,
      "",
      "rbuild: error: Buildfile.ts:2:23: scripts(\"deploy\"): `dependsOn` is not a scripts() option (did you mean `deps`?); " +
        "`retries` is not a scripts() option (it is a task() field: declare that task with task() to use it); " +
        "`output` in overrides[\"app\"] is not a scripts() option (did you mean `outputs`?). " +
        "Its options are: deps, inputs, outputs, rootInputs, env, pure, packages, overrides, workspace.\n" +
        "(thrown while loading Buildfile.ts; fix the Buildfile and run again)\n",
    ]);
  }, 120_000);
});

describe("the cache server's own refusals", () => {
  test("25.3: a blob over the cache server's limit is reported with the server's reason (its --max-size), not nginx's client_max_body_size", async () => {
    await server!.stop();
    server = await startCacheServer({ dir: serverDir, port: 0, maxSize: 1e6, tokens: TOKENS });
    const ws = testWorkspace({
      "Buildfile.ts": `import { task } from "rbuild";
export const big = task({ name: "big", outputs: ["out/**"], run: "mkdir -p out && yes | head -c 400000 > out/big.txt" });
`,
    });
    const result = await ws.run(["big", "--remote", server.url, "--token", "w", "--output", "plain"]);
    expect([result.exitCode, result.stdout, result.stderr.replace(/blob [0-9a-f]{12}/, "blob <digest>")]).toEqual([
      0,
      "> big\n✓ big (<t>)\n",
      "rbuild: remote cache: uploading failed: storing blob <digest>: 413, the server takes no upload this large: " +
        "too large: this server keeps blobs of at most 250000 bytes, 1/4 of its --max-size (1000000); raise --max-size to store larger ones; going on with the local cache\n" +
        "rbuild: ok: 1 ran, 0 cached in <t>\n",
    ]);
  }, 120_000);
});

describe("a failed undo in the history", () => {
  test("26.2: a failed undo is in `rbuild errors` and `rbuild show` as an undo that failed, not as the task's command failing", async () => {
    const ws = testWorkspace({
      "Buildfile.ts": `import { task } from "rbuild";
const deploy = task({ name: "deploy", pure: false, run: "echo deployed", undo: "echo rolling back; exit 9" });
const check = task({ name: "check", deps: [deploy], pure: false, run: "exit 1" });
export const all = task({ name: "all", deps: [check] });
`,
    });
    const build = await ws.run(["all", "--output", "plain"]);
    expect(build.exitCode).toBe(1);
    const undoError = "undo deploy FAILED: its undo exited with code 9; what deploy did is still in place: undo it by hand, or fix its undo and run the build again";
    expect(build.stderr.split("\n").filter((line) => line.startsWith("error:"))).toEqual(['error: Task "check" failed: its command exited with code 1.', `error: ${undoError}`]);

    const errors = await ws.run(["errors", "--json"]);
    const groups = JSON.parse(errors.stdout) as { task: string; count: number; error: string | null; tail: string[] }[];
    expect([errors.exitCode, groups.map((g) => [g.task, g.count, g.error, g.tail])]).toEqual([
      0,
      [
        ["check", 1, 'Task "check" failed: its command exited with code 1.', []],
        ["deploy", 1, undoError, ["rolling back"]],
      ],
    ]);
    const show = await ws.run(["show", "deploy"]);
    expect(show.stdout.split("\n").filter((line) => /^(status|error):/.test(line)).map((line) => line.replace(/ in \d+ms,/, " in <t>,"))).toEqual(["status:   undo-failed in <t>, exit code 9", `error:    ${undoError}`]);
  }, 120_000);
});
