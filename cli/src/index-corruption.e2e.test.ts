/**
 * Page-level damage to the index: random bytes of `index.sqlite` flipped in a
 * built workspace, one seed per test. The next build must succeed with the
 * right outputs (never a wrong hit) and the one after it find everything
 * cached; the CAS blobs stay, only the index is started over.
 */
import { cpSync, existsSync, openSync, readSync, rmSync, statSync, writeSync, closeSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { seededRandom, seeds } from "./test-support/seeded.js";
import { Workspace } from "./test-support/workspace.js";

const TASKS = 12;
// Half the layers are kept in the index, half are blob files (over 32 KiB); a last task depends on all.
const BUILDFILE = `import { task } from "rbuild";
const parts = [];
for (let i = 0; i < ${TASKS}; i++) {
  parts.push(task({ name: "t" + i, inputs: ["src/t" + i + ".txt"], outputs: ["out/t" + i + "/**"],
    run: "mkdir -p out/t" + i + " && cat src/t" + i + ".txt > out/t" + i + "/data" + (i % 2 === 0 ? " && head -c 40000 /dev/zero > out/t" + i + "/pad" : "") }));
}
task({ name: "all", deps: parts, inputs: [], outputs: ["out/all.txt"], run: "cat out/t*/data > out/all.txt" });
`;

let ws: Workspace;
let template: string;

const source = (i: number, version: string): string => `task ${i} ${version}\n`;

beforeAll(async () => {
  ws = new Workspace("rbuild-index-corruption-");
  const files: Record<string, string> = { "Buildfile.ts": BUILDFILE };
  for (let i = 0; i < TASKS; i++) files[`src/t${i}.txt`] = source(i, "one");
  ws.write(files);
  const first = await ws.run(["all"]);
  expect(first.exitCode).toBe(0);
  // Two builds, so the index has history and stat cache entries too.
  expect((await ws.run(["all", "--force"])).exitCode).toBe(0);
  template = `${ws.root}.template`;
  cpSync(join(ws.root, ".rbuild"), template, { recursive: true });
});
afterAll(() => {
  ws.remove();
  rmSync(template, { recursive: true, force: true });
});

/** Flips `count` random bytes of `file`, past its first 100 (the header SQLite checks at open, healed already). */
function flipBytes(file: string, random: () => number, count: number): void {
  const size = statSync(file).size;
  const fd = openSync(file, "r+");
  try {
    for (let n = 0; n < count; n++) {
      const at = 100 + Math.floor(random() * (size - 100));
      const byte = Buffer.alloc(1);
      readSync(fd, byte, 0, 1, at);
      byte[0]! ^= 1 + Math.floor(random() * 255);
      writeSync(fd, byte, 0, 1, at);
    }
  } finally {
    closeSync(fd);
  }
}

interface Summary {
  tasks: { name: string; status: string }[];
}

async function build(): Promise<{ exitCode: number | undefined; stderr: string; statuses: string[] }> {
  rmSync(join(ws.root, "s.json"), { force: true });
  const result = await ws.run(["all", "--summary", "s.json"]);
  const statuses = existsSync(join(ws.root, "s.json")) ? (JSON.parse(ws.read("s.json")) as Summary).tasks.map((t) => `${t.name} ${t.status}`) : [];
  return { exitCode: result.exitCode, stderr: result.stderr, statuses };
}

test.each(seeds(24))("20.9: an index with random bytes flipped heals: the next build is right, the one after cached (seed %i)", async (seed) => {
  const random = seededRandom(seed);
  rmSync(join(ws.root, ".rbuild"), { recursive: true, force: true });
  cpSync(template, join(ws.root, ".rbuild"), { recursive: true });
  // Some inputs change (their tasks must run, and never hit), and every output is gone (the rest must be restored).
  const edited = new Set(Array.from({ length: 3 }, () => Math.floor(random() * TASKS)));
  for (let i = 0; i < TASKS; i++) writeFileSync(join(ws.root, `src/t${i}.txt`), source(i, edited.has(i) ? `seed ${seed}` : "one"));
  rmSync(join(ws.root, "out"), { recursive: true, force: true });
  for (const suffix of ["-wal", "-shm"]) expect(existsSync(join(ws.root, ".rbuild", `index.sqlite${suffix}`))).toBe(false);
  flipBytes(join(ws.root, ".rbuild", "index.sqlite"), random, 1 + Math.floor(random() * 40));

  const healed = await build();
  expect(healed.exitCode, healed.stderr).toBe(0);
  const expected = Array.from({ length: TASKS }, (_, i) => source(i, edited.has(i) ? `seed ${seed}` : "one"));
  for (let i = 0; i < TASKS; i++) expect(ws.read(`out/t${i}/data`)).toBe(expected[i]);
  // `cat out/t*/data`, in the shell's (C locale) order.
  const all = expected.map((text, i) => [`t${i}/data`, text]).sort(([a], [b]) => (a! < b! ? -1 : 1)).map(([, text]) => text).join("");
  expect(ws.read("out/all.txt")).toBe(all);
  // At most one warning about the index.
  expect(healed.stderr.split("\n").filter((line) => line.includes("index")).length).toBeLessThanOrEqual(1);

  const after = await build();
  expect(after.exitCode, after.stderr).toBe(0);
  expect(after.statuses).toEqual([...Array.from({ length: TASKS }, (_, i) => `t${i} cached`), "all cached"]);
  expect(ws.read("out/all.txt")).toBe(all);
});
