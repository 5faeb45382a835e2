import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { Workspace } from "./test-support/workspace.js";

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.remove());

interface SummaryTask {
  name: string;
  status: string;
  cache: string | null;
  key: string | null;
  reasons: string[];
}

/** Runs rbuild with a summary and returns [name, status, reasons] per task. */
async function build(args: string[], env: Record<string, string> = {}): Promise<{ exitCode: number | undefined; stdout: string; stderr: string; tasks: SummaryTask[] }> {
  const result = await ws.run([...args, "--summary", ".summary.json"], { env });
  const summary = JSON.parse(ws.read(".summary.json")) as { tasks: SummaryTask[] };
  return { ...result, tasks: summary.tasks };
}

const statuses = (tasks: SummaryTask[]) => tasks.map((t) => [t.name, t.status, t.reasons]);

// gen copies its input to an output; use reads gen's output; count files record how often each ran.
const BUILDFILE = `import { task } from "rbuild";
const gen = task({ name: "gen", inputs: ["src/**"], outputs: ["out/gen/**"], env: ["FLAVOUR"],
  run: "echo run >> gen.count; mkdir -p out/gen && cat src/*.txt > out/gen/all.txt && echo \\"flavour=$FLAVOUR\\" && echo made >&2" });
export const use = task({ name: "use", deps: [gen], outputs: ["out/use.txt"],
  run: "echo run >> use.count; tr a-z A-Z < out/gen/all.txt > out/use.txt && chmod 751 out/use.txt" });
`;

function runs(name: string): number {
  return existsSync(join(ws.root, `${name}.count`)) ? ws.read(`${name}.count`).split("\n").filter(Boolean).length : 0;
}

describe("incremental builds", () => {
  beforeEach(() => {
    ws.write({ "Buildfile.ts": BUILDFILE, "src/a.txt": "alpha\n", "src/b.txt": "beta\n" });
  });

  test("the second build restores everything and replays logs; touching a file rebuilds nothing", async () => {
    const first = await build(["use"]);
    expect(statuses(first.tasks)).toEqual([["gen", "ran", ["no-record"]], ["use", "ran", ["no-record"]]]);
    const second = await build(["use", "--output-logs", "full"]);
    expect(statuses(second.tasks)).toEqual([["gen", "cached", []], ["use", "cached", []]]);
    expect(second.tasks.map((t) => t.cache)).toEqual(["local", "local"]);
    expect(second.tasks.map((t) => t.key)).toEqual(first.tasks.map((t) => t.key));
    expect(second.stdout).toBe("[gen] flavour=\n✓ gen (cached, local)\n✓ use (cached, local)\n");
    expect(second.stderr).toBe("[gen] made\nrbuild: ok: 0 ran, 2 cached in <t>\n");
    // 20.20: by default a cached task's stored output is not shown again.
    const quiet = await build(["use"]);
    expect([quiet.stdout, quiet.stderr]).toEqual(["✓ gen (cached, local)\n✓ use (cached, local)\n", "rbuild: ok: 0 ran, 2 cached in <t>\n"]);

    const later = new Date(Date.now() + 5000);
    utimesSync(join(ws.root, "src/a.txt"), later, later);
    const touched = await build(["use"]);
    expect(statuses(touched.tasks)).toEqual([["gen", "cached", []], ["use", "cached", []]]);
    expect([runs("gen"), runs("use")]).toEqual([1, 1]);
  });

  test("an edited input reruns the task with the reason; identical dep output keeps dependents cached (early cutoff)", async () => {
    await build(["use"]);
    writeFileSync(join(ws.root, "src/a.txt"), "ALPHA\n");
    const edited = await build(["use"]);
    expect(statuses(edited.tasks)).toEqual([["gen", "ran", ["input-changed: src/a.txt"]], ["use", "ran", ["dep-output-changed: gen"]]]);

    // a.txt + b.txt = c.txt: the same concatenation, so gen's output bytes are the same.
    writeFileSync(join(ws.root, "src/a.txt"), "");
    writeFileSync(join(ws.root, "src/b.txt"), "ALPHA\nbeta\n");
    const same = await build(["use"]);
    expect(statuses(same.tasks)).toEqual([["gen", "ran", ["input-changed: src/a.txt", "input-changed: src/b.txt"]], ["use", "cached", []]]);
    expect([runs("gen"), runs("use")]).toEqual([3, 2]);
  });

  test("a file added to or removed from an input directory is noticed, even when every known file is unchanged", async () => {
    await build(["gen"]);
    await build(["gen"]); // Now the task is checked by its freshness entry: stats only.
    writeFileSync(join(ws.root, "src/c.txt"), "gamma\n");
    expect(statuses((await build(["gen"])).tasks)).toEqual([["gen", "ran", ["input-changed: src/c.txt"]]]);
    expect(ws.read("out/gen/all.txt")).toBe("alpha\nbeta\ngamma\n");
    await build(["gen"]);
    rmSync(join(ws.root, "src/a.txt"));
    expect(statuses((await build(["gen"])).tasks)).toEqual([["gen", "ran", ["input-changed: src/a.txt"]]]);
    expect(ws.read("out/gen/all.txt")).toBe("beta\ngamma\n");
  });

  test("a declared env change reruns the task and says which variable", async () => {
    await build(["use"], { FLAVOUR: "plain" });
    const changed = await build(["gen"], { FLAVOUR: "spicy" });
    expect(statuses(changed.tasks)).toEqual([["gen", "ran", ["env-changed: FLAVOUR"]]]);
    const undeclared = await build(["gen"], { FLAVOUR: "spicy", OTHER: "x" });
    expect(statuses(undeclared.tasks)).toEqual([["gen", "cached", []]]);
  });

  test("a changed command reruns the task", async () => {
    await build(["gen"]);
    ws.write({ "Buildfile.ts": BUILDFILE.replace("echo made >&2", "echo made again >&2") });
    expect(statuses((await build(["gen"])).tasks)).toEqual([["gen", "ran", ["command-changed"]]]);
  });

  test("a deleted or hand-edited output is put back from the cache, with its mode", async () => {
    await build(["use"]);
    rmSync(join(ws.root, "out/gen"), { recursive: true });
    writeFileSync(join(ws.root, "out/use.txt"), "vandalised\n");
    chmodSync(join(ws.root, "out/use.txt"), 0o600);
    const restored = await build(["use"]);
    expect(statuses(restored.tasks)).toEqual([["gen", "cached", []], ["use", "cached", []]]);
    expect([ws.read("out/gen/all.txt"), ws.read("out/use.txt")]).toEqual(["alpha\nbeta\n", "ALPHA\nBETA\n"]);
    expect(statSync(join(ws.root, "out/use.txt")).mode & 0o7777).toBe(0o751);
    expect([runs("gen"), runs("use")]).toEqual([1, 1]);
  });

  test("on a miss, stale outputs of an earlier run are cleared and never stored", async () => {
    await build(["gen"]);
    writeFileSync(join(ws.root, "out/gen/stale.txt"), "left over\n");
    writeFileSync(join(ws.root, "src/a.txt"), "changed\n");
    await build(["gen"]);
    expect(readdirSync(join(ws.root, "out/gen"))).toEqual(["all.txt"]);
  });

  test("failures are never cached; --force runs everything; impure tasks always run", async () => {
    ws.write({
      "Buildfile.ts": `import { task } from "rbuild";
task({ name: "flaky", inputs: ["flag"], run: "test -e ok" });
task({ name: "deploy", pure: false, run: "echo deploying" });
`,
      flag: "1",
    });
    expect(statuses((await build(["flaky"])).tasks)).toEqual([["flaky", "failed", ["no-record"]]]);
    expect(statuses((await build(["flaky"])).tasks)).toEqual([["flaky", "failed", ["previous-run-failed"]]]);
    writeFileSync(join(ws.root, "ok"), "");
    expect(statuses((await build(["flaky"])).tasks)).toEqual([["flaky", "ran", ["previous-run-failed"]]]);
    expect(statuses((await build(["flaky"])).tasks)).toEqual([["flaky", "cached", []]]);
    expect(statuses((await build(["flaky", "--force"])).tasks)).toEqual([["flaky", "ran", ["forced"]]]);
    const impure = await build(["deploy"]);
    expect(statuses((await build(["deploy"])).tasks)).toEqual([["deploy", "ran", ["impure"]]]);
    expect(impure.tasks[0]?.key).toBeNull();
  });

  test("--dry-run and `why` explain without running anything", async () => {
    await build(["use"]);
    writeFileSync(join(ws.root, "src/b.txt"), "BETA\n");
    const dry = await ws.run(["use", "--dry-run"]);
    expect(dry).toEqual({
      exitCode: 0,
      stdout: "would run  gen  (input-changed: src/b.txt)\nwould run  use  (dep-will-run: gen)\nrbuild: dry run: 2 would run, 0 cached\n",
      stderr: "",
    });
    expect((await ws.run(["why", "gen"])).stdout).toBe("gen would run:\n  input-changed: src/b.txt\n");
    expect(runs("gen")).toBe(1);
    await build(["use"]);
    expect((await ws.run(["why", "gen"])).stdout).toMatch(/^gen is up to date: its result is cached \(key [0-9a-f]{16}\)\.\nIt last ran because:\n {2}input-changed: src\/b\.txt\n$/);
  });

  test("22.adopt: `why` of a group names the deps that would run, and why", async () => {
    ws.write({ "Buildfile.ts": `${BUILDFILE}export const all = task({ name: "all", deps: [use] });\nexport const none = task({ name: "none", deps: [] });\n` });
    await build(["all"]);
    expect(await ws.run(["why", "all"])).toEqual({ exitCode: 0, stdout: "all is a group: it runs nothing itself, and none of its deps would run.\n", stderr: "" });
    writeFileSync(join(ws.root, "src/b.txt"), "BETA\n");
    expect(await ws.run(["why", "all"])).toEqual({
      exitCode: 0,
      stdout: "all is a group: it runs nothing itself; of its deps, 2 would run:\n  gen (input-changed: src/b.txt)\n  use (dep-will-run: gen)\n",
      stderr: "",
    });
    expect((await ws.run(["why", "none"])).stdout).toBe("none is a group: it runs nothing itself, and none of its deps would run.\n");
  });

  test("keys do not depend on where the workspace is: a copy elsewhere computes the same keys", async () => {
    const first = await build(["use"]);
    const other = new Workspace("rbuild-elsewhere-");
    try {
      other.write({ "Buildfile.ts": BUILDFILE, "src/a.txt": "alpha\n", "src/b.txt": "beta\n" });
      await other.run(["use", "--summary", "s.json"]);
      const keys = (JSON.parse(other.read("s.json")) as { tasks: SummaryTask[] }).tasks.map((t) => t.key);
      expect(keys).toEqual(first.tasks.map((t) => t.key));
    } finally {
      other.remove();
    }
  });

  test("RBUILD_CACHE_DIR moves the cache out of the workspace", async () => {
    const cache = join(ws.root, "..", `${ws.root.split("/").pop()}-cache`);
    try {
      await build(["use"], { RBUILD_CACHE_DIR: cache });
      expect(existsSync(join(cache, "index.sqlite"))).toBe(true);
      expect(existsSync(join(ws.root, ".rbuild", "index.sqlite"))).toBe(false);
      expect(statuses((await build(["use"], { RBUILD_CACHE_DIR: cache })).tasks).map(([, s]) => s)).toEqual(["cached", "cached"]);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});

describe("cache commands", () => {
  test("clean waits for a build that is running, so that build stores its whole outputs", async () => {
    ws.write({
      "Buildfile.ts": `import { task } from "rbuild";
export const slow = task({ name: "slow", outputs: ["out/slow.txt"], run: "touch started; sleep 1.5; mkdir -p out && echo done > out/slow.txt" });
`,
    });
    const running = ws.start(["slow"]);
    for (let waited = 0; !existsSync(join(ws.root, "started")) && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    const clean = await ws.run(["clean"]);
    expect(clean.stderr).toMatch(/^rbuild: waiting for another rbuild \(pid \d+\) building this workspace; it has held the lock since \d\d:\d\d:\d\d\n$/);
    expect(clean.stdout).toBe("removed 1 output files\n");
    expect((await running).exitCode).toBe(0);
    expect(existsSync(join(ws.root, "out/slow.txt"))).toBe(false);
    const again = await build(["slow"]);
    expect(statuses(again.tasks)).toEqual([["slow", "cached", []]]);
    expect(ws.read("out/slow.txt")).toBe("done\n");
  });

  test("stats, gc and clean", async () => {
    ws.write({ "Buildfile.ts": BUILDFILE, "src/a.txt": "alpha\n", "src/b.txt": "beta\n" });
    await build(["use"]);
    await build(["use"]);
    const stats = await ws.run(["cache", "stats"]);
    expect(stats.stdout).toMatch(/^cache: {4}<root>\/\.rbuild\nentries: {2}2\nblobs: {4}2 \(\d+(\.\d)? (B|kB)\)\nhit rate: 50\.0% \(2 of 4 pure task runs\)\nbuilds: {3}2\n$/);
    const gc = await ws.run(["cache", "gc", "--max-size", "0"]);
    expect(gc.stdout).toMatch(/^removed 2 entries and 2 blobs, freed \d+(\.\d)? (B|kB); 0 B left\n$/);
    const clean = await ws.run(["clean", "--cache"]);
    expect(clean.stdout).toBe("removed 2 output files\nremoved the cache <root>/.rbuild\n");
    expect([existsSync(join(ws.root, "out/use.txt")), existsSync(join(ws.root, ".rbuild"))]).toEqual([false, false]);
    expect(readFileSync(join(ws.root, "src/a.txt"), "utf8")).toBe("alpha\n");
  });
});
