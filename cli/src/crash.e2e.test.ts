/**
 * Crash consistency: rbuild killed with SIGKILL at a random moment of a build
 * (starting up, taking the lock, running tasks, writing blobs and index
 * batches, recording the build), one seed per test. Whatever the moment, the
 * index names no blob that is missing, the next build succeeds with the right
 * outputs, and the one after finds everything cached. Some seeds also leave
 * the build lock empty, as a kill between creating it and writing its pid did
 * before the lock appeared whole (and still can where there are no hard links).
 */
import { cpSync, existsSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { afterAll, beforeAll, expect, test } from "vitest";
import { seededRandom, seeds } from "./test-support/seeded.js";
import { Workspace } from "./test-support/workspace.js";

const TASKS = 40;
// Every other layer is large enough to be a blob file, the rest are kept in the index; index rows are
// written in batches of 64 actions, and at the end.
const BUILDFILE = `import { task } from "rbuild";
const parts = [];
for (let i = 0; i < ${TASKS}; i++) {
  parts.push(task({ name: "t" + i, inputs: ["src/t" + i + ".txt"], outputs: ["out/t" + i + "/**"],
    run: "mkdir -p out/t" + i + " && cat src/t" + i + ".txt > out/t" + i + "/data" + (i % 2 === 0 ? " && head -c 40000 /dev/zero > out/t" + i + "/pad" : "") + " && sleep 0.0" + (i % 4) }));
}
task({ name: "all", deps: parts, run: "true" });
`;

let ws: Workspace;
/** The cache after a full build, for the seeds that kill an incremental build. */
let built: string;

const source = (i: number, version: string): string => `task ${i} ${version}\n`;

beforeAll(async () => {
  ws = new Workspace("rbuild-crash-");
  const files: Record<string, string> = { "Buildfile.ts": BUILDFILE };
  for (let i = 0; i < TASKS; i++) files[`src/t${i}.txt`] = source(i, "one");
  ws.write(files);
  expect((await ws.run(["all"])).exitCode).toBe(0);
  built = `${ws.root}.built`;
  cpSync(join(ws.root, ".rbuild"), built, { recursive: true });
});
afterAll(() => {
  ws.remove();
  rmSync(built, { recursive: true, force: true });
});

/** Blob files of the local CAS, by digest. */
function blobFiles(): Set<string> {
  const cas = join(ws.root, ".rbuild", "cas");
  if (!existsSync(cas)) return new Set();
  return new Set(readdirSync(cas).filter((shard) => shard !== "tmp").flatMap((shard) => readdirSync(join(cas, shard))));
}

/** Layers the index names that are neither kept in it nor a blob file. */
function missingLayers(): string[] {
  const path = join(ws.root, ".rbuild", "index.sqlite");
  if (!existsSync(path)) return [];
  const db = new Database(path, { readonly: true });
  try {
    // Killed before the schema was made: an index with no actions names no layer.
    if (db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'actions'").get() === undefined) return [];
    const rows = db.prepare("SELECT layer, (SELECT count(*) FROM inline_blobs WHERE digest = layer) AS inline FROM actions WHERE layer IS NOT NULL").all() as { layer: string; inline: number }[];
    const files = blobFiles();
    return rows.filter((row) => row.inline === 0 && !files.has(row.layer)).map((row) => row.layer);
  } finally {
    db.close();
  }
}

test.each(seeds(20))("20.6: SIGKILL at a random moment leaves a store the next build heals and trusts (seed %i)", async (seed) => {
  const random = seededRandom(seed);
  rmSync(join(ws.root, ".rbuild"), { recursive: true, force: true });
  rmSync(join(ws.root, "out"), { recursive: true, force: true });
  // A cold build, or one after a full build with some inputs edited.
  const cold = random() < 0.5;
  if (!cold) cpSync(built, join(ws.root, ".rbuild"), { recursive: true });
  const edited = new Set(cold ? [] : Array.from({ length: 10 }, () => Math.floor(random() * TASKS)));
  const expected = Array.from({ length: TASKS }, (_, i) => source(i, edited.has(i) ? `seed ${seed}` : "one"));
  for (let i = 0; i < TASKS; i++) writeFileSync(join(ws.root, `src/t${i}.txt`), expected[i]!);

  const child = ws.start(["all", "-j", "2"]);
  // Within about the build's time here (a cold one takes about 1 s, an incremental one 0.3 s, start-up included).
  await sleep(Math.floor(random() * (cold ? 1200 : 500)));
  child.kill("SIGKILL");
  await child;

  expect(missingLayers()).toEqual([]);
  const lock = join(ws.root, ".rbuild", "build.lock");
  if (existsSync(join(ws.root, ".rbuild")) && random() < 0.3) {
    // The empty lock a kill between creating it and writing its pid left.
    writeFileSync(lock, "");
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
  }

  const next = await ws.run(["all"]);
  expect(next.exitCode, next.stderr).toBe(0);
  for (let i = 0; i < TASKS; i++) expect(ws.read(`out/t${i}/data`)).toBe(expected[i]);

  rmSync(join(ws.root, "s.json"), { force: true });
  const after = await ws.run(["all", "--summary", "s.json"]);
  expect(after.exitCode, after.stderr).toBe(0);
  const summary = JSON.parse(ws.read("s.json")) as { tasks: { name: string; status: string }[] };
  expect(summary.tasks.filter((t) => t.name !== "all" && t.status !== "cached")).toEqual([]);

  // A no-op build may not take the lock; `rbuild clean` always does, and leaves neither it nor temp files.
  const clean = await ws.run(["clean"]);
  expect([clean.exitCode, clean.stderr]).toEqual([0, ""]);
  expect(readdirSync(join(ws.root, ".rbuild")).filter((name) => name.startsWith("build.lock"))).toEqual([]);
});
