import { describe, expect, test } from "vitest";
import { testWorkspace, type Workspace } from "./test-support/workspace.js";

/** A shell command for task `name` that writes its start and end (ms since the epoch) to times.log around `body`. */
const timed = (name: string, body = "sleep 0.2"): string => `echo "start ${name} $(date +%s%3N)" >> times.log; ${body}; echo "end ${name} $(date +%s%3N)" >> times.log`;

interface Span {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

/** The spans times.log records, by start. */
function spans(ws: Workspace): Span[] {
  const starts = new Map<string, number>();
  const out: Span[] = [];
  for (const line of ws.read("times.log").split("\n").filter(Boolean)) {
    const [what, name, at] = line.split(" ") as [string, string, string];
    if (what === "start") starts.set(name, Number(at));
    else out.push({ name, start: starts.get(name)!, end: Number(at) });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** The most spans of `names` that overlap at any instant. */
function mostAtOnce(all: readonly Span[], names?: readonly string[]): number {
  const chosen = names === undefined ? all : all.filter((s) => names.includes(s.name));
  const edges = chosen.flatMap((s) => [[s.start, 1] as const, [s.end, -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, step] of edges) most = Math.max(most, (now += step));
  return most;
}

describe("resource pools on one machine", () => {
  test("26.3: a pool of size 1 never runs two of its holders at once, even with -j 4", async () => {
    const names = ["d1", "d2", "d3", "d4"];
    const ws = testWorkspace({
      "Buildfile.ts": `import { pool, task } from "rbuild";
const staging = pool("staging", { size: 1 });
for (const name of ${JSON.stringify(names)}) task({ name, pure: false, pool: staging, run: ${JSON.stringify(timed("NAME"))}.replaceAll("NAME", name) });
task({ name: "all", deps: ${JSON.stringify(names)} });
`,
    });
    const result = await ws.run(["all", "-j", "4", "--output", "plain"]);
    expect([result.exitCode, result.stderr]).toEqual([0, "rbuild: ok: 4 ran, 0 cached in <t>\n"]);
    const all = spans(ws);
    expect(all.map((s) => s.name).sort()).toEqual(names);
    for (let i = 1; i < all.length; i++) expect(all[i]!.start).toBeGreaterThanOrEqual(all[i - 1]!.end);
  }, 120_000);

  test("26.3: -j 4 with a pool of size 2: two holders run together, never three, beside tasks in no pool", async () => {
    const pooled = ["p1", "p2", "p3", "p4", "p5", "p6"];
    // The first two holders wait for each other: a pool that let only one run would fail them.
    const meet = `touch started-NAME; for i in $(seq 600); do [ $(ls started-* | wc -l) -ge 2 ] && break; sleep 0.1; done; [ $(ls started-* | wc -l) -ge 2 ]`;
    const ws = testWorkspace({
      "Buildfile.ts": `import { pool, task } from "rbuild";
const two = pool("two", { size: 2 });
for (const name of ${JSON.stringify(pooled)}) task({ name, pure: false, pool: two, run: ${JSON.stringify(timed("NAME", meet))}.replaceAll("NAME", name) });
for (const name of ["f1", "f2"]) task({ name, pure: false, run: ${JSON.stringify(timed("NAME"))}.replaceAll("NAME", name) });
task({ name: "all", deps: ${JSON.stringify([...pooled, "f1", "f2"])} });
`,
    });
    const result = await ws.run(["all", "-j", "4", "--output", "plain"]);
    expect([result.exitCode, result.stderr]).toEqual([0, "rbuild: ok: 8 ran, 0 cached in <t>\n"]);
    const all = spans(ws);
    expect(all.length).toBe(8);
    expect(mostAtOnce(all, pooled)).toBeLessThanOrEqual(2);
    expect(mostAtOnce(all)).toBeLessThanOrEqual(4);
  }, 120_000);

  test("26.3: a task waiting for its pool takes no -j slot: with -j 2 a free task runs while one holder waits for it", async () => {
    // a1 holds the pool until z has run; a2 waits for the pool. Were a2 to hold the second slot while it waits, z could never run.
    const ws = testWorkspace({
      "Buildfile.ts": `import { pool, task } from "rbuild";
const one = pool("one", { size: 1 });
task({ name: "a1", pure: false, pool: one, run: "for i in $(seq 600); do [ -e z.done ] && break; sleep 0.1; done; [ -e z.done ]" });
task({ name: "a2", pure: false, pool: one, run: "true" });
task({ name: "z", pure: false, run: "touch z.done" });
task({ name: "all", deps: ["a1", "a2", "z"] });
`,
    });
    const result = await ws.run(["all", "-j", "2", "--output", "plain"]);
    expect([result.exitCode, result.stderr]).toEqual([0, "rbuild: ok: 3 ran, 0 cached in <t>\n"]);
  }, 120_000);

  test("26.3: pool membership does not enter the key: a cached task stays cached when it joins a pool", async () => {
    const buildfile = (pool: string) => `import { pool, task } from "rbuild";
const p = pool("p", { size: 1 });
task({ name: "gen", inputs: ["src/**"], outputs: ["out.txt"], ${pool} run: "cat src/a.txt > out.txt" });
`;
    const ws = testWorkspace({ "Buildfile.ts": buildfile(""), "src/a.txt": "alpha\n" });
    expect((await ws.run(["gen", "--output", "plain"])).stdout).toBe("> gen\n✓ gen (<t>)\n");
    ws.write({ "Buildfile.ts": buildfile("pool: p,") });
    const again = await ws.run(["gen", "--output", "plain"]);
    expect([again.exitCode, again.stdout, again.stderr]).toEqual([0, "✓ gen (cached, local)\n", "rbuild: ok: 0 ran, 1 cached in <t>\n"]);
  }, 120_000);

  test("26.3: two pools with one name and different sizes are refused before the build, at the task's line; a bad size at the pool's", async () => {
    const ws = testWorkspace({
      "Buildfile.ts": `import { pool, task } from "rbuild";
task({ name: "a", pure: false, pool: pool("staging", { size: 1 }), run: "true" });
task({ name: "b", pure: false, pool: pool("staging", { size: 3 }), run: "true" });
task({ name: "c", pure: false, pool: pool("zero", { size: 0 }), run: "true" });
`,
    });
    const result = await ws.run(["b", "--output", "plain"]);
    expect([result.exitCode, result.stdout, result.stderr]).toEqual([
      2,
      "",
      'rbuild: error: Buildfile.ts:4:38: Pool "zero": its size must be a positive whole number, got 0\n' +
        'rbuild: error: Buildfile.ts:3:1: Task "b": `pool` names pool "staging" { size: 3 }, but task "a" names a pool "staging" { size: 1 }: two pools may not share a name. Declare the pool once and use that object in both tasks, or rename one\n',
    ]);
  }, 120_000);
});
