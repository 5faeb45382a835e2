import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startCacheServer, type RunningServer } from "rbuild-cache-server";
import { eventually, killGroups } from "../../test-support/processes.js";
import { normalize, testWorkspace, type Workspace } from "./test-support/workspace.js";

let shared: string;
let serverDir: string;
let server: RunningServer;

beforeEach(async () => {
  shared = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-shared-pool-")));
  serverDir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-shared-pool-server-")));
  server = await startCacheServer({ dir: serverDir, port: 0, maxSize: 1e9, tokens: new Map([["w", "write"], ["r", "read"]]) });
});
afterEach(async () => {
  writeFileSync(join(shared, "go"), ""); // Whatever still waits ends.
  for (const name of ["a", "b"]) {
    const pid = Number(existsSync(join(shared, `${name}.pid`)) ? readFileSync(join(shared, `${name}.pid`), "utf8") : 0);
    if (pid > 0) killGroups([pid]);
  }
  await server.stop();
  rmSync(shared, { recursive: true, force: true });
  rmSync(serverDir, { recursive: true, force: true });
});

/**
 * A workspace whose `deploy` (in shared pool "staging" of size 1) writes its start and end to the
 * shared times.log and, between them, waits for the shared file `go` (a minute at most).
 */
function workspace(name: string, body?: string): Workspace {
  const wait = `echo $$ > ${shared}/${name}.pid; for i in $(seq 600); do [ -e ${shared}/go ] && break; sleep 0.1; done`;
  const run = `echo "start ${name} $(date +%s%3N)" >> ${shared}/times.log; ${body ?? wait}; echo "end ${name} $(date +%s%3N)" >> ${shared}/times.log`;
  return testWorkspace({
    "Buildfile.ts": `import { pool, task } from "rbuild";
const staging = pool("staging", { size: 1, shared: true });
export const deploy = task({ name: "deploy", pure: false, pool: staging, run: ${JSON.stringify(run)} });
`,
  });
}

const times = (): string[] => (existsSync(join(shared, "times.log")) ? readFileSync(join(shared, "times.log"), "utf8").split("\n").filter(Boolean) : []);
const at = (what: string): number => Number(times().find((line) => line.startsWith(`${what} `))?.split(" ")[2] ?? Number.NaN);
const remote = (token = "w"): string[] => ["--remote", server.url, "--token", token];

/** The build id, host and age in a waiting line, replaced so it can be asserted whole. */
const anonymous = (text: string): string => text.replace(/\b\d+-[0-9a-f]{6}\b/g, "<build>").replace(new RegExp(`\\b${hostname().replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`, "g"), "<host>").replace(/\(for \d+ (s|min)\)/g, "(for <age>)");

/** Output as asserted: no colour, timings as <t>. */
const plain = (text: unknown): string => normalize(String(text), "\u0000");

/** Starts `deploy` in `ws`, collecting its stderr as it comes. */
function start(ws: Workspace, env: Record<string, string> = {}) {
  const child = ws.start(["deploy", ...remote(), "--output", "plain"], { env });
  const progress = { stderr: "" };
  child.stderr!.on("data", (chunk: Buffer) => (progress.stderr += chunk.toString("utf8")));
  return { child, progress };
}

async function status(ws: Workspace, json = false): Promise<string> {
  const result = await ws.run(["pool", "status", ...remote(), ...(json ? ["--json"] : [])]);
  expect([result.exitCode, result.stderr]).toEqual([0, ""]);
  return result.stdout;
}

describe("shared pools: leases from the cache server", () => {
  test("26.4: two rbuild processes in two workspaces never hold one shared lease at once; the waiting one says who holds it", async () => {
    const a = start(workspace("a"));
    expect(await eventually(() => !Number.isNaN(at("start a")))).toBe(true);
    const b = start(workspace("b"));
    expect(await eventually(() => b.progress.stderr.includes("waiting for shared pool"))).toBe(true);
    expect(Number.isNaN(at("start b"))).toBe(true);
    writeFileSync(join(shared, "go"), "");
    const [ra, rb] = await Promise.all([a.child, b.child]);
    expect([ra.exitCode, rb.exitCode]).toEqual([0, 0]);
    expect(at("start b")).toBeGreaterThanOrEqual(at("end a"));
    expect(anonymous(plain(rb.stderr))).toBe(
      'rbuild: deploy: waiting for shared pool "staging" (size 1), held by task deploy of build <build> on <host> (for <age>)\n' + "rbuild: ok: 1 ran, 0 cached in <t>\n",
    );
    expect(JSON.parse(await status(workspace("c"), true))).toEqual({ pools: [] });
  }, 180_000);

  test("26.4: heartbeats keep a running holder's lease past its TTL: a waiting build stays waiting", async () => {
    const ttl = { RBUILD_LEASE_TTL_MS: "3000" };
    const a = start(workspace("a"), ttl);
    expect(await eventually(() => !Number.isNaN(at("start a")))).toBe(true);
    const b = start(workspace("b"), ttl);
    expect(await eventually(() => b.progress.stderr.includes("waiting for shared pool"))).toBe(true);
    // a holds on for more than three TTLs (heartbeats every second) while b keeps asking.
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    writeFileSync(join(shared, "go"), "");
    const [ra, rb] = await Promise.all([a.child, b.child]);
    expect([ra.exitCode, plain(ra.stderr), rb.exitCode]).toEqual([0, "rbuild: ok: 1 ran, 0 cached in <t>\n", 0]);
    expect(at("start b")).toBeGreaterThanOrEqual(at("end a"));
  }, 180_000);

  test("26.4: a SIGKILLed holder's lease expires after its TTL and the waiting build takes it", async () => {
    const ttl = { RBUILD_LEASE_TTL_MS: "2000" };
    const a = start(workspace("a"), ttl);
    expect(await eventually(() => !Number.isNaN(at("start a")))).toBe(true);
    const b = start(workspace("b"), ttl);
    expect(await eventually(() => b.progress.stderr.includes("waiting for shared pool"))).toBe(true);
    a.child.kill("SIGKILL");
    await a.child;
    const killed = Date.now();
    // Its command is left running (rbuild died): stopped here, so that only the lease's expiry lets b in.
    killGroups([Number(readFileSync(join(shared, "a.pid"), "utf8"))]);
    writeFileSync(join(shared, "go"), "");
    const rb = await b.child;
    expect(rb.exitCode).toBe(0);
    expect(at("start b")).toBeGreaterThanOrEqual(killed);
    expect(Number.isNaN(at("end a"))).toBe(true);
    expect(anonymous(plain(rb.stderr))).toBe(
      'rbuild: deploy: waiting for shared pool "staging" (size 1), held by task deploy of build <build> on <host> (for <age>)\n' + "rbuild: ok: 1 ran, 0 cached in <t>\n",
    );
  }, 180_000);

  test("26.4: `rbuild pool status` lists the holders; `rbuild pool release` frees one by hand, and the next build takes the lease at once", async () => {
    const a = start(workspace("a"), { RBUILD_LEASE_TTL_MS: "900" });
    expect(await eventually(() => !Number.isNaN(at("start a")))).toBe(true);
    const other = workspace("c");
    const listed = JSON.parse(await status(other, true)) as { pools: { pool: string; size: number; holders: { id: string; host: string; build: string; task: string; ageMs: number }[] }[] };
    expect(listed.pools.map((p) => [p.pool, p.size, p.holders.map((h) => [h.host, h.task, h.id === `${h.host}/${h.build}/${h.task}`, typeof h.ageMs])])).toEqual([
      ["staging", 1, [[hostname(), "deploy", true, "number"]]],
    ]);
    const holder = listed.pools[0]!.holders[0]!.id;
    const text = anonymous(await status(other)).replace(/ +/g, " ").replace(/ \d+ s /, " <age> ");
    expect(text).toBe("POOL SIZE HOST BUILD TASK AGE HOLDER\nstaging 1 <host> <build> deploy <age> <host>/<build>/deploy\n");

    const released = await other.run(["pool", "release", "staging", holder, ...remote()]);
    expect([released.exitCode, released.stdout, released.stderr]).toEqual([0, `rbuild: released ${holder} from pool "staging"\n`, ""]);
    const again = await other.run(["pool", "release", "staging", holder, ...remote()]);
    expect([again.exitCode, again.stderr]).toEqual([1, `rbuild: pool "staging" has no holder ${holder} (its lease may have ended already); \`rbuild pool status\` lists the holders\n`]);
    expect(await status(other)).toBe(`rbuild: no pool's lease is held on ${server.url}\n`);

    // b is not made to wait: the lease is free although a still runs.
    const rb = await workspace("b", "true").run(["deploy", ...remote(), "--output", "plain"]);
    expect([rb.exitCode, rb.stderr]).toEqual([0, "rbuild: ok: 1 ran, 0 cached in <t>\n"]);
    expect(await eventually(() => a.progress.stderr.includes("ended while it ran"))).toBe(true);
    writeFileSync(join(shared, "go"), "");
    const ra = await a.child;
    expect([ra.exitCode, plain(ra.stderr)]).toEqual([
      0,
      'rbuild: deploy: its lease on shared pool "staging" ended while it ran (expired, or released by hand); another holder may run beside it\nrbuild: ok: 1 ran, 0 cached in <t>\n',
    ]);
  }, 180_000);

  test("26.4: a holder releases its lease when it fails and when the build is interrupted", async () => {
    const failed = await workspace("f", "exit 3").run(["deploy", ...remote(), "--output", "plain"]);
    expect(failed.exitCode).toBe(1);
    expect(JSON.parse(await status(workspace("c"), true))).toEqual({ pools: [] });

    const a = start(workspace("a"));
    expect(await eventually(() => !Number.isNaN(at("start a")))).toBe(true);
    expect((JSON.parse(await status(workspace("c"), true)) as { pools: unknown[] }).pools.length).toBe(1);
    a.child.kill("SIGINT");
    expect((await a.child).exitCode).toBe(130);
    expect(JSON.parse(await status(workspace("c"), true))).toEqual({ pools: [] });
  }, 180_000);

  test("26.4: a task waiting for a shared lease gives up when another task's failure stops its build: it never runs", async () => {
    const a = start(workspace("a"));
    expect(await eventually(() => !Number.isNaN(at("start a")))).toBe(true);
    const b = workspace("b");
    b.write({
      "Buildfile.ts": b.read("Buildfile.ts") + `task({ name: "boom", pure: false, run: "for i in $(seq 600); do [ -e ${shared}/boom ] && break; sleep 0.1; done; exit 1" });\ntask({ name: "all", deps: ["deploy", "boom"] });\n`,
    });
    const child = b.start(["all", ...remote(), "--output", "plain", "--summary", "s.json"]);
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    expect(await eventually(() => stderr.includes("waiting for shared pool"))).toBe(true);
    writeFileSync(join(shared, "boom"), "");
    const rb = await child;
    expect(rb.exitCode).toBe(1);
    expect([plain(rb.stdout), anonymous(plain(rb.stderr))]).toEqual([
      "> boom\n✗ boom (<t>)\n- all skipped (dependency-failed: boom)\n- deploy skipped (build-stopped: boom failed)\n",
      'rbuild: deploy: waiting for shared pool "staging" (size 1), held by task deploy of build <build> on <host> (for <age>)\n' +
        'error: Task "boom" failed: its command exited with code 1.\nrbuild: failed: 0 ran, 0 cached, 1 failed, 2 skipped in <t>\n',
    ]);
    const tasks = (JSON.parse(b.read("s.json")) as { tasks: { name: string; status: string; reasons: string[] }[] }).tasks;
    expect(tasks.map((t) => [t.name, t.status, t.reasons])).toEqual([
      ["deploy", "skipped", ["build-stopped: boom failed"]],
      ["boom", "failed", ["impure"]],
      ["all", "skipped", ["dependency-failed: boom"]],
    ]);
    expect(Number.isNaN(at("start b"))).toBe(true);
    writeFileSync(join(shared, "go"), "");
    expect((await a.child).exitCode).toBe(0);
  }, 180_000);

  test("26.4: a shared pool without a cache server is refused before the build; a read token fails the task, saying why", async () => {
    const ws = workspace("a", "true");
    const none = await ws.run(["deploy", "--output", "plain"]);
    expect([none.exitCode, none.stdout, none.stderr]).toEqual([
      2,
      "",
      'rbuild: error: Task "deploy" is in shared pool "staging", whose leases come from an rbuild-cache-server, and no --remote was given. ' +
        "Pass --remote http(s)://<server> (or set RBUILD_REMOTE_CACHE) with a token that may write (--token or RBUILD_TOKEN).\nRun `rbuild --help` for usage.\n",
    ]);
    for (const [url, what] of [[`file://${shared}`, "a directory"], ["webdav+http://127.0.0.1:9/", "a plain file store"]] as const) {
      const plainStore = await ws.run(["deploy", "--remote", url, "--output", "plain"]);
      expect([plainStore.exitCode, plainStore.stderr.split("\n")[0]]).toEqual([
        2,
        `rbuild: error: Task "deploy" is in shared pool "staging", whose leases come from an rbuild-cache-server, and --remote ${url} is ${what}, which keeps no leases. ` +
          "Pass --remote http(s)://<server> (or set RBUILD_REMOTE_CACHE) with a token that may write (--token or RBUILD_TOKEN).",
      ]);
    }
    const reader = await ws.run(["deploy", ...remote("r"), "--output", "plain"]);
    expect(reader.exitCode).toBe(1);
    expect(reader.stderr).toContain(
      'Task "deploy" did not start: it needs a lease on pool "staging": taking a lease on pool "staging": 403 forbidden (leases need a token that may write; this one may only read)',
    );
    expect(times()).toEqual([]);
  }, 180_000);
});
