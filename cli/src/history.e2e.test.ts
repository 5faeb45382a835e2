import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, readlinkSync, readdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { testWorkspace, type Workspace } from "./test-support/workspace.js";

const DIGEST = expect.stringMatching(/^[0-9a-f]{64}$/);
const TIME = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

/**
 * gen writes three outputs (a file from its input, one of its own, a link);
 * flaky fails with a temp path and the number in fail.txt in its message;
 * other fails with another message.
 */
const BUILDFILE = `import { task } from "rbuild";
export const gen = task({
  name: "gen",
  inputs: ["src/**"],
  outputs: ["out/**"],
  run: "mkdir -p out/sub && cp src/a.txt out/a.txt && echo nested > out/sub/b.txt && ln -sf a.txt out/link && echo generated",
});
task({ name: "flaky", inputs: ["fail.txt"], run: "echo \\"cannot write $(mktemp -u) after $(cat fail.txt)ms\\" >&2; exit 3" });
task({ name: "other", run: "echo 'something else broke' >&2; exit 4" });
`;

function workspace(): Workspace {
  return testWorkspace({ "Buildfile.ts": BUILDFILE, "src/a.txt": "first\n", "fail.txt": "12" });
}

async function ok(ws: Workspace, args: string[]): Promise<string> {
  const result = await ws.run(args);
  expect({ exitCode: result.exitCode, stderr: result.stderr }).toMatchObject({ exitCode: 0 });
  return result.stdout;
}

async function json(ws: Workspace, args: string[]): Promise<unknown> {
  return JSON.parse(await ok(ws, [...args, "--json"]));
}

/** Text output with the times shown replaced, so it can be asserted whole. */
const timesMasked = (text: string): string => text.replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/g, "<time>").replaceAll(hostname(), "<host>");

/** The same with durations replaced too, and a table's columns two spaces apart (the masks change their widths). */
const masked = (text: string): string =>
  timesMasked(text)
    .replace(/\b\d+(\.\d)?m?s\b/g, "<d>")
    .replace(/ {2,}/g, "  ");

describe("rbuild history, errors and show", () => {
  test("24.5: history lists the builds newest first, a no-op build as a repeat; --task lists one task's runs", async () => {
    const ws = workspace();
    await ok(ws, ["gen"]);
    await ok(ws, ["gen"]); // Answered from the freshness record: folded into the history later.
    ws.write({ "src/a.txt": "second\n" });
    await ok(ws, ["gen"]);
    const builds = (await json(ws, ["history"])) as Record<string, unknown>[];
    const build = (id: number, tasks: object, repeated: number | null) => ({
      build: id,
      started: TIME,
      finished: TIME,
      durationMs: expect.any(Number),
      outcome: "ok",
      targets: ["gen"],
      commit: null,
      host: hostname(),
      repeated,
      tasks: { ran: 0, cached: 0, failed: 0, skipped: 0, interrupted: 0, ...tasks },
    });
    expect(builds).toEqual([build(3, { ran: 1 }, null), build(2, { cached: 1 }, 1), build(1, { ran: 1 }, null)]);
    expect(masked(await ok(ws, ["history", "--limit", "2"]))).toBe(
      [
        "build  started  duration  outcome  tasks  commit  host  targets",
        "3  <time>  <d>  ok  1 ran  -  <host>  gen",
        "2  <time>  <d>  ok  all up to date (as build 1)  -  <host>  gen",
        "",
      ].join("\n"),
    );
    const runs = (await json(ws, ["history", "--task", "gen"])) as Record<string, unknown>[];
    expect(runs.map((r) => [r.run, r.build, r.status, r.cache, r.exitCode, r.reasons])).toEqual([
      [0, 3, "ran", null, 0, ["input-changed: src/a.txt"]],
      [1, 2, "cached", "local", 0, []],
      [2, 1, "ran", null, 0, ["no-record"]],
    ]);
    expect(runs[0]).toMatchObject({ task: "gen", key: DIGEST, log: DIGEST, outputsDigest: DIGEST, started: TIME });
    expect(masked(await ok(ws, ["history", "--task", "gen", "--limit", "1"]))).toBe(
      [
        "gen: the last run, newest first (`rbuild show gen --run N` shows one)",
        "run  build  started  status  duration  exit  reasons",
        "0  3  <time>  ran  <d>  0  input-changed: src/a.txt",
        "",
      ].join("\n"),
    );
  });

  test("24.5: errors groups two failures that differ only in a number and a temp path into one row with a count", async () => {
    const ws = workspace();
    expect((await ws.run(["flaky"])).exitCode).toBe(1);
    ws.write({ "fail.txt": "345" });
    expect((await ws.run(["flaky"])).exitCode).toBe(1);
    expect((await ws.run(["other"])).exitCode).toBe(1);
    const groups = (await json(ws, ["errors"])) as Record<string, unknown>[];
    expect(groups).toEqual([
      {
        task: "other",
        count: 1,
        firstSeen: TIME,
        lastSeen: TIME,
        lastBuild: 3,
        exitCode: 4,
        error: 'Task "other" failed: its command exited with code 4.',
        tail: ["something else broke"],
        signature: 'Task "other" failed: its command exited with code <n>.\nsomething else broke',
      },
      {
        task: "flaky",
        count: 2,
        firstSeen: TIME,
        lastSeen: TIME,
        lastBuild: 2,
        exitCode: 3,
        error: 'Task "flaky" failed: its command exited with code 3.',
        tail: [expect.stringMatching(/^cannot write \/tmp\/tmp\.\w+ after 345ms$/)],
        signature: 'Task "flaky" failed: its command exited with code <n>.\ncannot write <tmp> after <n>ms',
      },
    ]);
    expect(String(groups[1]!.firstSeen) < String(groups[1]!.lastSeen)).toBe(true);
    const text = timesMasked(await ok(ws, ["errors", "--task", "flaky"])).replace(/\/tmp\/tmp\.\w+/, "<tmp>");
    expect(text).toBe(
      [
        "flaky: failed twice, first <time>, last <time> (build 2)",
        '  Task "flaky" failed: its command exited with code 3.',
        "  last log lines:",
        "  | cannot write <tmp> after 345ms",
        "",
      ].join("\n"),
    );
    expect(await ok(ws, ["errors", "--since", "2999-01-01"])).toBe("No failures recorded since 2999-01-01.\n");
    expect(await ok(ws, ["errors", "--task", "gen"])).toBe('No failures recorded for task "gen".\n');
    expect(((await json(ws, ["errors", "--since", "1d"])) as unknown[]).length).toBe(2);
  });

  test("24.5: show prints a task's last run, --run N an older one, and --extract writes that run's outputs into an empty directory", async () => {
    const ws = workspace();
    await ok(ws, ["gen"]);
    ws.write({ "src/a.txt": "second\n" });
    await ok(ws, ["gen"]);
    const last = (await json(ws, ["show", "gen"])) as Record<string, unknown>;
    expect(last).toMatchObject({ task: "gen", run: 0, build: 2, status: "ran", reasons: ["input-changed: src/a.txt"], logLines: [{ stream: "stdout", line: "generated" }] });
    expect(last.outputs).toEqual({
      state: "stored",
      files: [
        { path: "out/a.txt", type: "file", mode: 0o644, size: 7, digest: DIGEST },
        { path: "out/link", type: "symlink", target: "a.txt" },
        { path: "out/sub", type: "dir", mode: 0o755 },
        { path: "out/sub/b.txt", type: "file", mode: 0o644, size: 7, digest: DIGEST },
      ],
    });
    const text = masked(await ok(ws, ["show", "gen", "--run", "1"])).replace(/[0-9a-f]{64}/g, "<digest>");
    expect(text).toBe(
      [
        "gen: run 1 (build 1, <time>, on <host>)",
        "status:  ran in <d>, exit code 0",
        "key:  <digest>",
        "reasons:  no-record",
        "outputs:  4 outputs",
        "  out/a.txt  <digest>",
        "  out/link  -> a.txt",
        "  out/sub  directory",
        "  out/sub/b.txt  <digest>",
        "log:",
        "  | generated",
        "",
      ].join("\n"),
    );

    const into = join(ws.root, "old");
    const extracted = await ws.run(["show", "gen", "--run", "1", "--extract", "old"]);
    expect(extracted.exitCode).toBe(0);
    expect(extracted.stdout.endsWith("\nWrote its 4 outputs to <root>/old\n")).toBe(true);
    expect([readFileSync(join(into, "out", "a.txt"), "utf8"), readFileSync(join(into, "out", "sub", "b.txt"), "utf8"), readlinkSync(join(into, "out", "link"))]).toEqual(["first\n", "nested\n", "a.txt"]);
    // The workspace's own outputs are the last run's, untouched.
    expect(ws.read("out/a.txt")).toBe("second\n");

    mkdirSync(join(ws.root, "full"));
    writeFileSync(join(ws.root, "full", "keep.txt"), "mine");
    expect(await ws.run(["show", "gen", "--extract", "full"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: "rbuild: error: --extract <root>/full is not empty; give a new or empty directory, so that nothing in it is overwritten.\nRun `rbuild --help` for usage.\n",
    });
    expect(readdirSync(join(ws.root, "full"))).toEqual(["keep.txt"]);

    // gc down to nothing: the run is still in the history, its outputs are not in the cache.
    await ok(ws, ["cache", "gc", "--max-size", "0"]);
    expect(masked(await ok(ws, ["show", "gen", "--run", "1"])).split("\n").slice(4)).toEqual([
      "outputs:  none here: they are no longer in the cache (removed by `rbuild cache gc`, or the cache was started over)",
      "log:  no longer in the cache",
      "",
    ]);
    expect(await ws.run(["show", "gen", "--extract", "later"])).toEqual({
      exitCode: 1,
      stdout: "",
      stderr: 'rbuild: error: cannot extract the outputs of task "gen" run 0 (build 2): they are no longer in the cache (removed by `rbuild cache gc`, or the cache was started over).\n',
    });
  });

  test("24.5: show of a failed run has its error and log, and no outputs", async () => {
    const ws = workspace();
    await ws.run(["other"]);
    expect(masked(await ok(ws, ["show", "other"])).replace(/[0-9a-f]{64}/g, "<digest>")).toBe(
      [
        "other: run 0 (build 1, <time>, on <host>)",
        "status:  failed in <d>, exit code 4",
        "key:  <digest>",
        "reasons:  no-record",
        'error:  Task "other" failed: its command exited with code 4.',
        "outputs:  none here: it failed, and a failed run stores no outputs",
        "log:",
        "  | something else broke",
        "",
      ].join("\n"),
    );
  });

  test("24.5: clear errors: no index yet, an unknown task with the names near it, a task with no run yet, a run past the oldest, a bad --since", async () => {
    const ws = workspace();
    expect(await ws.run(["history"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: "rbuild: error: No builds are recorded in <root>/.rbuild yet; `rbuild history`, `errors` and `show` read what builds record. Run a build first, e.g. `rbuild <task>`.\n",
    });
    await ok(ws, ["gen"]);
    const unknown = 'rbuild: error: Unknown task "gem". Did you mean "gen"? Run `rbuild list` to see every task.\n';
    expect(await ws.run(["show", "gem"])).toEqual({ exitCode: 2, stdout: "", stderr: unknown });
    expect(await ws.run(["history", "--task", "gem"])).toEqual({ exitCode: 2, stdout: "", stderr: unknown });
    expect(await ws.run(["errors", "--task", "gem"])).toEqual({ exitCode: 2, stdout: "", stderr: unknown });
    expect(await ws.run(["show", "flaky"])).toEqual({ exitCode: 2, stdout: "", stderr: 'rbuild: error: Task "flaky" has no recorded run yet: build it first (`rbuild flaky`).\n' });
    expect(await ok(ws, ["history", "--task", "flaky"])).toBe('Task "flaky" has no recorded runs yet.\n');
    expect(await ws.run(["show", "gen", "--run", "3"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: 'rbuild: error: Task "gen" has 1 recorded run, so --run 3 is past the oldest: use --run 0 (the last) to 0; `rbuild history --task gen` lists them.\n',
    });
    expect(await ws.run(["errors", "--since", "yesterday"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        'rbuild: error: --since needs a date such as 2026-12-01, a date and time such as 2026-12-01T09:30, or a time ago such as 3d (also 30m, 6h, 2w); got "yesterday".\nRun `rbuild --help` for usage.\n',
    });
    expect((await ws.run(["history", "gen"])).stderr).toBe(
      'rbuild: error: `rbuild history` takes no task names; for one task\'s, use --task gen. To run a task named "history", use `rbuild run history`.\nRun `rbuild --help` for usage.\n',
    );
    expect((await ws.run(["gen", "--limit", "2"])).stderr).toBe("rbuild: error: --limit goes with `rbuild history`.\nRun `rbuild --help` for usage.\n");
  });

  test("24.5: a build in a git repository records its commit, a build answered from the freshness record too", async () => {
    const ws = workspace();
    const env = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t", HOME: ws.root };
    const git = (...args: string[]): string => execFileSync("git", args, { cwd: ws.root, env, encoding: "utf8" }).trim();
    writeFileSync(join(ws.root, ".gitignore"), ".rbuild/\nout/\n");
    git("init", "-q", "-b", "main");
    git("add", ".");
    git("commit", "-q", "-m", "one");
    await ok(ws, ["gen"]);
    await ok(ws, ["gen"]);
    const builds = (await json(ws, ["history"])) as { commit: string; repeated: number | null }[];
    expect(builds.map((b) => [b.commit, b.repeated])).toEqual([
      [git("rev-parse", "HEAD"), 1],
      [git("rev-parse", "HEAD"), null],
    ]);
  });
});
