/**
 * The no-op fast path (the freshness record): a build whose every task is as
 * the record has it, after a successful build of the same targets, is
 * answered from the record, with exactly the full path's output; anything the
 * full path would notice sends it there.
 * Which path answered is seen in `.rbuild/up-to-date/builds.jsonl`, where only
 * the fast path writes.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { Workspace, type RunResult } from "./test-support/workspace.js";

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.remove());

interface Build extends RunResult {
  readonly tasks: { name: string; status: string; cache: string | null; key: string | null; reasons: string[] }[];
  /** Whether the freshness record answered it (without the index). */
  readonly fast: boolean;
}

function fastBuilds(): number {
  const file = join(ws.root, ".rbuild", "up-to-date", "builds.jsonl");
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).length : 0;
}

async function build(args: string[] = ["use"], env: Record<string, string> = {}): Promise<Build> {
  const before = fastBuilds();
  const result = await ws.run([...args, "--summary", ".summary.json"], { env });
  const summary = JSON.parse(ws.read(".summary.json")) as { tasks: Build["tasks"] };
  return { ...result, tasks: summary.tasks, fast: fastBuilds() > before };
}

const statuses = (b: Build) => b.tasks.map((t) => `${t.name}:${t.status}`);

/** The workspace's freshness record files. */
function recordFiles(): string[] {
  const dir = join(ws.root, ".rbuild", "fresh");
  return existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith(".json")).map((name) => join(dir, name)) : [];
}

/** What the workspace's one freshness record holds: the targets it names a build of, and its tasks' entries. */
function record(): { builds: string[]; tasks: string[] } {
  const files = recordFiles();
  expect(files).toHaveLength(1);
  const { builds, tasks } = JSON.parse(readFileSync(files[0]!, "utf8")) as { builds: [string][]; tasks: [string][] };
  return { builds: builds.map((b) => b[0]), tasks: tasks.map((t) => t[0]) };
}

/**
 * Builds until a build is answered from the record. A task's entry waits for
 * files changed in the same filesystem clock tick as a build to age, so it
 * may take a build more than "the second one".
 */
async function untilFast(args?: string[], env?: Record<string, string>): Promise<Build> {
  for (let attempt = 0; attempt < 4; attempt++) {
    const result = await build(args, env);
    if (result.fast) return result;
  }
  throw new Error("no build was answered from the freshness record");
}

function runs(name: string): number {
  return existsSync(join(ws.root, `${name}.count`)) ? ws.read(`${name}.count`).split("\n").filter(Boolean).length : 0;
}

const BUILDFILE = `import { task } from "rbuild";
const gen = task({ name: "gen", inputs: ["src/**"], outputs: ["out/gen/**"], env: ["FLAVOUR"],
  run: "echo run >> gen.count; mkdir -p out/gen && cat src/*.txt > out/gen/all.txt && echo \\"flavour=$FLAVOUR\\" && echo made >&2" });
export const use = task({ name: "use", deps: [gen], outputs: ["out/use.txt"], run: "echo run >> use.count; tr a-z A-Z < out/gen/all.txt > out/use.txt" });
task({ name: "all", deps: [use] });
`;

describe("no-op builds from the freshness record", () => {
  beforeEach(() => {
    ws.write({ "Buildfile.ts": BUILDFILE, "src/a.txt": "alpha\n", "src/b.txt": "beta\n" });
  });

  test("print, summarise and exit exactly as the full path does, and run nothing", async () => {
    const first = await build(["all"]);
    expect(statuses(first)).toEqual(["gen:ran", "use:ran", "all:ran"]);
    await untilFast(["all"]);
    rmSync(join(ws.root, ".rbuild", "fresh"), { recursive: true });
    const full = await build(["all", "--output-logs", "full"]);
    const fast = await build(["all", "--output-logs", "full"]);
    expect([full.fast, fast.fast]).toEqual([false, true]);
    const timeless = (b: Build) => ({ ...b, fast: undefined, tasks: b.tasks.map((t) => ({ ...t, durationMs: undefined })) });
    expect(timeless(fast)).toEqual(timeless(full));
    // 20.20: the group "all" ran nothing itself: neither shown nor counted.
    expect(fast.stdout).toBe("[gen] flavour=\n✓ gen (cached, local)\n✓ use (cached, local)\n");
    expect(fast.stderr).toBe("[gen] made\nrbuild: ok: 0 ran, 2 cached in <t>\n");
    expect(fast.tasks.map((t) => [t.name, t.status, t.cache, t.key])).toEqual(first.tasks.map((t) => [t.name, "cached", t.key === null ? null : "local", t.key]));
    expect([runs("gen"), runs("use")]).toEqual([1, 1]);

    const json = await ws.run(["all", "--output", "json"]);
    expect(json.exitCode).toBe(0);
    const events = json.stdout.trim().split("\n").map((line) => JSON.parse(line) as { type: string });
    expect(events.map((e) => e.type)).toEqual(["build-started", "task-output", "task-output", "task-finished", "task-finished", "task-finished", "build-finished"]);
  });

  test("every change the full path notices takes the full path", async () => {
    await untilFast();
    const gen = join(ws.root, "src/a.txt");

    // The same size and mtime, other bytes: only the ctime tells.
    const { atime, mtime } = statSync(gen);
    writeFileSync(gen, "ALPHA\n");
    utimesSync(gen, atime, mtime);
    const edited = await build();
    expect([edited.fast, statuses(edited), ws.read("out/use.txt")]).toEqual([false, ["gen:ran", "use:ran"], "ALPHA\nBETA\n"]);

    await untilFast();
    writeFileSync(join(ws.root, "src/c.txt"), "gamma\n");
    const added = await build();
    expect([added.fast, statuses(added), ws.read("out/use.txt")]).toEqual([false, ["gen:ran", "use:ran"], "ALPHA\nBETA\nGAMMA\n"]);

    await untilFast();
    rmSync(join(ws.root, "out/use.txt"));
    const deleted = await build();
    expect([deleted.fast, statuses(deleted), ws.read("out/use.txt")]).toEqual([false, ["gen:cached", "use:cached"], "ALPHA\nBETA\nGAMMA\n"]);

    await untilFast();
    writeFileSync(join(ws.root, "out/gen/all.txt"), "vandalised\n");
    const vandalised = await build();
    expect([vandalised.fast, statuses(vandalised), ws.read("out/gen/all.txt")]).toEqual([false, ["gen:cached", "use:cached"], "ALPHA\nbeta\ngamma\n"]);

    await untilFast();
    const flavour = await build(["use"], { FLAVOUR: "spicy" });
    expect([flavour.fast, statuses(flavour)]).toEqual([false, ["gen:ran", "use:cached"]]);

    await untilFast(["use"], { FLAVOUR: "spicy" });
    ws.write({ "Buildfile.ts": BUILDFILE.replace("echo made >&2", "echo made again >&2") });
    const edit = await build(["use"], { FLAVOUR: "spicy" });
    expect([edit.fast, statuses(edit)]).toEqual([false, ["gen:ran", "use:cached"]]);
    expect([runs("gen"), runs("use")]).toEqual([5, 3]);
  });

  test("--force never takes the fast path", async () => {
    await untilFast();
    const forced = await build(["use", "--force"]);
    expect([forced.fast, statuses(forced)]).toEqual([false, ["gen:ran", "use:ran"]]);
  });

  test("each set of targets is a no-op only after a build of its own, with the entries shared", async () => {
    await untilFast(["use"]);
    const gen = await build(["gen"]);
    expect([gen.fast, statuses(gen)]).toEqual([false, ["gen:cached"]]);
    await untilFast(["gen"]);
    expect((await build(["use"])).fast).toBe(true);
  });

  test("a garbled record is ignored and replaced", async () => {
    await untilFast();
    const [file] = recordFiles();
    writeFileSync(file!, '{"v":1,"root":');
    const garbled = await build();
    expect([garbled.fast, statuses(garbled)]).toEqual([false, ["gen:cached", "use:cached"]]);
    expect((await build()).fast).toBe(true);
  });

  test("`cache stats` counts the builds answered from the record", async () => {
    await untilFast();
    await untilFast();
    const stats = await ws.run(["cache", "stats"]);
    const builds = Number(/builds: +(\d+)/.exec(stats.stdout)?.[1]);
    const cached = Number(/\((\d+) of (\d+) pure task runs\)/.exec(stats.stdout)?.[1]);
    expect(builds).toBeGreaterThanOrEqual(3);
    expect(cached).toBe(2 * (builds - 1));
    expect(existsSync(join(ws.root, ".rbuild", "up-to-date", "builds.jsonl"))).toBe(false);
  });
});

describe("what never takes the fast path", () => {
  test("a Buildfile that makes its tasks from the file tree is evaluated every time", async () => {
    ws.write({
      "Buildfile.ts": `import { readdirSync } from "node:fs";
import { task } from "rbuild";
const pkgs = readdirSync("pkgs").sort().map((name) =>
  task({ name, inputs: [\`pkgs/\${name}/**\`], outputs: [\`out/\${name}.txt\`], run: \`mkdir -p out && cat pkgs/\${name}/* > out/\${name}.txt\` }));
task({ name: "all", deps: pkgs });
`,
      "pkgs/a/x.txt": "a\n",
      "pkgs/b/x.txt": "b\n",
    });
    await untilFast(["all"]);
    ws.write({ "pkgs/c/x.txt": "c\n" });
    const grown = await build(["all"]);
    expect([grown.fast, statuses(grown)]).toEqual([false, ["a:cached", "b:cached", "c:ran", "all:ran"]]);
    expect(ws.read("out/c.txt")).toBe("c\n");
  });

  test("a failed build leaves no entry for its failed task nor a build to repeat; an impure task means no build is a no-op", async () => {
    ws.write({
      "Buildfile.ts": `import { task } from "rbuild";
task({ name: "check", inputs: ["flag"], run: "grep -q ok flag" });
task({ name: "deploy", pure: false, run: "echo run >> deploy.count" });
`,
      flag: "ok\n",
    });
    await untilFast(["check"]);
    expect(record()).toEqual({ builds: ['["check"]'], tasks: ["check"] });
    writeFileSync(join(ws.root, "flag"), "no\n");
    expect(statuses(await build(["check"]))).toEqual(["check:failed"]);
    expect(record()).toEqual({ builds: [], tasks: [] });
    writeFileSync(join(ws.root, "flag"), "ok\n");
    const back = await build(["check"]);
    expect([back.fast, statuses(back)]).toEqual([false, ["check:cached"]]);

    for (let i = 0; i < 3; i++) expect((await build(["deploy"])).fast).toBe(false);
    expect(runs("deploy")).toBe(3);
  });
});

describe("the record after a change: what it still vouches for", () => {
  // Two chains: editing one leaves the other exactly as the record has it.
  const TWO_CHAINS = `import { task } from "rbuild";
const a = task({ name: "a", inputs: ["a/**"], outputs: ["out/a.txt"], run: "echo run >> a.count; cat a/*.txt > out/a.txt" });
const a2 = task({ name: "a2", deps: [a], outputs: ["out/a2.txt"], run: "echo run >> a2.count; wc -l < out/a.txt > out/a2.txt" });
const b = task({ name: "b", inputs: ["b/**"], outputs: ["out/b.txt"], run: "echo run >> b.count; echo said b; cat b/*.txt > out/b.txt" });
const b2 = task({ name: "b2", deps: [b], outputs: ["out/b2.txt"], run: "echo run >> b2.count; wc -l < out/b.txt > out/b2.txt" });
task({ name: "all", deps: [a2, b2] });
`;
  beforeEach(() => {
    ws.write({ "Buildfile.ts": TWO_CHAINS, "out/.keep": "", "a/1.txt": "one\n", "b/1.txt": "two\n" });
  });

  /** Removes every trace of task `name` from the index: only the record can still say it is up to date. */
  function forgetInIndex(name: string): void {
    const db = new Database(join(ws.root, ".rbuild", "index.sqlite"));
    try {
      db.prepare("DELETE FROM actions WHERE task = ?").run(name);
      db.prepare("DELETE FROM task_state WHERE task = ?").run(name);
    } finally {
      db.close();
    }
  }

  test("tasks a change does not reach are taken from the record; the rest is checked; the next build is a no-op", async () => {
    await build(["all"]);
    await untilFast(["all"]);
    forgetInIndex("b");
    forgetInIndex("b2");
    ws.write({ "a/1.txt": "one\nmore\n" });
    const partly = await build(["all", "--output-logs", "full"]);
    expect(partly.fast).toBe(false);
    // b and b2 are cached although the index no longer knows them: the record vouched for them.
    expect(statuses(partly)).toEqual(["a:ran", "a2:ran", "b:cached", "b2:cached", "all:ran"]);
    expect(partly.stdout).toContain("[b] said b\n"); // Its log is replayed, as for any cached task.
    expect(partly.stdout).toContain("✓ b (cached, local)\n");
    expect([runs("a"), runs("a2"), runs("b"), runs("b2")]).toEqual([2, 2, 1, 1]);
    expect(ws.read("out/a2.txt").trim()).toBe("2");
    // The record written after it covers every task again.
    const again = await untilFast(["all"]);
    expect(statuses(again)).toEqual(["a:cached", "a2:cached", "b:cached", "b2:cached", "all:cached"]);
  });

  test("a dep that a change reaches is checked with everything after it, even when the change is elsewhere", async () => {
    await build(["all"]);
    await untilFast(["all"]);
    forgetInIndex("b2");
    // b's input is touched (stats change, bytes do not): b is checked and found unchanged, and b2,
    // downstream of it, is checked against b's outputs by its own entry in the record (the index
    // no longer knows it): still fresh.
    const touched = statSync(join(ws.root, "b/1.txt")).mtime;
    utimesSync(join(ws.root, "b/1.txt"), touched, new Date(touched.getTime() + 5000));
    const partly = await build(["all"]);
    expect(statuses(partly)).toEqual(["a:cached", "a2:cached", "b:cached", "b2:cached", "all:cached"]);
    // b's input edited: b runs with other outputs, and b2 after it although none of its own stats changed.
    ws.write({ "b/1.txt": "two\nthree\n" });
    const edited = await build(["all"]);
    expect(statuses(edited)).toEqual(["a:cached", "a2:cached", "b:ran", "b2:ran", "all:ran"]);
    expect(ws.read("out/b2.txt").trim()).toBe("2");
    // A deleted output is put back from the cache, not vouched for.
    rmSync(join(ws.root, "out/a2.txt"));
    const restored = await build(["all"]);
    expect(statuses(restored)).toEqual(["a:cached", "a2:cached", "b:cached", "b2:cached", "all:cached"]);
    expect(ws.read("out/a2.txt").trim()).toBe("1");
  });

  test("an impure task in the graph is checked every time; the record still vouches for the rest", async () => {
    ws.write({ "Buildfile.ts": TWO_CHAINS.replace('task({ name: "all", deps: [a2, b2] });', 'const deploy = task({ name: "deploy", pure: false, run: "echo run >> deploy.count" });\ntask({ name: "all", deps: [a2, b2, deploy] });') });
    await build(["all"]);
    await build(["all"]);
    forgetInIndex("b");
    forgetInIndex("b2");
    const again = await build(["all"]);
    expect(again.fast).toBe(false);
    // The index no longer knows b and b2: only the record, which has no entry for deploy, can say they are cached.
    expect(statuses(again)).toEqual(["a:cached", "a2:cached", "b:cached", "b2:cached", "deploy:ran", "all:ran"]);
    expect([runs("b"), runs("b2"), runs("deploy")]).toEqual([1, 1, 3]);
  });
});
