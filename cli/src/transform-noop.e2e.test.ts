/**
 * A no-op build of a transform chain (issue 27.3): each transform rewrites or
 * deletes files of its dep's, so the dep's own freshness entry cannot vouch
 * for them; while the transform that took them over is up to date, they are
 * vouched for as its outputs, and the second build of an unchanged chain is
 * answered from the freshness record, restoring and rewriting nothing.
 * Which path answered is seen in `.rbuild/up-to-date/builds.jsonl`, where only
 * that path writes.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { testWorkspace, type RunResult, type Workspace } from "./test-support/workspace.js";

// A base tree and two transforms of it: each changes, adds and deletes (a file, a whole directory), and one changes a mode.
const BUILDFILE = `import { task } from "rbuild";
const base = task({ name: "base", inputs: ["src/**"], outputs: ["tree/**"],
  run: "echo run >> base.count; mkdir -p tree/sub tree/gone && cp src/*.txt tree/ && echo keep > tree/sub/keep.txt && echo g > tree/gone/g.txt && echo del > tree/del.txt && ln -s a.txt tree/link" });
const step1 = task({ name: "step1", deps: [base], transform: base, inputs: ["s1.txt"], outputs: ["tree/**"],
  run: "echo run >> step1.count; cat s1.txt > tree/a.txt && rm tree/del.txt && rm -r tree/gone && echo new > tree/sub/new.txt" });
task({ name: "step2", deps: [step1], transform: "step1", inputs: ["s2.txt"], outputs: ["tree/**"],
  run: "echo run >> step2.count; rm tree/sub/keep.txt && cat s2.txt > tree/added.txt && chmod 600 tree/b.txt" });
`;

const FILES = { "Buildfile.ts": BUILDFILE, "src/a.txt": "alpha\n", "src/b.txt": "beta\n", "s1.txt": "changed\n", "s2.txt": "added\n" };

const FINAL_TREE = [
  'a.txt 644 "changed\\n"',
  'added.txt 644 "added\\n"',
  'b.txt 600 "beta\\n"',
  "link -> a.txt",
  "sub/ 755",
  'sub/new.txt 644 "new\\n"',
];

const BASE_TREE = [
  'a.txt 644 "alpha\\n"',
  'b.txt 644 "beta\\n"',
  'del.txt 644 "del\\n"',
  "gone/ 755",
  'gone/g.txt 644 "g\\n"',
  "link -> a.txt",
  "sub/ 755",
  'sub/keep.txt 644 "keep\\n"',
];

const ALL_CACHED = { stdout: "✓ base (cached, local)\n✓ step1 (cached, local)\n✓ step2 (cached, local)\n", stderr: "rbuild: ok: 0 ran, 3 cached in <t>\n" };

/** Every entry under `dir`: path, type, mode and contents (or link target); with `stats`, its inode and times too. */
function snapshot(dir: string, stats = false): string[] {
  const lines: string[] = [];
  const walk = (at: string, prefix: string): void => {
    for (const name of readdirSync(at).sort()) {
      const full = join(at, name);
      const stat = lstatSync(full);
      const path = `${prefix}${name}`;
      const mode = (stat.mode & 0o7777).toString(8);
      const suffix = stats ? ` @${stat.ino}:${stat.mtimeMs}:${stat.ctimeMs}` : "";
      if (stat.isSymbolicLink()) lines.push(`${path} -> ${readlinkSync(full)}${suffix}`);
      else if (stat.isDirectory()) {
        lines.push(`${path}/ ${mode}${suffix}`);
        walk(full, `${path}/`);
      } else lines.push(`${path} ${mode} ${JSON.stringify(readFileSync(full, "utf8"))}${suffix}`);
    }
  };
  walk(dir, "");
  return lines;
}

const runs = (ws: Workspace, name: string): number => (existsSync(join(ws.root, `${name}.count`)) ? ws.read(`${name}.count`).split("\n").filter(Boolean).length : 0);
const runCounts = (ws: Workspace): number[] => ["base", "step1", "step2"].map((name) => runs(ws, name));

/** Builds answered from the freshness record so far (the next build that opens the index folds them in). */
function fastBuilds(ws: Workspace): number {
  const file = join(ws.root, ".rbuild", "up-to-date", "builds.jsonl");
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).length : 0;
}

/** What the freshness record says task `name` left to its transform (see covered-outputs.ts in the executor). */
function covered(ws: Workspace, name: string): unknown {
  const dir = join(ws.root, ".rbuild", "fresh");
  const [file] = readdirSync(dir).filter((f) => f.endsWith(".json"));
  const record = JSON.parse(readFileSync(join(dir, file!), "utf8")) as { tasks: unknown[][] };
  const entry = record.tasks.find((task) => task[0] === name);
  if (entry === undefined) return "no entry";
  const taken = entry[13] as [string, string[]] | null;
  return taken === null ? null : [taken[0], [...taken[1]].sort()];
}

interface Build extends RunResult {
  /** Whether the freshness record answered it (the no-op path). */
  readonly fast: boolean;
}

async function build(ws: Workspace, target = "step2"): Promise<Build> {
  const before = fastBuilds(ws);
  const result = await ws.run([target]);
  return { ...result, fast: fastBuilds(ws) > before };
}

/** What a build printed, without which path answered it. */
const printed = (b: Build) => ({ stdout: b.stdout, stderr: b.stderr });
/** The same, its task lines sorted: an up-to-date task beside one that runs is reported while that one runs. */
const unordered = (b: Build) => ({ stdout: b.stdout.split("\n").filter(Boolean).sort(), stderr: b.stderr });

/**
 * Builds until a build is answered from the record. An entry waits for files
 * changed in the same filesystem clock tick as a build to age, so it may take
 * a build more than "the second one"; on main, no build of the chain ever was.
 */
async function untilFast(ws: Workspace, target = "step2"): Promise<Build> {
  for (let attempt = 0; attempt < 4; attempt++) {
    const result = await build(ws, target);
    expect(result.exitCode).toBe(0);
    if (result.fast) return result;
  }
  throw new Error("no build of the chain was answered from the freshness record");
}

/** The tree a clean build of the same files gives. */
async function cleanTree(files: Record<string, string>): Promise<string[]> {
  const ws = testWorkspace({ ...FILES, ...files });
  expect((await ws.run(["step2"])).exitCode).toBe(0);
  return snapshot(join(ws.root, "tree"));
}

// The chain beside another task, under one group.
const WITH_OTHER = `${BUILDFILE}task({ name: "other", inputs: ["o.txt"], outputs: ["o.out"], run: "echo run >> other.count; cp o.txt o.out" });
task({ name: "all", deps: ["step2", "other"] });
`;

describe("no-op builds of a transform chain", () => {
  test("27.3: the second build of an unchanged chain is answered from the freshness record, restoring and rewriting nothing", async () => {
    const ws = testWorkspace(FILES);
    expect(printed(await build(ws))).toEqual({
      stdout: "> base\n✓ base (<t>)\n> step1\n✓ step1 (<t>)\n> step2\n✓ step2 (<t>)\n",
      stderr: "rbuild: ok: 3 ran, 0 cached in <t>\n",
    });
    expect(printed(await untilFast(ws))).toEqual(ALL_CACHED);

    const tree = join(ws.root, "tree");
    const before = snapshot(tree, true);
    const again = await build(ws);
    expect([again.fast, printed(again)]).toEqual([true, ALL_CACHED]);
    // Not one file rewritten: the same inodes and times.
    expect(snapshot(tree, true)).toEqual(before);
    expect(snapshot(tree)).toEqual(FINAL_TREE);
    expect(runCounts(ws)).toEqual([1, 1, 1]);
  });

  test("27.3: the base built alone restores its own tree exactly; the chain built again restores the chain's", async () => {
    const ws = testWorkspace(FILES);
    await untilFast(ws);
    const tree = join(ws.root, "tree");

    // Its graph does not hold its transforms: the files they changed, added and deleted are the base's again.
    const alone = await build(ws, "base");
    expect([alone.fast, printed(alone)]).toEqual([false, { stdout: "✓ base (cached, local)\n", stderr: "rbuild: ok: 0 ran, 1 cached in <t>\n" }]);
    expect(snapshot(tree)).toEqual(BASE_TREE);
    expect(printed(await untilFast(ws, "base"))).toEqual({ stdout: "✓ base (cached, local)\n", stderr: "rbuild: ok: 0 ran, 1 cached in <t>\n" });
    expect(snapshot(tree)).toEqual(BASE_TREE);

    const chain = await build(ws);
    expect([chain.fast, printed(chain)]).toEqual([false, ALL_CACHED]);
    expect(snapshot(tree)).toEqual(FINAL_TREE);
    // The base was up to date, and step1's restore took its files over: its entry says so, or the next build would restore it again.
    expect(covered(ws, "base")).toEqual(["step1", ["tree/a.txt", "tree/b.txt", "tree/del.txt", "tree/gone", "tree/gone/g.txt", "tree/sub", "tree/sub/keep.txt"]]);
    expect(printed(await untilFast(ws))).toEqual(ALL_CACHED);
    expect(snapshot(tree)).toEqual(FINAL_TREE);
    expect(runCounts(ws)).toEqual([1, 1, 1]);
  });

  test("27.3: a change to an input of any step runs the chain again from that step, byte-identical to a clean build", async () => {
    const ws = testWorkspace(FILES);
    await untilFast(ws);
    const tree = join(ws.root, "tree");

    ws.write({ "s2.txt": "added again\n" });
    expect(printed(await build(ws))).toEqual({ stdout: "✓ base (cached, local)\n✓ step1 (cached, local)\n> step2\n✓ step2 (<t>)\n", stderr: "rbuild: ok: 1 ran, 2 cached in <t>\n" });
    expect(snapshot(tree)).toEqual(await cleanTree({ "s2.txt": "added again\n" }));
    expect(runCounts(ws)).toEqual([1, 1, 2]);
    await untilFast(ws);

    ws.write({ "s1.txt": "changed again\n" });
    expect(printed(await build(ws))).toEqual({
      stdout: "✓ base (cached, local)\n> step1\n✓ step1 (<t>)\n> step2\n✓ step2 (<t>)\n",
      stderr: "rbuild: ok: 2 ran, 1 cached in <t>\n",
    });
    expect(snapshot(tree)).toEqual(await cleanTree({ "s1.txt": "changed again\n", "s2.txt": "added again\n" }));
    expect(runCounts(ws)).toEqual([1, 2, 3]);
    await untilFast(ws);

    ws.write({ "src/b.txt": "BETA\n" });
    expect(printed(await build(ws))).toEqual({
      stdout: "> base\n✓ base (<t>)\n> step1\n✓ step1 (<t>)\n> step2\n✓ step2 (<t>)\n",
      stderr: "rbuild: ok: 3 ran, 0 cached in <t>\n",
    });
    expect(snapshot(tree)).toEqual(await cleanTree({ "s1.txt": "changed again\n", "s2.txt": "added again\n", "src/b.txt": "BETA\n" }));
    expect(printed(await untilFast(ws))).toEqual(ALL_CACHED);
    expect(runCounts(ws)).toEqual([2, 3, 4]);
  });

  test("27.3: after cache gc, a change beside an up-to-date chain leaves the chain as it is: nothing starts from its dropped results", async () => {
    const ws = testWorkspace({ ...FILES, "Buildfile.ts": WITH_OTHER, "o.txt": "o\n" });
    await untilFast(ws, "all");
    expect((await ws.run(["cache", "gc", "--max-size", "0"])).exitCode).toBe(0);
    const tree = join(ws.root, "tree");
    const before = snapshot(tree, true);
    ws.write({ "o.txt": "o2\n" });
    expect(unordered(await build(ws, "all"))).toEqual({
      stdout: ["> other", "✓ base (cached, local)", "✓ other (<t>)", "✓ step1 (cached, local)", "✓ step2 (cached, local)"],
      stderr: "rbuild: ok: 1 ran, 3 cached in <t>\n",
    });
    expect(snapshot(tree, true)).toEqual(before);
    expect([...runCounts(ws), runs(ws, "other")]).toEqual([1, 1, 1, 2]);
    // A step that must run then runs the chain again from the base: its stored results are gone.
    ws.write({ "s2.txt": "added again\n" });
    expect(unordered(await build(ws, "all"))).toEqual({
      stdout: ["> base", "> step1", "> step2", "✓ base (<t>)", "✓ other (cached, local)", "✓ step1 (<t>)", "✓ step2 (<t>)"],
      stderr: "rbuild: ok: 3 ran, 1 cached in <t>\n",
    });
    expect(snapshot(tree)).toEqual(await cleanTree({ "s2.txt": "added again\n" }));
  });

  test("27.3: a transform whose input changed runs from its dep that the record shows up to date (failed asking for --force)", async () => {
    // s1 leaves its dep's files as they are: the dep's entry holds as it is.
    const ws = testWorkspace({
      "Buildfile.ts": `import { task } from "rbuild";
const base = task({ name: "base", inputs: ["src/**"], outputs: ["tree/base/**"], run: "mkdir -p tree/base && cp src/a.txt tree/base/a.txt" });
task({ name: "s1", deps: [base], transform: base, inputs: ["suffix.txt"], outputs: ["tree/**"], run: "cat tree/base/a.txt suffix.txt > tree/s1.txt" });
`,
      "src/a.txt": "a\n",
      "suffix.txt": "1\n",
    });
    await untilFast(ws, "s1");
    ws.write({ "suffix.txt": "2\n" });
    expect(await ws.run(["s1"])).toEqual({ exitCode: 0, stdout: "✓ base (cached, local)\n> s1\n✓ s1 (<t>)\n", stderr: "rbuild: ok: 1 ran, 1 cached in <t>\n" });
    expect(ws.read("tree/s1.txt")).toBe("a\n2\n");
  });

  test("27.3: a transform's output deleted or edited in the workspace is noticed and restored, never a wrong hit", async () => {
    const ws = testWorkspace(FILES);
    await untilFast(ws);
    const tree = join(ws.root, "tree");
    const changes: [string, () => void][] = [
      ["step2's added file deleted", () => rmSync(join(tree, "added.txt"))],
      ["step1's file, kept by step2, edited", () => writeFileSync(join(tree, "a.txt"), "edited\n")],
      ["step1's file edited to the same size", () => writeFileSync(join(tree, "sub/new.txt"), "NEW\n")],
      ["a base file step2 deleted put back", () => writeFileSync(join(tree, "sub/keep.txt"), "keep\n")],
      ["the base's link, untouched by the steps, deleted", () => rmSync(join(tree, "link"))],
      ["the whole tree deleted", () => rmSync(tree, { recursive: true })],
    ];
    for (const [what, change] of changes) {
      change();
      const noticed = await build(ws);
      expect([what, noticed.fast, printed(noticed)]).toEqual([what, false, ALL_CACHED]);
      expect([what, snapshot(tree)]).toEqual([what, FINAL_TREE]);
      expect(printed(await untilFast(ws))).toEqual(ALL_CACHED);
    }
    expect(runCounts(ws)).toEqual([1, 1, 1]);
  });
});
