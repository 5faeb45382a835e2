/**
 * The real turbo (2.11) and nx (24) clients against the cache server on
 * loopback (see ../../shared/reference/remote-cache-protocols.md §7): a small
 * workspace built twice, the second time with the local cache and outputs
 * deleted, must be all remote hits with byte-identical outputs. Both clients
 * run offline with telemetry off, in a home directory of their own.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { writeFiles } from "../../test-support/files.js";
import { BUILD_SCRIPT, clientBin, filesUnder, NODE_MODULES, runClient } from "./test-support/real-clients.js";
import { serverPerTest } from "./test-support/server-per-test.js";

const each = serverPerTest("rbuild-real-clients-");
const TOKENS = new Map([["writer", "write"], ["reader", "read"]] as const);
const OUTPUTS = ["packages/a/dist", "packages/b/dist"];

let roots: string[] = [];
afterEach(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
  roots = [];
});

/** A temp directory with the workspace in `ws/` and the client's home and caches beside it. */
function tempRoot(): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-real-client-")));
  roots.push(root);
  mkdirSync(join(root, "home"));
  return root;
}

/** Packages a and b (b depends on a), each built by `node build.mjs` into dist/. */
function packages(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [name, deps] of [["a", {}], ["b", { a: "1.0.0" }]] as const) {
    files[`packages/${name}/package.json`] = JSON.stringify({ name, version: "1.0.0", scripts: { build: "node build.mjs" }, dependencies: deps });
    files[`packages/${name}/build.mjs`] = BUILD_SCRIPT;
    files[`packages/${name}/src/index.txt`] = `source of ${name}\n`;
  }
  return files;
}

async function nxMetrics(): Promise<string[]> {
  const text = await (await fetch(`${each.server!.url}/metrics`, { headers: { authorization: "Bearer reader" } })).text();
  return text.split("\n").filter((line) => line.includes('protocol="nx"'));
}

describe("turbo 2.11 against the server's v8 API", () => {
  /** An npm workspace as turbo wants it: packageManager, workspaces, a lockfile, turbo installed locally. */
  function turboWorkspace(root: string): string {
    const ws = join(root, "ws");
    writeFiles(ws, {
      "package.json": JSON.stringify({ name: "ws", private: true, packageManager: "npm@10.0.0", workspaces: ["packages/*"] }),
      "package-lock.json": JSON.stringify({
        name: "ws",
        lockfileVersion: 3,
        requires: true,
        packages: {
          "": { name: "ws", workspaces: ["packages/*"] },
          "node_modules/a": { resolved: "packages/a", link: true },
          "node_modules/b": { resolved: "packages/b", link: true },
          "packages/a": { name: "a", version: "1.0.0" },
          "packages/b": { name: "b", version: "1.0.0", dependencies: { a: "1.0.0" } },
        },
      }),
      // Explicit inputs: else turbo hashes its own logs under .turbo and never hits.
      "turbo.json": JSON.stringify({ tasks: { build: { dependsOn: ["^build"], inputs: ["src/**", "build.mjs"], outputs: ["dist/**"] } } }),
      ...packages(),
    });
    mkdirSync(join(ws, "node_modules"));
    symlinkSync(join(NODE_MODULES, "turbo"), join(ws, "node_modules", "turbo"));
    return ws;
  }

  /** Each task's id and cache status (and source, on a hit), from the one `--summarize` file of the run. */
  function summary(ws: string): string[][] {
    const runs = [...filesUnder(ws, [".turbo/runs"]).values()];
    expect(runs.length).toBe(1);
    const tasks = (JSON.parse(runs[0]!.toString("utf8")) as { tasks: { taskId: string; cache: { status: string; source?: string } }[] }).tasks;
    return tasks.map((t) => [t.taskId, t.cache.status, ...(t.cache.source === undefined ? [] : [t.cache.source])]).sort();
  }

  test("25.5: turbo: a second run with the local cache and outputs deleted is all remote hits, outputs byte-identical", async () => {
    const server = await each.start({ tokens: TOKENS });
    const root = tempRoot();
    const ws = turboWorkspace(root);
    const turbo = clientBin("turbo");
    const env = {
      HOME: join(root, "home"),
      XDG_CONFIG_HOME: join(root, "home", ".config"),
      XDG_CACHE_HOME: join(root, "home", ".cache"),
      TURBO_API: server.url,
      TURBO_TOKEN: "writer",
      TURBO_TEAM: "team-a",
      TURBO_TELEMETRY_DISABLED: "1",
      DO_NOT_TRACK: "1",
      TURBO_NO_UPDATE_NOTIFIER: "1",
      npm_config_update_notifier: "false",
    };

    const first = await runClient(turbo, ["run", "build", "--summarize"], ws, env);
    expect([first.code, summary(ws)], first.output).toEqual([0, [["a#build", "MISS"], ["b#build", "MISS"]]]);
    const built = filesUnder(ws, OUTPUTS);
    expect([...built.keys()]).toEqual(["packages/a/dist/data.bin", "packages/a/dist/out.txt", "packages/b/dist/data.bin", "packages/b/dist/out.txt"]);

    for (const dir of [".turbo", "packages/a/.turbo", "packages/b/.turbo", ...OUTPUTS]) rmSync(join(ws, dir), { recursive: true, force: true });
    const second = await runClient(turbo, ["run", "build", "--summarize"], ws, env);
    expect([second.code, summary(ws)], second.output).toEqual([0, [["a#build", "HIT", "REMOTE"], ["b#build", "HIT", "REMOTE"]]]);
    expect(filesUnder(ws, OUTPUTS)).toEqual(built);
  }, 300_000);
});

describe("nx 24 against the server's self-hosted cache API", () => {
  /** An npm workspace with nx.json (analytics off) and nx installed locally (nx refuses to run otherwise). */
  function nxWorkspace(root: string): string {
    const ws = join(root, "ws");
    writeFiles(ws, {
      "package.json": JSON.stringify({ name: "ws", private: true, workspaces: ["packages/*"] }),
      "nx.json": JSON.stringify({
        analytics: false,
        targetDefaults: { build: { cache: true, dependsOn: ["^build"], inputs: ["{projectRoot}/src/**/*", "{projectRoot}/build.mjs"], outputs: ["{projectRoot}/dist"] } },
      }),
      ...packages(),
    });
    mkdirSync(join(ws, "node_modules"));
    symlinkSync(join(NODE_MODULES, "nx"), join(ws, "node_modules", "nx"));
    return ws;
  }

  /**
   * nx's environment: no daemon, no Nx Cloud, no TUI, and its caches pinned in
   * the temp root (in a git repo nx 24 would keep them under the home directory).
   */
  function nxEnv(root: string, url: string, token: string): Record<string, string> {
    return {
      HOME: join(root, "home"),
      NX_DAEMON: "false",
      NX_NO_CLOUD: "true",
      NX_TUI: "false",
      NX_CACHE_DIRECTORY: join(root, "nx-cache"),
      NX_WORKSPACE_DATA_DIRECTORY: join(root, "nx-data"),
      NX_SELF_HOSTED_REMOTE_CACHE_SERVER: url,
      NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: token,
      npm_config_update_notifier: "false",
    };
  }

  /** Forgets everything local: nx's cache and workspace data, and the outputs. */
  function forget(root: string, ws: string): void {
    for (const dir of [join(root, "nx-cache"), join(root, "nx-data"), ...OUTPUTS.map((d) => join(ws, d))]) rmSync(dir, { recursive: true, force: true });
  }

  const build = (root: string, ws: string, url: string, token: string) =>
    runClient(clientBin("nx"), ["run-many", "-t", "build", "--output-style=static"], ws, nxEnv(root, url, token));
  /** The lines that name a task as it starts (with `[remote cache]` on a remote hit), and nx's own headlines. */
  const taskLines = (output: string) => output.split("\n").filter((line) => line.startsWith("> nx run "));
  const headlines = (output: string) => output.split("\n").filter((line) => line.startsWith(" NX "));

  test("25.5: nx: a second run with the local cache and outputs deleted is all remote hits, outputs byte-identical", async () => {
    const server = await each.start({ tokens: TOKENS });
    const root = tempRoot();
    const ws = nxWorkspace(root);

    const first = await build(root, ws, server.url, "writer");
    expect([first.code, taskLines(first.output)], first.output).toEqual([0, ["> nx run a:build", "> nx run b:build"]]);
    const built = filesUnder(ws, OUTPUTS);
    expect([...built.keys()]).toEqual(["packages/a/dist/data.bin", "packages/a/dist/out.txt", "packages/b/dist/data.bin", "packages/b/dist/out.txt"]);

    forget(root, ws);
    const second = await build(root, ws, server.url, "writer");
    expect([second.code, taskLines(second.output)], second.output).toEqual([0, ["> nx run a:build  [remote cache]", "> nx run b:build  [remote cache]"]]);
    expect(second.output).toContain("Nx read the output from the cache instead of running the command for 2 out of 2 tasks.");
    expect(filesUnder(ws, OUTPUTS)).toEqual(built);
    expect(await nxMetrics()).toEqual([
      'rbuild_cache_requests_total{protocol="nx",method="GET",route="nx",code="200"} 2',
      'rbuild_cache_requests_total{protocol="nx",method="GET",route="nx",code="404"} 2',
      'rbuild_cache_requests_total{protocol="nx",method="PUT",route="nx",code="200"} 2',
      'rbuild_cache_hits_total{protocol="nx",kind="artifact"} 2',
      'rbuild_cache_misses_total{protocol="nx",kind="artifact"} 2',
    ]);
  }, 300_000);

  test("25.5: nx: a read-only token: nx builds and exits 0, its uploads get 403 and nothing is stored", async () => {
    const server = await each.start({ tokens: TOKENS });
    const root = tempRoot();
    const ws = nxWorkspace(root);

    const first = await build(root, ws, server.url, "reader");
    expect([first.code, taskLines(first.output), headlines(first.output)], first.output).toEqual([
      0,
      ["> nx run a:build", "> nx run b:build"],
      [" NX   Running target build for 2 projects:", " NX   Successfully ran target build for 2 projects"],
    ]);
    forget(root, ws);
    const second = await build(root, ws, server.url, "reader");
    expect([second.code, taskLines(second.output)], second.output).toEqual([0, ["> nx run a:build", "> nx run b:build"]]);
    expect(await nxMetrics()).toEqual([
      'rbuild_cache_requests_total{protocol="nx",method="GET",route="nx",code="404"} 4',
      'rbuild_cache_requests_total{protocol="nx",method="PUT",route="nx",code="403"} 4',
      'rbuild_cache_hits_total{protocol="nx",kind="artifact"} 0',
      'rbuild_cache_misses_total{protocol="nx",kind="artifact"} 4',
    ]);
  }, 300_000);

  test("25.5: nx: an unknown token fails the nx run, and nx shows the server's text/plain 401 message", async () => {
    const server = await each.start({ tokens: TOKENS });
    const root = tempRoot();
    const ws = nxWorkspace(root);

    const run = await build(root, ws, server.url, "wrong");
    expect([run.code, taskLines(run.output), headlines(run.output)], run.output).toEqual([
      1,
      [],
      [
        " NX   Running target build for 2 projects:",
        " NX   Running target build for 2 projects did not complete",
        " NX   Unauthorized: a valid token is needed: set NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN",
      ],
    ]);
    expect(filesUnder(ws, OUTPUTS).size).toBe(0);
  }, 300_000);
});
