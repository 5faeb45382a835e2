/**
 * `--since <ref>` in real git repositories made by the tests: which tasks a
 * committed, staged, unstaged, untracked, deleted or renamed file selects,
 * their dependents, a workspace below the repository's top, odd file names,
 * the Buildfile's own sources, `--filter`, `rbuild graph`, and each error.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, onTestFinished, test } from "vitest";
import { testWorkspace, type Workspace } from "./test-support/workspace.js";

/** git with no user or system configuration, and a fixed author. */
function git(cwd: string, ...args: string[]): string {
  const result = spawnSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.com",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.com",
    },
  });
  if (result.status !== 0) throw new Error(`git ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}

/** A new repository at `dir` holding what is there, committed on main. */
function repository(dir: string): void {
  git(dir, "init", "-q", "-b", "main");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "first");
}

/** The tasks a `--summary` file lists, each with how it ended. */
function summarised(ws: Workspace, file: string): string[] {
  const summary = JSON.parse(ws.read(file)) as { tasks: { name: string; status: string; cache: string | null }[] };
  return summary.tasks.map((task) => `${task.name}: ${task.status}${task.cache === null ? "" : ` (${task.cache})`}`).sort();
}

/** One task per directory, each reading that directory and writing out/<dir>.txt; `all` groups them. */
function readers(dirs: readonly string[]): string {
  return `import { task } from "rbuild";
const dirs = ${JSON.stringify(dirs)};
task({ name: "all", deps: dirs.map((dir) => task({ name: dir, inputs: [dir + "/**"], outputs: ["out/" + dir + ".txt"], run: "mkdir -p out && ls " + dir + " > out/" + dir + ".txt" })) });
`;
}

describe("--since", () => {
  test("24.4: committed, staged, unstaged, untracked, deleted and renamed files select the tasks that read them, from where the branch left main; the rest is neither run nor checked", async () => {
    const dirs = ["committed", "staged", "unstaged", "untracked", "deleted", "renamed-from", "renamed-to", "ignored", "main-only", "quiet"];
    const ws = testWorkspace({
      "Buildfile.ts": readers(dirs),
      ".gitignore": ".rbuild/\nout/\n*.log\n*.json\n",
      ...Object.fromEntries(dirs.map((dir) => [`${dir}/keep.txt`, `${dir}\n`])),
      "deleted/gone.txt": "soon gone\n",
      "renamed-from/moved.txt": "moving\n",
    });
    repository(ws.root);
    git(ws.root, "checkout", "-q", "-b", "feature");
    // main moves on after the branch left it: not the branch's change.
    git(ws.root, "checkout", "-q", "main");
    ws.write({ "main-only/keep.txt": "main moved on\n" });
    git(ws.root, "commit", "-q", "-am", "on main");
    git(ws.root, "checkout", "-q", "feature");

    ws.write({ "committed/keep.txt": "committed change\n" });
    git(ws.root, "commit", "-q", "-am", "on the branch");
    ws.write({ "staged/keep.txt": "staged change\n" });
    git(ws.root, "add", "staged/keep.txt");
    ws.write({ "unstaged/keep.txt": "unstaged change\n", "untracked/new.txt": "new\n", "ignored/debug.log": "ignored by git\n" });
    unlinkSync(join(ws.root, "deleted/gone.txt"));
    git(ws.root, "mv", "renamed-from/moved.txt", "renamed-to/moved.txt");

    const dry = await ws.run(["all", "--since", "main", "-n"]);
    expect(dry).toEqual({
      exitCode: 0,
      stdout:
        "would run  committed     (no-record)\n" +
        "would run  deleted       (no-record)\n" +
        "would run  renamed-from  (no-record)\n" +
        "would run  renamed-to    (no-record)\n" +
        "would run  staged        (no-record)\n" +
        "would run  unstaged      (no-record)\n" +
        "would run  untracked     (no-record)\n" +
        "rbuild: dry run: 7 would run, 0 cached\n",
      stderr: "rbuild: --since main: 7 files changed since main; 7 of the 11 tasks all reaches read them: building these 7 (and what they need).\n",
    });

    const run = await ws.run(["all", "--since", "main", "--summary", "summary.json", "--output-logs", "none"]);
    expect([run.exitCode, run.stderr]).toEqual([0, "rbuild: --since main: 7 files changed since main; 7 of the 11 tasks all reaches read them: building these 7 (and what they need).\nrbuild: ok: 7 ran, 0 cached in <t>\n"]);
    expect(summarised(ws, "summary.json")).toEqual(["committed", "deleted", "renamed-from", "renamed-to", "staged", "unstaged", "untracked"].map((name) => `${name}: ran`));
  });

  test("24.4: what depends on a changed task is built too, what they need is checked, and a group is no target", async () => {
    const ws = testWorkspace({
      "Buildfile.ts": `import { task } from "rbuild";
const lib = task({ name: "lib", inputs: ["lib/**"], outputs: ["out/lib.txt"], run: "mkdir -p out && cat lib/* > out/lib.txt" });
const app = task({ name: "app", deps: [lib], inputs: ["app/**", "out/lib.txt"], outputs: ["out/app.txt"], run: "cat app/* out/lib.txt > out/app.txt" });
const e2e = task({ name: "e2e", deps: [app], inputs: ["out/app.txt"], outputs: ["out/e2e.txt"], run: "cp out/app.txt out/e2e.txt" });
const docs = task({ name: "docs", inputs: ["docs/**"], outputs: ["out/docs.txt"], run: "mkdir -p out && cat docs/* > out/docs.txt" });
task({ name: "all", deps: [e2e, docs] });
`,
      ".gitignore": ".rbuild/\nout/\n*.json\n",
      "lib/l.txt": "lib\n",
      "app/a.txt": "app\n",
      "docs/d.txt": "docs\n",
    });
    repository(ws.root);
    expect((await ws.run(["all"])).exitCode).toBe(0);

    // lib changed: lib and everything downstream of it; docs neither runs nor is checked.
    ws.write({ "lib/l.txt": "lib 2\n" });
    const lib = await ws.run(["all", "--since", "HEAD", "--summary", "lib.json", "--output-logs", "none"]);
    expect([lib.exitCode, lib.stderr]).toEqual([0, "rbuild: --since HEAD: 1 file changed since HEAD; 1 of the 5 tasks all reaches reads it, 2 more depend on it: building app, e2e, lib (and what they need).\nrbuild: ok: 3 ran, 0 cached in <t>\n"]);
    expect(summarised(ws, "lib.json")).toEqual(["app: ran", "e2e: ran", "lib: ran"]);
    expect(ws.read("out/e2e.txt")).toBe("app\nlib 2\n");

    // app changed: app and e2e; lib is what app needs, so it is checked (and found fresh); docs is untouched.
    git(ws.root, "commit", "-q", "-am", "lib 2");
    ws.write({ "app/a.txt": "app 2\n" });
    const app = await ws.run(["all", "--since", "HEAD", "--summary", "app.json", "--output-logs", "none"]);
    expect([app.exitCode, app.stderr]).toEqual([0, "rbuild: --since HEAD: 1 file changed since HEAD; 1 of the 5 tasks all reaches reads it, 1 more depends on it: building app, e2e (and what they need).\nrbuild: ok: 2 ran, 1 cached in <t>\n"]);
    expect(summarised(ws, "app.json")).toEqual(["app: ran", "e2e: ran", "lib: cached (local)"]);

    // rbuild graph draws the same selection.
    const graph = await ws.run(["graph", "--since", "HEAD", "--format", "json"]);
    expect([graph.exitCode, graph.stderr]).toEqual([0, "rbuild: --since HEAD: 1 file changed since HEAD; 1 of the 5 tasks in the Buildfile reads it, 1 more depends on it: building app, e2e (and what they need).\n"]);
    expect((JSON.parse(graph.stdout) as { tasks: { name: string }[] }).tasks.map((task) => task.name)).toEqual(["lib", "app", "e2e"]);

    // Nothing changed: nothing to do, and success, with an empty summary.
    git(ws.root, "commit", "-q", "-am", "app 2");
    const none = await ws.run(["all", "--since", "HEAD", "--summary", "none.json"]);
    expect(none).toEqual({ exitCode: 0, stdout: "", stderr: "rbuild: --since HEAD: no file changed since HEAD: nothing to do.\n" });
    expect(JSON.parse(ws.read("none.json"))).toEqual({ version: 1, ok: true, durationMs: 0, tasks: [], errors: [] });
  });

  test("24.4: a workspace below the repository's top sees its own paths; file names with a space and a newline work", async () => {
    const ws = testWorkspace({
      "elsewhere/x.txt": "not the workspace's\n",
      "tools/Buildfile.ts": readers(["a", "b", "c"]),
      "tools/.gitignore": ".rbuild/\nout/\n",
      "tools/a/keep.txt": "a\n",
      "tools/b/keep.txt": "b\n",
      "tools/c/keep.txt": "c\n",
    });
    repository(ws.root);
    const workspace = join(ws.root, "tools");
    ws.write({ "elsewhere/x.txt": "changed\n", "elsewhere/a/keep.txt": "same name as the workspace's, other place\n", "tools/a/odd name\nwith a newline.txt": "odd\n" });
    renameSync(join(ws.root, "tools/b/keep.txt"), join(ws.root, "tools/b/spaced name.txt"));
    git(ws.root, "add", "-A", "tools/b");
    git(ws.root, "commit", "-q", "-m", "b renamed");

    const run = await ws.run(["all", "--since", "HEAD~1", "-n"], { cwd: workspace });
    expect(run).toEqual({
      exitCode: 0,
      stdout: "would run  a  (no-record)\nwould run  b  (no-record)\nrbuild: dry run: 2 would run, 0 cached\n",
      stderr: "rbuild: --since HEAD~1: 3 files changed since HEAD~1; 2 of the 4 tasks all reaches read them: building a, b (and what they need).\n",
    });
  });

  test("24.4: a change to the Buildfile or to a module it imports may change any task: every task is built, and one line says why", async () => {
    const ws = testWorkspace({
      "Buildfile.ts": `import { task } from "rbuild";
import { reader } from "./tasks/reader.ts";
task({ name: "all", deps: [reader("a"), reader("b")] });
`,
      "tasks/reader.ts": `import { task } from "rbuild";
export const reader = (dir: string) => task({ name: dir, inputs: [dir + "/**"], run: "true" });
`,
      ".gitignore": ".rbuild/\n",
      "a/keep.txt": "a\n",
      "b/keep.txt": "b\n",
    });
    repository(ws.root);
    ws.write({ "tasks/reader.ts": `${ws.read("tasks/reader.ts")}// edited\n` });
    const imported = await ws.run(["all", "--since", "HEAD", "-n"]);
    expect(imported).toEqual({
      exitCode: 0,
      stdout: "would run  a    (no-record)\nwould run  b    (no-record)\ngroup      all  (dep-will-run: a, dep-will-run: b)\nrbuild: dry run: 2 would run, 0 cached\n",
      stderr: "rbuild: --since HEAD: tasks/reader.ts changed, and the Buildfile's code may change any task: building all the tasks all reaches.\n",
    });
    git(ws.root, "commit", "-q", "-am", "edited");
    ws.write({ "Buildfile.ts": `${ws.read("Buildfile.ts")}// edited\n` });
    const buildfile = await ws.run(["a", "--since", "HEAD", "-n"]);
    expect(buildfile.stderr).toBe("rbuild: --since HEAD: Buildfile.ts changed, and the Buildfile's code may change any task: building all the tasks a reaches.\n");
    expect(buildfile.stdout).toBe("would run  a  (no-record)\nrbuild: dry run: 1 would run, 0 cached\n");
  });

  test("24.4: --since with --filter: the filtered packages' tasks, of them the changed ones; scripts()' default inputs leave out declared outputs", async () => {
    const manifest = (name: string, deps: Record<string, string> = {}) => JSON.stringify({ name, version: "1.0.0", scripts: { build: "true" }, dependencies: deps });
    const ws = testWorkspace({
      "package.json": JSON.stringify({ name: "root", private: true, workspaces: ["packages/*"] }),
      "Buildfile.ts": `import { scripts, task } from "rbuild";
export const build = task({ name: "build", deps: scripts("build", { deps: ["^build"], outputs: ["dist/**"] }) });
`,
      ".gitignore": ".rbuild/\n",
      "packages/util/package.json": manifest("util"),
      "packages/util/src/u.txt": "util\n",
      "packages/app/package.json": manifest("app", { util: "1.0.0" }),
      "packages/app/src/a.txt": "app\n",
      "packages/docs/package.json": manifest("docs"),
      "packages/docs/src/d.txt": "docs\n",
    });
    repository(ws.root);
    // A declared output is no input, tracked by git or not.
    ws.write({ "packages/util/dist/out.txt": "built\n" });
    expect(await ws.run(["build", "--since", "HEAD"])).toEqual({
      exitCode: 0,
      stdout: "",
      stderr: "rbuild: --since HEAD: 1 file changed since HEAD, and none is an input of the tasks build reaches: nothing to do.\n",
    });

    ws.write({ "packages/util/src/u.txt": "util 2\n" });
    const app = await ws.run(["build", "--filter", "app", "--since", "HEAD", "-n"]);
    expect(app).toEqual({
      exitCode: 0,
      stdout: "would run  util#build  (no-record)\nwould run  app#build   (dep-will-run: util#build)\nrbuild: dry run: 2 would run, 0 cached\n",
      stderr: "rbuild: --since HEAD: 2 files changed since HEAD; 2 of the 2 tasks app#build reaches read them: building app#build, util#build (and what they need).\n",
    });
    const docs = await ws.run(["build", "--filter", "docs", "--since", "HEAD"]);
    expect(docs).toEqual({ exitCode: 0, stdout: "", stderr: "rbuild: --since HEAD: 2 files changed since HEAD, and none is an input of the tasks docs#build reaches: nothing to do.\n" });
  });
  test("24.4: a file a task's keyParts come from (a lockfile) counts as a change to that task, though it is no input", async () => {
    const ws = testWorkspace({
      "Buildfile.ts": `import { readFileSync } from "node:fs";
import { task } from "rbuild";
const lock = readFileSync("deps.lock", "utf8");
task({ name: "a", keyParts: { lock }, keyPartsFrom: ["deps.lock"], outputs: ["out/a.txt"], run: "mkdir -p out && echo a > out/a.txt" });
task({ name: "b", inputs: ["src/**"], outputs: ["out/b.txt"], run: "mkdir -p out && echo b > out/b.txt" });
task({ name: "all", deps: ["a", "b"] });
`,
      ".gitignore": ".rbuild/\nout/\n",
      "deps.lock": "left-pad 1.0.0\n",
      "src/b.txt": "b\n",
    });
    repository(ws.root);
    ws.write({ "deps.lock": "left-pad 1.0.1\n" });
    const dry = await ws.run(["all", "--since", "HEAD", "-n"]);
    expect([dry.exitCode, dry.stdout]).toEqual([0, "would run  a  (no-record)\nrbuild: dry run: 1 would run, 0 cached\n"]);
    expect(dry.stderr).toBe("rbuild: --since HEAD: 1 file changed since HEAD; 1 of the 3 tasks all reaches reads it: building a (and what it needs).\n");
  });
});

describe("--since errors: exit 2, naming the flag and what to do", () => {
  const files = { "Buildfile.ts": readers(["a"]), ".gitignore": ".rbuild/\n", "a/keep.txt": "a\n" };

  test("24.4: an unknown ref, and a ref that looks like an option", async () => {
    const ws = testWorkspace(files);
    repository(ws.root);
    expect(await ws.run(["all", "--since", "mian"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: "rbuild: error: --since mian: git knows no commit mian; name a branch, tag or commit (main, origin/main, v1.2, HEAD~1), and fetch a remote's branch first (`git fetch origin main`).\n",
    });
    expect(await ws.run(["all", "--since", "--output=x"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: 'rbuild: error: --since needs a git ref (a branch, tag or commit), got "--output=x", which git would read as an option.\nRun `rbuild --help` for usage.\n',
    });
    expect((await ws.run(["list", "--since", "main"])).stderr).toBe("rbuild: error: --since goes with running tasks, e.g. `rbuild test --since main`, with `rbuild graph`, and as a date with `rbuild errors`.\nRun `rbuild --help` for usage.\n");
  });

  test("24.4: a workspace outside any git repository", async () => {
    const ws = testWorkspace(files);
    // Git looks no higher than the workspace, whatever holds the temp directory.
    const result = await ws.run(["all", "--since", "main"], { env: { GIT_CEILING_DIRECTORIES: dirname(ws.root) } });
    expect(result).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: "rbuild: error: --since main: the workspace <root> is not inside a git repository, so there is nothing to compare with main; run rbuild in a git checkout, or build without --since.\n",
    });
  });

  test("24.4: git not installed", async () => {
    const ws = testWorkspace(files);
    repository(ws.root);
    const empty = join(ws.root, "no-git-here");
    mkdirSync(empty);
    const result = await ws.run(["all", "--since", "main"], { env: { PATH: empty } });
    expect(result).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: "rbuild: error: --since main: finding what changed needs git, and there is no `git` command on PATH; install git (e.g. `apt-get install git`), or build without --since.\n",
    });
  });

  test("24.4: a shallow clone without the ref, or without the commit where it meets HEAD", async () => {
    const ws = testWorkspace(files);
    repository(ws.root);
    git(ws.root, "checkout", "-q", "-b", "side");
    ws.write({ "a/keep.txt": "side\n" });
    git(ws.root, "commit", "-q", "-am", "side");
    git(ws.root, "checkout", "-q", "main");
    ws.write({ "a/keep.txt": "main\n" });
    git(ws.root, "commit", "-q", "-am", "main");
    const parent = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-shallow-")));
    onTestFinished(() => rmSync(parent, { recursive: true, force: true }));
    const clone = join(parent, "clone");
    git(parent, "clone", "-q", "--depth", "1", "--branch", "main", `file://${ws.root}`, clone);
    git(clone, "fetch", "-q", "--depth", "1", "origin", "side:refs/remotes/origin/side");

    const missing = await ws.run(["all", "--since", "HEAD~1"], { cwd: clone });
    expect(missing).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        "rbuild: error: --since HEAD~1: this is a shallow clone and it has no commit HEAD~1; fetch more history (`git fetch --deepen=100`, or `git fetch --unshallow`; in GitHub Actions, actions/checkout with `fetch-depth: 0`), or fetch the ref itself (`git fetch origin HEAD~1`).\n",
    });
    const apart = await ws.run(["all", "--since", "origin/side"], { cwd: clone });
    expect(apart).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        "rbuild: error: --since origin/side: this is a shallow clone, and the commit where origin/side and HEAD meet is not in it; fetch more history (`git fetch --deepen=100`, or `git fetch --unshallow`; in GitHub Actions, actions/checkout with `fetch-depth: 0`).\n",
    });
    // With the history fetched, it works.
    git(clone, "fetch", "-q", "--unshallow", "origin");
    expect((await ws.run(["all", "--since", "origin/side", "-n"], { cwd: clone })).exitCode).toBe(0);
    expect(readFileSync(join(clone, "a/keep.txt"), "utf8")).toBe("main\n");
  });
});
