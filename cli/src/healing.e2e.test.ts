import { existsSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { Workspace } from "./test-support/workspace.js";

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.remove());

/** gen's layer is small (kept in the index) or, with `pad`, large (a blob file). */
const buildfile = (pad: boolean) => `import { task } from "rbuild";
task({ name: "gen", inputs: ["src/**"], outputs: ["out/**"], run: "mkdir -p out && cat src/*.txt > out/all.txt${pad ? " && head -c 40000 /dev/zero > out/pad.bin" : ""}" });
`;
const BUILDFILE = buildfile(false);

/** Changes the bytes of every layer the index keeps inline. */
function damageInlineLayers(damage: (bytes: Buffer) => Buffer): number {
  const db = new Database(join(ws.root, ".rbuild", "index.sqlite"));
  try {
    const rows = db.prepare("SELECT digest, data FROM inline_blobs").all() as { digest: string; data: Buffer }[];
    for (const row of rows) db.prepare("UPDATE inline_blobs SET data = ? WHERE digest = ?").run(damage(row.data), row.digest);
    return rows.length;
  } finally {
    db.close();
  }
}

/** Every blob file in the local CAS. */
function blobs(): string[] {
  const cas = join(ws.root, ".rbuild", "cas");
  return readdirSync(cas)
    .filter((shard) => shard !== "tmp")
    .flatMap((shard) => readdirSync(join(cas, shard)).map((name) => join(cas, shard, name)));
}

async function statusOf(args: string[]): Promise<{ status: string[]; stderr: string }> {
  const result = await ws.run([...args, "--summary", "s.json"]);
  const summary = JSON.parse(ws.read("s.json")) as { tasks: { status: string; reasons: string[] }[] };
  return { status: summary.tasks.map((t) => `${t.status} ${t.reasons.join(",")}`.trim()), stderr: result.stderr };
}

describe("a damaged store heals", () => {
  beforeEach(() => {
    ws.write({ "Buildfile.ts": BUILDFILE, "src/a.txt": "one\n" });
  });

  test.each([
    ["corrupt layer file", true, () => writeFileSync(blobs()[0]!, "garbage")],
    ["truncated layer file", true, () => truncateSync(blobs()[0]!, 100)],
    ["corrupt layer in the index", false, () => expect(damageInlineLayers(() => Buffer.from("garbage"))).toBe(1)],
    ["truncated layer in the index", false, () => expect(damageInlineLayers((bytes) => bytes.subarray(0, 100))).toBe(1)],
  ])("a %s is a miss, is removed, and the task runs again", async (_kind, pad, damage) => {
    ws.write({ "Buildfile.ts": buildfile(pad) });
    await statusOf(["gen"]);
    expect(existsSync(join(ws.root, ".rbuild", "cas")) ? blobs().length : 0).toBe(pad ? 1 : 0);
    damage();
    rmSync(join(ws.root, "out"), { recursive: true });
    const again = await statusOf(["gen"]);
    expect(again.status).toEqual(["ran cache-corrupt"]);
    expect(again.stderr).toMatch(/^rbuild: the cached result of task "gen" was dropped: its layer blob is corrupt; running it again\n/);
    expect(ws.read("out/all.txt")).toBe("one\n");
    expect((await statusOf(["gen"])).status).toEqual(["cached"]);
  });

  test("an index that is not a database is reset with a warning, and the build goes on", async () => {
    await statusOf(["gen"]);
    writeFileSync(join(ws.root, ".rbuild", "index.sqlite"), "definitely not a database ".repeat(40));
    rmSync(join(ws.root, ".rbuild", "index.sqlite-wal"), { force: true });
    rmSync(join(ws.root, ".rbuild", "index.sqlite-shm"), { force: true });
    // Without its freshness record, the no-op takes the full path, which opens the index.
    rmSync(join(ws.root, ".rbuild", "fresh"), { recursive: true, force: true });
    const again = await statusOf(["gen"]);
    expect(again.status).toEqual(["ran no-record"]);
    expect(again.stderr).toMatch(/^rbuild: the cache index <root>\/\.rbuild\/index\.sqlite could not be used \(file is not a database\); starting it over, so tasks will run again\n/);
    expect((await statusOf(["gen"])).status).toEqual(["cached"]);
  });
});

describe("crashes and concurrency", () => {
  test("SIGKILL in the middle of a build leaves no index row without its blob", async () => {
    // Enough tasks that the index has written some batches of actions before the kill; every
    // other layer is large enough to be a file, the rest are kept in the index.
    const tasks = Array.from({ length: 160 }, (_, i) => `task({ name: "t${i}", outputs: ["out/t${i}/**"], run: "mkdir -p out/t${i} && head -c ${i % 2 === 0 ? 40000 : 2000} /dev/urandom > out/t${i}/data && sleep 0.0${i % 10}" });`);
    ws.write({ "Buildfile.ts": `import { task } from "rbuild";\n${tasks.join("\n")}\ntask({ name: "all", deps: [${tasks.map((_, i) => `"t${i}"`).join(", ")}] });\n` });
    const child = ws.start(["all", "-j", "2"]);
    // Kill it once some actions are stored, while others are being written.
    for (let i = 0; i < 500; i++) {
      await sleep(10);
      if (existsSync(join(ws.root, ".rbuild", "cas")) && blobs().length >= 40) break;
    }
    child.kill("SIGKILL");
    await child;

    const db = new Database(join(ws.root, ".rbuild", "index.sqlite"), { readonly: true });
    const rows = db.prepare("SELECT layer, (SELECT length(data) FROM inline_blobs WHERE digest = layer) AS inline FROM actions").all() as { layer: string; inline: number | null }[];
    db.close();
    expect(rows.some((row) => row.inline === null)).toBe(true);
    expect(rows.some((row) => row.inline !== null)).toBe(true);
    for (const { layer, inline } of rows) expect(inline !== null || existsSync(join(ws.root, ".rbuild", "cas", layer.slice(0, 2), layer))).toBe(true);

    const again = await ws.run(["all"]);
    expect(again.exitCode).toBe(0);
    const cached = await statusOf(["all"]);
    expect(new Set(cached.status)).toEqual(new Set(["cached"]));
  });

  test("two rbuild processes on one workspace both succeed: the second waits, then finds the work done", async () => {
    ws.write({
      "Buildfile.ts": `import { task } from "rbuild";
task({ name: "slow", inputs: ["src/**"], outputs: ["out/**"], run: "echo run >> slow.count; mkdir -p out && sleep 0.5 && cat src/*.txt > out/all.txt" });
`,
      "src/a.txt": "data\n",
    });
    const [a, b] = await Promise.all([ws.start(["slow"]), (async () => (await sleep(100), ws.start(["slow"])))()]);
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    // Whichever reached the lock second waited for the other, and said so.
    const waited = [String(a.stderr), String(b.stderr)].filter((text) => /^rbuild: waiting for another rbuild \(pid \d+\) building this workspace; it has held the lock since \d\d:\d\d:\d\d\n/.test(text));
    expect(waited).toHaveLength(1);
    expect(readFileSync(join(ws.root, "slow.count"), "utf8")).toBe("run\n");
    expect(ws.read("out/all.txt")).toBe("data\n");
  });
});
