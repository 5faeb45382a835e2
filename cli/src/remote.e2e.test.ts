import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { digestFile } from "@rbuild/hash";
import { startCacheServer, type RunningServer } from "rbuild-cache-server";
import { normalize, testWorkspace, type Workspace } from "./test-support/workspace.js";

// Outputs with a mode, a symlink and a nested file; a count file records every real run.
const BUILDFILE = `import { task } from "rbuild";
const gen = task({ name: "gen", inputs: ["src/**"], outputs: ["out/**"],
  run: "echo run >> gen.count; mkdir -p out/sub && cat src/*.txt > out/all.txt && printf '#!/bin/sh\\\\necho hi\\\\n' > out/tool.sh && chmod 755 out/tool.sh && ln -sf all.txt out/link && echo nested > out/sub/n.txt && echo generated" });
task({ name: "use", deps: [gen], outputs: ["use.txt"], run: "echo run >> use.count; wc -c < out/all.txt > use.txt" });
`;

let serverDir: string;
let server: RunningServer | undefined;
function workspace(): Workspace {
  return testWorkspace({ "Buildfile.ts": BUILDFILE, "src/a.txt": "alpha\n", "src/b.txt": "beta\n" });
}

beforeEach(() => {
  serverDir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-remote-e2e-")));
});
afterEach(async () => {
  await server?.stop();
  server = undefined;
  rmSync(serverDir, { recursive: true, force: true });
});

async function build(
  ws: Workspace,
  args: string[],
): Promise<{ exitCode: number | undefined; stdout: string; stderr: string; tasks: { name: string; status: string; cache: string | null }[] }> {
  const result = await ws.run([...args, "--summary", "s.json"]);
  const tasks = (JSON.parse(ws.read("s.json")) as { tasks: { name: string; status: string; cache: string | null }[] }).tasks;
  return { ...result, tasks };
}

const runs = (ws: Workspace, name: string): number => (existsSync(join(ws.root, `${name}.count`)) ? ws.read(`${name}.count`).split("\n").filter(Boolean).length : 0);

describe("the remote cache, end to end", () => {
  test("a second workspace elsewhere builds nothing: byte-identical outputs, modes and symlinks", async () => {
    server = await startCacheServer({ dir: serverDir, port: 0, maxSize: 1e9 });
    const first = workspace();
    const second = workspace();
    expect((await build(first, ["use", "--remote", server.url])).tasks.map((t) => t.status)).toEqual(["ran", "ran"]);
    const result = await build(second, ["use", "--remote", server.url]);
    expect(result.tasks.map((t) => [t.name, t.status, t.cache])).toEqual([["gen", "cached", "remote"], ["use", "cached", "remote"]]);
    expect([runs(second, "gen"), runs(second, "use")]).toEqual([0, 0]);
    for (const path of ["out/all.txt", "out/tool.sh", "out/sub/n.txt", "use.txt"]) {
      expect(readFileSync(join(second.root, path))).toEqual(readFileSync(join(first.root, path)));
      expect(lstatSync(join(second.root, path)).mode).toBe(lstatSync(join(first.root, path)).mode);
    }
    expect(readlinkSync(join(second.root, "out/link"))).toBe("all.txt");
    expect(result.stdout).toBe("✓ gen (cached, remote)\n✓ use (cached, remote)\n");
    expect(result.stderr).toBe("rbuild: ok: 0 ran, 2 cached in <t>\n");
  });

  test("a shared directory works as a remote too (file://)", async () => {
    const url = `file://${serverDir}`;
    await build(workspace(), ["use", "--remote", url]);
    const second = workspace();
    const result = await build(second, ["use", "--remote", url]);
    expect(result.tasks.map((t) => [t.status, t.cache])).toEqual([["cached", "remote"], ["cached", "remote"]]);
    expect(second.read("use.txt").trim()).toBe("11");
  });

  test("tokens: a read token restores but cannot upload; --remote-read-only does not try", async () => {
    server = await startCacheServer({ dir: serverDir, port: 0, maxSize: 1e9, tokens: new Map([["reader", "read"], ["writer", "write"]]) });
    const reader = workspace();
    const readOnly = await build(reader, ["use", "--remote", server.url, "--token", "reader"]);
    expect(readOnly.exitCode).toBe(0);
    expect(readOnly.stderr).toMatch(/^rbuild: remote cache: uploading failed: storing blob [0-9a-f]{12}: 403 forbidden \(the token may only read\); going on with the local cache\nrbuild: remote cache: switched off for the rest of this build after 1 failure\n/);

    const writer = workspace();
    await build(writer, ["use", "--remote", server.url, "--token", "writer"]);
    const quiet = workspace();
    const restored = await build(quiet, ["use", "--remote", server.url, "--token", "reader", "--remote-read-only"]);
    expect(restored.tasks.map((t) => t.cache)).toEqual(["remote", "remote"]);
    expect(restored.stderr).toBe("rbuild: ok: 0 ran, 2 cached in <t>\n");
  });

  test("an unreachable remote costs one warning, never the build", async () => {
    const ws = workspace();
    const result = await build(ws, ["use", "--remote", "http://127.0.0.1:9"]);
    expect(result.exitCode).toBe(0);
    expect(result.tasks.map((t) => t.status)).toEqual(["ran", "ran"]);
    expect(result.stderr.split("\n").filter((line) => line.includes("remote cache"))).toEqual([
      expect.stringMatching(/^rbuild: remote cache: reading entries failed: .*; going on with the local cache$/),
      "rbuild: remote cache: switched off for the rest of this build after 3 failures",
    ]);
  });

  test("a server that is killed mid-build does not fail the build", async () => {
    server = await startCacheServer({ dir: serverDir, port: 0, maxSize: 1e9 });
    const ws = workspace();
    ws.write({ "Buildfile.ts": BUILDFILE.replace('task({ name: "use"', 'task({ name: "slow", deps: [gen], run: "sleep 0.5" });\ntask({ name: "use"') });
    const url = server.url;
    const running = build(ws, ["slow", "use", "--remote", url, "-j", "1"]);
    setTimeout(() => void server?.stop().then(() => (server = undefined)), 200);
    const result = await running;
    expect(result.exitCode).toBe(0);
    expect(result.tasks.every((t) => t.status === "ran")).toBe(true);
  });

  test("eviction on a small server is a miss, not a failure", async () => {
    server = await startCacheServer({ dir: serverDir, port: 0, maxSize: 400 });
    await build(workspace(), ["use", "--remote", server.url]);
    const second = workspace();
    const result = await build(second, ["use", "--remote", server.url]);
    expect(result.exitCode).toBe(0);
    expect(result.tasks.find((t) => t.name === "gen")?.status).toBe("ran");
    expect(second.read("out/all.txt")).toBe("alpha\nbeta\n");
  });

  test("a blob that comes back with the wrong bytes is a reported miss; the task runs and nothing bad lands", async () => {
    server = await startCacheServer({ dir: serverDir, port: 0, maxSize: 1e9 });
    const first = workspace();
    await build(first, ["use", "--remote", server.url]);
    // Damage every blob on the server's disk behind its back (bit rot): the lookups still find the
    // entries and send the blobs inline, and the client must check them.
    const casDir = join(serverDir, "cas", "blake3");
    for (const shard of readdirSync(casDir)) for (const name of readdirSync(join(casDir, shard))) writeFileSync(join(casDir, shard, name), "rotten");
    const second = workspace();
    const result = await build(second, ["use", "--remote", server.url]);
    expect(result.exitCode).toBe(0);
    expect(result.tasks.map((t) => [t.name, t.status])).toEqual([["gen", "ran"], ["use", "ran"]]);
    expect(result.stderr).toContain('rbuild: remote cache: a blob of task "gen" did not match its digest; treated as a miss\n');
    expect(second.read("out/all.txt")).toBe("alpha\nbeta\n");
  });

  test("an entry that would write outside the declared outputs is refused whole; nothing outside is touched", async () => {
    server = await startCacheServer({ dir: serverDir, port: 0, maxSize: 1e9 });
    const first = workspace();
    const key = (JSON.parse((await first.run(["gen", "--remote", server.url, "--summary", "k.json"]), first.read("k.json"))) as { tasks: { key: string }[] }).tasks[0]!.key;
    // Rewrite the stored entry: its manifest now claims a path that escapes the workspace.
    const entryPath = server.store.path("ac/rbuild", key);
    const entry = JSON.parse(readFileSync(entryPath, "utf8")) as { manifest: { path: string }[] };
    entry.manifest[0]!.path = "../escaped.txt";
    const response = await fetch(`${server.url}/rbuild/v1/ac/${key}`, { method: "PUT", body: JSON.stringify(entry) });
    expect(response.status).toBe(200);

    const victim = workspace();
    const result = await build(victim, ["gen", "--remote", server.url]);
    expect(result.tasks.map((t) => t.status)).toEqual(["ran"]);
    expect(result.stderr).toMatch(/^rbuild: remote cache: refused the entry for task "gen": "\.\.\/escaped\.txt" is not a path inside the workspace\n/);
    expect(readdirSync(join(victim.root, "..")).includes("escaped.txt")).toBe(false);
  });
});

describe("a remote that drips its answers", () => {
  test("20.12: cannot hold the build: SIGTERM stops it while a lookup is in flight, exit 130", async () => {
    // Chunked JSON whitespace every 50 ms: no undici timeout between chunks ever trips.
    let arrived = (): void => {};
    const asked = new Promise<void>((resolve) => (arrived = resolve));
    const drip = createServer((req, res) => {
      req.resume();
      arrived();
      res.writeHead(200, { "content-type": "application/json" });
      const timer = setInterval(() => res.write(" "), 50);
      res.on("close", () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => drip.listen(0, "127.0.0.1", resolve));
    try {
      const ws = workspace();
      const child = ws.start(["use", "--remote", `http://127.0.0.1:${(drip.address() as AddressInfo).port}`]);
      await asked;
      child.kill("SIGTERM");
      const result = await child;
      expect(result.exitCode).toBe(130);
      expect(normalize(String(result.stderr), ws.root)).toBe('error: Task "gen" was interrupted.\nrbuild: interrupted: 0 ran, 0 cached, 1 interrupted, 1 skipped in <t>\n');
    } finally {
      drip.closeAllConnections();
      await new Promise<void>((resolve) => drip.close(() => resolve()));
    }
  });
});

describe("a task with many outputs", () => {
  test("20.16: 8,000 outputs are shared: the manifest travels as a blob, the entry stays small", async () => {
    server = await startCacheServer({ dir: serverDir, port: 0, maxSize: 1e9 });
    const files = {
      "Buildfile.ts": `import { task } from "rbuild";
task({ name: "many", outputs: ["out/**"], run: "echo run >> many.count; mkdir -p out/d && cd out/d && for i in $(seq 8000); do echo $i > output-$i.txt; done" });
`,
    };
    const first = testWorkspace(files);
    const second = testWorkspace(files);
    const built = await build(first, ["many", "--remote", server.url]);
    expect([built.exitCode, built.stderr]).toEqual([0, "rbuild: ok: 1 ran, 0 cached in <t>\n"]);
    const restored = await build(second, ["many", "--remote", server.url]);
    expect(restored.tasks.map((t) => [t.status, t.cache])).toEqual([["cached", "remote"]]);
    expect(restored.stderr).toBe("rbuild: ok: 0 ran, 1 cached in <t>\n");
    expect(runs(second, "many")).toBe(0);
    expect(readdirSync(join(second.root, "out/d")).length).toBe(8000);
    expect(second.read("out/d/output-7777.txt")).toBe("7777\n");
  }, 60_000);
});

describe("an entry in another format", () => {
  test("20.16: an entry of format 1 (an older rbuild's) is a quiet miss: the task runs and replaces it", async () => {
    server = await startCacheServer({ dir: serverDir, port: 0, maxSize: 1e9 });
    const first = workspace();
    const key = (JSON.parse((await first.run(["gen", "--remote", server.url, "--summary", "k.json"]), first.read("k.json"))) as { tasks: { key: string }[] }).tasks[0]!.key;
    const entryUrl = `${server.url}/rbuild/v1/ac/${key}`;
    const entry = (await (await fetch(entryUrl)).json()) as Record<string, unknown>;
    const response = await fetch(entryUrl, { method: "PUT", body: JSON.stringify({ ...entry, format: 1 }) });
    expect(response.status).toBe(200);

    const second = workspace();
    const result = await build(second, ["gen", "--remote", server.url]);
    expect(result.tasks.map((t) => t.status)).toEqual(["ran"]);
    expect(result.stderr).toBe("rbuild: ok: 1 ran, 0 cached in <t>\n");
    expect(((await (await fetch(entryUrl)).json()) as { format: number }).format).toBe(2);
  });
});

/** The input-hashing helper of the built rbuild (packages/executor/src/input-warmer.ts), as bundled. */
const CHUNKS = fileURLToPath(new URL("../dist/chunks/", import.meta.url));
type BuiltWarmer = new (
  job: { root: string; inputs: string[][]; ignore: string[]; trustBefore: number },
  found: (path: string, state: { digest: string }) => void,
) => { readonly ended: Promise<void> };

describe("a fresh workspace with a remote", () => {
  // 120 tasks with inputs: enough for rbuild to hash a fresh workspace's inputs on a helper thread.
  const TASKS = 120;
  const files: Record<string, string> = {
    "Buildfile.ts": `import { task } from "rbuild";
const tasks = [];
for (let i = 0; i < ${TASKS}; i++) tasks.push(task({ name: \`t\${i}\`, inputs: [\`src/t\${i}/**\`], outputs: [\`out/t\${i}.txt\`], run: \`mkdir -p out && cat src/t\${i}/* > out/t\${i}.txt\` }));
task({ name: "all", deps: tasks });
task({ name: "some", deps: tasks.slice(0, 50) });
`,
  };
  for (let i = 0; i < TASKS; i++) Object.assign(files, { [`src/t${i}/a.txt`]: `a${i}\n`, [`src/t${i}/b.txt`]: `b${i}\n` });

  test("21.6: hashes its inputs on the main thread or the built helper thread, to the keys the main thread computes alone", async () => {
    const url = `file://${serverDir}`;
    const first = testWorkspace(files);
    const second = testWorkspace(files);
    const built = await first.run(["all", "--remote", url], { env: { RBUILD_PHASES: "1" } });
    expect(built.exitCode).toBe(0);
    // Which thread reaches an input first is a race: on a loaded machine the build may end before the
    // helper has sent a file. What always holds: each input is hashed, by the main thread or the helper.
    // That the main thread takes the helper's digests is input-warmer.test.ts's "21.6", where the
    // build waits for the helper.
    const [, here, helper] = /inputs hashed (\d+) \(and (\d+) on a helper thread\)/.exec(built.stderr) ?? [];
    expect(Number(here) + Number(helper)).toBeGreaterThanOrEqual(2 * TASKS);
    // The helper as the built rbuild starts it, from its own chunk of the bundle, run to its end:
    // it hands over every input, with the digest the main thread computes.
    const chunks = readdirSync(CHUNKS).filter((name) => /^input-warmer-\w+\.mjs$/.test(name));
    expect(chunks).toHaveLength(1);
    const { InputWarmer } = (await import(join(CHUNKS, chunks[0]!))) as { InputWarmer: BuiltWarmer };
    const inputs = Object.keys(files).filter((path) => path.startsWith("src/"));
    const digests = new Map<string, string>();
    // Every stat is trusted: nothing writes these files any more.
    await new InputWarmer({ root: first.root, inputs: [["src/**"]], ignore: [], trustBefore: Infinity }, (path, state) => digests.set(path, state.digest)).ended;
    expect([...digests.keys()].sort()).toEqual(inputs.sort());
    for (const path of inputs) expect(digests.get(path)).toBe(digestFile(join(first.root, path)));
    // 50 tasks are too few for the helper: the main thread hashes them, and finds the keys the first build uploaded.
    const restored = await second.run(["some", "--remote", url, "--summary", "s.json"], { env: { RBUILD_PHASES: "1" } });
    expect(restored.stderr).toContain("(and 0 on a helper thread)");
    const tasks = (JSON.parse(second.read("s.json")) as { tasks: { name: string; cache: string | null }[] }).tasks;
    expect(tasks.filter((t) => t.name !== "some").map((t) => t.cache)).toEqual(Array(50).fill("remote"));
    expect(second.read("out/t49.txt")).toBe("a49\nb49\n");
  });
});
