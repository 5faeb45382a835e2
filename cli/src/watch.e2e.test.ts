/**
 * `rbuild watch` end to end (issue 24.3): the built CLI watching a temp
 * workspace, edited by the test; builds told apart by their JSON events.
 * Waits are for conditions (a line, a file, an event), with generous limits;
 * "stays idle" waits a fixed few seconds, then checks that nothing happened.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, test } from "vitest";
import type { ResultPromise } from "execa";
import { eventually, isAlive, livePidsWith, parentOf } from "../../test-support/processes.js";
import { normalize, testWorkspace, type Workspace } from "./test-support/workspace.js";

interface Event {
  readonly type: string;
  readonly task?: string;
  readonly ok?: boolean;
  readonly result?: { readonly name: string; readonly status: string; readonly failure?: { readonly reason: string } };
}

/** A running `rbuild watch`, its output read as it comes. */
class Watch {
  readonly #ws: Workspace;
  readonly child: ResultPromise<{ reject: false }>;
  #stdout = "";
  #stderr = "";

  constructor(ws: Workspace, args: readonly string[]) {
    this.#ws = ws;
    this.child = ws.start(["watch", ...args]);
    this.child.stdout?.on("data", (chunk: Buffer) => void (this.#stdout += chunk.toString()));
    this.child.stderr?.on("data", (chunk: Buffer) => void (this.#stderr += chunk.toString()));
  }

  /** Its stderr lines so far, normalised. */
  stderrLines(): string[] {
    return normalize(this.#stderr, this.#ws.root).split("\n").filter((line) => line !== "");
  }

  /** The JSON events of each build so far, one list per build. */
  builds(): Event[][] {
    const builds: Event[][] = [];
    for (const line of this.#stdout.split("\n")) {
      if (!line.startsWith("{")) continue;
      const event = JSON.parse(line) as Event;
      if (event.type === "build-started") builds.push([]);
      builds.at(-1)?.push(event);
    }
    return builds;
  }

  /** How many times it has said it is watching: builds finished and waited after. */
  watching(): number {
    return this.stderrLines().filter((line) => line.startsWith("rbuild: watching")).length;
  }

  /** Waits (100 s at most: the machine is shared) until `check` holds. */
  async until(what: string, check: () => boolean): Promise<void> {
    for (const deadline = Date.now() + 100_000; Date.now() < deadline; await sleep(20)) if (check()) return;
    throw new Error(`gave up waiting for ${what}; stderr:\n${this.#stderr}\nstdout:\n${this.#stdout}`);
  }

  /** Ctrl-C: its exit status. */
  async interrupt(): Promise<number | undefined> {
    this.child.kill("SIGINT");
    return (await this.child).exitCode;
  }
}

let running: Watch[] = [];
afterEach(async () => {
  for (const watch of running) if (watch.child.exitCode === undefined) watch.child.kill("SIGKILL");
  running = [];
});

function watch(ws: Workspace, args: readonly string[]): Watch {
  const started = new Watch(ws, args);
  running.push(started);
  return started;
}

const started = (build: Event[] | undefined): string[] => (build ?? []).filter((e) => e.type === "task-started").map((e) => e.task!);
const finished = (build: Event[] | undefined): [string, string][] =>
  (build ?? []).filter((e) => e.type === "task-finished" && e.result !== undefined).map((e) => [e.result!.name, e.result!.status]);

/** Every live process below `pid`. */
function descendants(pid: number): number[] {
  const all = readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).map(Number);
  const below = new Set<number>([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const other of all) {
      const parent = parentOf(other);
      if (parent !== undefined && below.has(parent) && !below.has(other)) {
        below.add(other);
        grew = true;
      }
    }
  }
  below.delete(pid);
  return [...below].filter(isAlive);
}

const TWO_TASKS = {
  "Buildfile.ts": `import { task } from "rbuild";
task({ name: "a", inputs: ["src/a.txt"], outputs: ["out/a.txt"], run: "mkdir -p out && cp src/a.txt out/a.txt" });
task({ name: "b", inputs: ["src/b.txt"], outputs: ["out/b.txt"], run: "mkdir -p out && cp src/b.txt out/b.txt" });
task({ name: "all", deps: ["a", "b"] });
`,
  "src/a.txt": "a1\n",
  "src/b.txt": "b1\n",
};

// Each test waits for several builds on a machine that may be loaded.
describe("rbuild watch", { timeout: 180_000 }, () => {
  test("24.3: an edit rebuilds exactly once, only the task that reads it; Ctrl-C while waiting exits 130", async () => {
    const ws = testWorkspace(TWO_TASKS);
    const w = watch(ws, ["all", "--output", "json"]);
    await w.until("the first build", () => w.watching() === 1);
    expect(started(w.builds()[0]).sort()).toEqual(["a", "b"]);

    ws.write({ "src/a.txt": "a2\n" });
    await w.until("the rebuild", () => w.watching() === 2);
    // Time enough for a second rebuild, were one coming (the quiet period is 50 ms).
    await sleep(2000);
    const builds = w.builds();
    expect(builds.length).toBe(2);
    expect(started(builds[1])).toEqual(["a"]);
    expect(finished(builds[1])).toEqual([
      ["b", "cached"],
      ["a", "ran"],
      ["all", "ran"],
    ]);
    expect(ws.read("out/a.txt")).toBe("a2\n");
    expect(await w.interrupt()).toBe(130);
    expect(w.stderrLines()).toEqual([
      "rbuild: watching 2 tasks' inputs… (Ctrl-C stops)",
      "rbuild: change: src/a.txt → rebuilding",
      "rbuild: watching 2 tasks' inputs… (Ctrl-C stops)",
    ]);
  });

  test("24.3: an idle watch stays idle: the outputs its build writes, the store, .git and node_modules start no build", async () => {
    const ws = testWorkspace({
      // "use" reads every .txt file: what "gen" writes among them too, which is its output, no change to watch for.
      "Buildfile.ts": `import { task } from "rbuild";
task({ name: "gen", inputs: ["src/**"], outputs: ["dist/**"], run: "mkdir -p dist && cp src/x.txt dist/x.txt && touch .git/touched.txt node_modules/pkg/touched.txt" });
task({ name: "use", deps: ["gen"], inputs: ["**/*.txt"], outputs: ["use.out"], run: "cat dist/x.txt > use.out" });
`,
      "src/x.txt": "x\n",
      ".git/HEAD": "ref: refs/heads/main\n",
      "node_modules/pkg/index.txt": "pkg\n",
    });
    const w = watch(ws, ["use", "--output", "json"]);
    await w.until("the first build", () => w.watching() === 1);
    expect(finished(w.builds()[0])).toEqual([
      ["gen", "ran"],
      ["use", "ran"],
    ]);
    await sleep(3000);
    expect(w.builds().length).toBe(1);
    // The first build's writes may come before the watcher is ready: the next build's come after.
    ws.write({ "src/x.txt": "x2\n" });
    await w.until("the rebuild", () => w.watching() === 2);
    await sleep(3000);
    expect(w.builds().length).toBe(2);
    expect(ws.read("use.out")).toBe("x2\n");
    expect(await w.interrupt()).toBe(130);
    expect(w.stderrLines()).toEqual([
      "rbuild: watching 2 tasks' inputs… (Ctrl-C stops)",
      "rbuild: change: src/x.txt → rebuilding",
      "rbuild: watching 2 tasks' inputs… (Ctrl-C stops)",
    ]);
  });

  test("24.3: an edit during a long task stops it (and nothing it started is left), the task it does not touch finishes, and the rebuild completes", async () => {
    const marker = `rbuild-watch-stale-${process.pid}`;
    const ws = testWorkspace({
      "Buildfile.ts": `import { task } from "rbuild";
task({ name: "slow", inputs: ["src/slow.txt"], outputs: ["out/slow.txt"],
  run: "touch slow.started; if [ \\"$(cat src/slow.txt)\\" = v1 ]; then sleep 300; : ${marker}; fi; mkdir -p out && cp src/slow.txt out/slow.txt" });
task({ name: "other", inputs: ["src/other.txt"], outputs: ["out/other.txt"],
  run: "touch other.started; while [ ! -e release ]; do sleep 0.05; done; mkdir -p out && cp src/other.txt out/other.txt" });
task({ name: "all", deps: ["slow", "other"] });
`,
      "src/slow.txt": "v1\n",
      "src/other.txt": "o1\n",
    });
    const w = watch(ws, ["all", "-j", "2", "--output", "json"]);
    await w.until("both tasks to start", () => existsSync(join(ws.root, "slow.started")) && existsSync(join(ws.root, "other.started")));
    // The watcher is ready once the build is planned; a fresh edit is seen either way, but give it a moment on a loaded machine.
    await w.until("the long sleep", () => livePidsWith(marker).length > 0);
    await sleep(500);
    ws.write({ "src/slow.txt": "v2\n" });
    await w.until("the stale task to stop", () => finished(w.builds()[0]).some(([name]) => name === "slow"));
    expect(finished(w.builds()[0])).toEqual([
      ["slow", "failed"],
      ["all", "skipped"],
    ]);
    expect(w.builds()[0]!.find((e) => e.result?.name === "slow")?.result?.failure?.reason).toBe("interrupted");
    expect(livePidsWith(marker)).toEqual([]);
    // The task the edit did not make stale runs on, and finishes.
    ws.write({ release: "" });
    await w.until("the rebuild", () => w.builds().length === 2 && w.watching() >= 1);
    const [first, second] = w.builds();
    expect(finished(first)).toEqual([
      ["slow", "failed"],
      ["all", "skipped"],
      ["other", "ran"],
    ]);
    expect(started(second)).toEqual(["slow"]);
    expect(finished(second)).toEqual([
      ["other", "cached"],
      ["slow", "ran"],
      ["all", "ran"],
    ]);
    expect(ws.read("out/slow.txt")).toBe("v2\n");
    expect(await w.interrupt()).toBe(130);
    expect(w.stderrLines()).toEqual(["rbuild: change: src/slow.txt → rebuilding", "rbuild: watching 2 tasks' inputs… (Ctrl-C stops)"]);
  });

  test("24.3: a Buildfile change reloads it (a new task runs); a Buildfile error is reported and the watch waits for the fix", async () => {
    const ws = testWorkspace(TWO_TASKS);
    ws.write({ "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "a", inputs: ["src/a.txt"], outputs: ["out/a.txt"], run: "mkdir -p out && cp src/a.txt out/a.txt" });\ntask({ name: "all", deps: ["a"] });\n` });
    const w = watch(ws, ["all", "--output", "json"]);
    await w.until("the first build", () => w.watching() === 1);
    expect(started(w.builds()[0])).toEqual(["a"]);

    ws.write({ "Buildfile.ts": TWO_TASKS["Buildfile.ts"] });
    await w.until("the reload", () => w.watching() === 2);
    expect(started(w.builds()[1])).toEqual(["b"]);

    ws.write({ "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "a", inputs: 7 });\n` });
    await w.until("the error", () => w.watching() === 3);
    expect(w.builds().length).toBe(2);
    ws.write({ "Buildfile.ts": TWO_TASKS["Buildfile.ts"], "src/b.txt": "b2\n" });
    await w.until("the fixed build", () => w.watching() === 4);
    expect(started(w.builds()[2])).toEqual(["b"]);
    expect(await w.interrupt()).toBe(130);
    const lines = w.stderrLines();
    expect(lines.filter((line) => !line.startsWith("rbuild: error:"))).toEqual([
      "rbuild: watching 1 task's inputs… (Ctrl-C stops)",
      "rbuild: change: Buildfile.ts → rebuilding",
      "rbuild: watching 2 tasks' inputs… (Ctrl-C stops)",
      "rbuild: change: Buildfile.ts → rebuilding",
      "rbuild: watching the Buildfile for a change… (Ctrl-C stops)",
      expect.stringMatching(/^rbuild: change: (Buildfile\.ts, src\/b\.txt|Buildfile\.ts|src\/b\.txt, Buildfile\.ts) → rebuilding$/),
      "rbuild: watching 2 tasks' inputs… (Ctrl-C stops)",
    ]);
    expect(lines.filter((line) => line.startsWith("rbuild: error:")).length).toBe(1);
  });

  test("24.3: an input directory that does not exist yet is seen when it is made", async () => {
    const ws = testWorkspace({
      "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "gen", inputs: ["later/deep/**"], outputs: ["out.txt"], run: "cat later/deep/*.txt > out.txt 2>/dev/null || echo none > out.txt" });\n`,
    });
    const w = watch(ws, ["gen", "--output", "json"]);
    await w.until("the first build", () => w.watching() === 1);
    expect(ws.read("out.txt")).toBe("none\n");
    ws.write({ "later/deep/a.txt": "made\n" });
    await w.until("the rebuild", () => w.watching() === 2);
    expect(ws.read("out.txt")).toBe("made\n");
    expect(await w.interrupt()).toBe(130);
  });

  test("24.3: a failing build keeps watching, and the fix makes it pass", async () => {
    const ws = testWorkspace({
      "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "check", inputs: ["src/x.txt"], run: "grep -q good src/x.txt" });\n`,
      "src/x.txt": "bad\n",
    });
    const w = watch(ws, ["check", "--output", "plain"]);
    await w.until("the failed build", () => w.watching() === 1);
    ws.write({ "src/x.txt": "good\n" });
    await w.until("the fixed build", () => w.watching() === 2);
    expect(await w.interrupt()).toBe(130);
    expect(w.stderrLines()).toEqual([
      'error: Task "check" failed: its command exited with code 1.',
      "rbuild: failed: 0 ran, 0 cached, 1 failed in <t>",
      "rbuild: watching 1 task's inputs… (Ctrl-C stops)",
      "rbuild: change: src/x.txt → rebuilding",
      "rbuild: ok: 1 ran, 0 cached in <t>",
      "rbuild: watching 1 task's inputs… (Ctrl-C stops)",
    ]);
  });

  test("24.3: Ctrl-C during a build stops it, exits 130 and leaves no process behind", async () => {
    const marker = `rbuild-watch-sigint-${process.pid}`;
    const ws = testWorkspace({
      "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "long", inputs: ["src/**"], run: "touch long.started; sleep 300; : ${marker}" });\n`,
      "src/x.txt": "x\n",
    });
    const w = watch(ws, ["long", "--output", "plain"]);
    await w.until("the task to start", () => existsSync(join(ws.root, "long.started")) && livePidsWith(marker).length > 0);
    const below = descendants(w.child.pid!);
    expect(below.length).toBeGreaterThan(1); // The process helper, the shell, sleep.
    expect(await w.interrupt()).toBe(130);
    expect(livePidsWith(marker)).toEqual([]);
    // The process helper ends when rbuild does: it may take a moment after the exit.
    expect(await eventually(() => below.every((pid) => !isAlive(pid)))).toBe(true);
    expect(w.stderrLines().slice(-2)).toEqual(['error: Task "long" was interrupted.', "rbuild: interrupted: 0 ran, 0 cached, 1 interrupted in <t>"]);
  });
  test("24.3: Ctrl-C while a rebuild loads the Buildfile ends the watch without running the build", async () => {
    const ws = testWorkspace({
      // Loaded again after the first build, the Buildfile says so and takes 5 s: the interrupt comes meanwhile.
      "Buildfile.ts": `import { existsSync, writeFileSync } from "node:fs";
import { task } from "rbuild";
if (existsSync("built")) {
  writeFileSync("loading", "");
  await new Promise((resolve) => setTimeout(resolve, 5000));
}
task({ name: "t", inputs: ["src/**"], run: "touch built; echo ran >> ran.log" });
`,
      "src/x.txt": "x\n",
    });
    const w = watch(ws, ["t", "--output", "plain"]);
    await w.until("the first build", () => w.watching() === 1);
    ws.write({ "src/x.txt": "x2\n" });
    await w.until("the reload", () => existsSync(join(ws.root, "loading")));
    expect(await w.interrupt()).toBe(130);
    expect(ws.read("ran.log")).toBe("ran\n");
  });
  test("24.3: a Buildfile edit during a build stops its running tasks, and the rebuild runs the new definitions", async () => {
    const marker = `rbuild-watch-buildfile-${process.pid}`;
    const buildfile = (run: string): string => `import { task } from "rbuild";\ntask({ name: "long", inputs: ["src/**"], outputs: ["out.txt"], run: ${JSON.stringify(run)} });\n`;
    const ws = testWorkspace({ "Buildfile.ts": buildfile(`touch long.started; sleep 300; : ${marker}`), "src/x.txt": "x\n" });
    const w = watch(ws, ["long", "--output", "json"]);
    await w.until("the long task", () => existsSync(join(ws.root, "long.started")) && livePidsWith(marker).length > 0);
    await sleep(500);
    ws.write({ "Buildfile.ts": buildfile("echo quick > out.txt") });
    await w.until("the rebuild", () => w.watching() === 1);
    expect(livePidsWith(marker)).toEqual([]);
    expect(w.builds().map(finished)).toEqual([[["long", "failed"]], [["long", "ran"]]]);
    expect(ws.read("out.txt")).toBe("quick\n");
    expect(await w.interrupt()).toBe(130);
    expect(w.stderrLines()).toEqual(["rbuild: change: Buildfile.ts → rebuilding", "rbuild: watching 1 task's inputs… (Ctrl-C stops)"]);
  });
});
