/**
 * rbuild against a remote cache it did not write: a real nginx with its WebDAV
 * module (GET, HEAD and PUT only), as `--remote webdav+http://...`.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { liveMembers } from "../../test-support/processes.js";
import { startNginx, type RunningNginx } from "../../test-support/nginx.js";
import { testWorkspace, type Workspace } from "./test-support/workspace.js";

// Outputs with a mode, a symlink and a nested file; a count file records every real run.
const BUILDFILE = `import { task } from "rbuild";
const gen = task({ name: "gen", inputs: ["src/**"], outputs: ["out/**"],
  run: "echo run >> gen.count; mkdir -p out/sub && cat src/*.txt > out/all.txt && printf '#!/bin/sh\\\\necho hi\\\\n' > out/tool.sh && chmod 755 out/tool.sh && ln -sf all.txt out/link && echo nested > out/sub/n.txt && echo generated" });
task({ name: "use", deps: [gen], outputs: ["use.txt"], run: "echo run >> use.count; wc -c < out/all.txt > use.txt" });
`;

const workspace = (text: string): Workspace => testWorkspace({ "Buildfile.ts": BUILDFILE, "src/a.txt": text, "src/b.txt": "beta\n" });

async function build(ws: Workspace, remote: string): Promise<{ exitCode: number | undefined; stdout: string; stderr: string; tasks: string[][] }> {
  const result = await ws.run(["use", "--remote", remote, "--summary", "s.json"]);
  const tasks = (JSON.parse(ws.read("s.json")) as { tasks: { name: string; status: string; cache: string | null }[] }).tasks;
  return { ...result, tasks: tasks.map((t) => [t.name, t.status, String(t.cache)]) };
}

const runs = (ws: Workspace, name: string): number => (existsSync(join(ws.root, `${name}.count`)) ? ws.read(`${name}.count`).split("\n").filter(Boolean).length : 0);
const OUTPUTS = ["out/all.txt", "out/tool.sh", "out/sub/n.txt", "use.txt"];

function expectSameOutputs(restored: Workspace, built: Workspace): void {
  for (const path of OUTPUTS) {
    expect(readFileSync(join(restored.root, path))).toEqual(readFileSync(join(built.root, path)));
    expect(lstatSync(join(restored.root, path)).mode).toBe(lstatSync(join(built.root, path)).mode);
  }
  expect(readlinkSync(join(restored.root, "out/link"))).toBe("all.txt");
}

describe("25.4: a plain HTTP store (nginx WebDAV) as the remote cache", () => {
  let nginx: RunningNginx;
  let remote: string;
  beforeAll(async () => {
    nginx = await startNginx();
    remote = `webdav+${nginx.url}`;
  }, 90_000);
  afterAll(async () => {
    const pgid = nginx?.pgid;
    await nginx?.stop();
    if (pgid !== undefined) expect(liveMembers(pgid)).toEqual([]);
  }, 90_000);

  test("25.4: a second workspace builds nothing: all remote hits, byte-identical outputs, the store's layout rbuild/v1/", async () => {
    const first = workspace("alpha\n");
    const second = workspace("alpha\n");
    const built = await build(first, remote);
    expect([built.exitCode, built.stderr, built.tasks]).toEqual([0, "rbuild: ok: 2 ran, 0 cached in <t>\n", [["gen", "ran", "null"], ["use", "ran", "null"]]]);
    const restored = await build(second, remote);
    expect(restored.tasks).toEqual([["gen", "cached", "remote"], ["use", "cached", "remote"]]);
    expect(restored.stdout).toBe("✓ gen (cached, remote)\n✓ use (cached, remote)\n");
    expect(restored.stderr).toBe("rbuild: ok: 0 ran, 2 cached in <t>\n");
    expect([runs(second, "gen"), runs(second, "use")]).toEqual([0, 0]);
    expectSameOutputs(second, first);
    expect(readdirSync(join(nginx.root, "rbuild", "v1")).sort()).toEqual(["ac", "cas"]);
    expect(readdirSync(join(nginx.root, "rbuild", "v1", "ac")).every((key) => /^[0-9a-f]{64}$/.test(key))).toBe(true);
    expect(readdirSync(join(nginx.root, "rbuild", "v1", "cas", "blake3")).every((digest) => /^[0-9a-f]{64}$/.test(digest))).toBe(true);
  });

  test("25.4: a blob spoiled on the store is refused and the task rebuilt, never restored wrong; the rerun mends the store", async () => {
    const first = workspace("gamma\n");
    await build(first, remote);
    // Spoil every blob of gen's entry in nginx's root, keeping each one's size: only the digest can tell.
    const entries = readdirSync(join(nginx.root, "rbuild", "v1", "ac")).map((key) => JSON.parse(readFileSync(join(nginx.root, "rbuild", "v1", "ac", key), "utf8")) as { task: string; blobs: string[] });
    const gen = entries.filter((entry) => entry.task === "gen");
    expect(gen.length).toBeGreaterThan(0);
    const spoiled = gen.flatMap((entry) => entry.blobs).map((digest) => join(nginx.root, "rbuild", "v1", "cas", "blake3", digest));
    for (const path of spoiled) writeFileSync(path, Buffer.alloc(readFileSync(path).length, "x"));

    const second = workspace("gamma\n");
    const rebuilt = await build(second, remote);
    expect(rebuilt.exitCode).toBe(0);
    expect(rebuilt.tasks).toEqual([["gen", "ran", "null"], ["use", "cached", "remote"]]);
    expect(rebuilt.stderr).toBe('rbuild: remote cache: a blob of task "gen" did not match its digest; treated as a miss\nrbuild: ok: 1 ran, 1 cached in <t>\n');
    expect(runs(second, "gen")).toBe(1);
    expectSameOutputs(second, first);

    // The rerun uploaded the right bytes again: a third workspace restores everything.
    const third = workspace("gamma\n");
    const restored = await build(third, remote);
    expect([restored.tasks, restored.stderr]).toEqual([[["gen", "cached", "remote"], ["use", "cached", "remote"]], "rbuild: ok: 0 ran, 2 cached in <t>\n"]);
    expectSameOutputs(third, first);
  });
});
