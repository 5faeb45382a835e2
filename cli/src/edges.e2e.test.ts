/** Issue 20's edge findings (process.exit, cwd, globs, stray errors, locks, flags): each test is named after its item. */
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { daemonPids, servedBuilds, stopDaemons, until } from "./test-support/daemon.js";
import { Workspace } from "./test-support/workspace.js";

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.remove());

const HEADER = `import { task } from "rbuild";\n`;

describe("process.exit in user code", () => {
  test("20.D: a task function calling process.exit(0) fails that task; its dependents do not run, and the build exits 1", async () => {
    ws.write({
      "Buildfile.ts": `${HEADER}task({ name: "quits", run: async () => {\n  process.exit(0);\n} });\ntask({ name: "after", deps: ["quits"], run: "touch after" });\n`,
    });
    expect(await ws.run(["after"])).toEqual({
      exitCode: 1,
      stdout: "> quits\n✗ quits (<t>)\n- after skipped (dependency-failed: quits)\n",
      stderr: 'error: Buildfile.ts:3:11: Task "quits" failed: task "quits" called process.exit(0); return or throw instead\nrbuild: failed: 0 ran, 0 cached, 1 failed, 1 skipped in <t>\n',
    });
    expect(existsSync(join(ws.root, "after"))).toBe(false);
  });

  test("20.D: process.exit from a task function's timer after it finished fails the run, never exit 0", async () => {
    ws.write({
      "Buildfile.ts": `${HEADER}task({ name: "early", run: async () => { setTimeout(() => process.exit(0), 50); } });\ntask({ name: "slow", run: "sleep 2" });\n`,
    });
    const result = await ws.run(["early", "slow"]);
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({
      exitCode: 1,
      stderr:
        'error: Buildfile.ts:2:67: Task "early" failed: task "early" called process.exit(0); return or throw instead (thrown after the task had finished, by work it did not await; await the work it starts)\n' +
        "rbuild: failed: 1 ran, 0 cached, 1 failed in <t>\n",
    });
  });

  test("20.D: a Buildfile calling process.exit at its top level is a Buildfile error with its place", async () => {
    ws.write({ "Buildfile.ts": `${HEADER}task({ name: "a", run: "touch a" });\nprocess.exit(0);\n` });
    expect(await ws.run(["a"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: "rbuild: error: Buildfile.ts:3:9: Buildfile.ts called process.exit(0); return or throw instead\n(thrown while loading Buildfile.ts; fix the Buildfile and run again)\n",
    });
    expect(existsSync(join(ws.root, "a"))).toBe(false);
  });

  test("20.D: a task function calling process.exit in a build the daemon serves fails that build, and the daemon serves the next", async () => {
    ws.write({ "Buildfile.ts": `${HEADER}task({ name: "quits", run: async () => {\n  process.exit(0);\n} });\ntask({ name: "fine", run: "true" });\n` });
    const daemon = { command: true, env: { RBUILD_DAEMON: "1" } } as const;
    try {
      expect((await ws.run(["fine"], daemon)).exitCode).toBe(0);
      await until("the daemon listens", () => daemonPids(ws).length > 0);
      const quit = await ws.run(["quits"], daemon);
      expect(servedBuilds(ws)).toBe(1);
      expect(quit).toEqual(await ws.run(["quits"]));
      expect(quit.exitCode).toBe(1);
      expect((await ws.run(["fine"], daemon)).exitCode).toBe(0);
      expect({ served: servedBuilds(ws), daemons: daemonPids(ws).length }).toEqual({ served: 2, daemons: 1 });
    } finally {
      stopDaemons(ws);
    }
  });
});

describe("a task function's directory", () => {
  test("20.E: a task function sees the workspace root as its directory, as a command does, from a subdirectory and with -C", async () => {
    ws.write({
      "sub/README": "",
      "Buildfile.ts":
        HEADER +
        `import { writeFileSync } from "node:fs";\n` +
        `task({ name: "fn", run: async () => { writeFileSync("fn.txt", process.cwd()); } });\n` +
        `task({ name: "cmd", run: "pwd > cmd.txt" });\n`,
    });
    for (const [args, cwd] of [[["fn", "cmd"], join(ws.root, "sub")], [["-C", ws.root, "fn", "cmd"], "/"]] as const) {
      const result = await ws.run(["--force", ...args], { cwd });
      expect(result.exitCode).toBe(0);
      expect([ws.read("fn.txt"), ws.read("cmd.txt")]).toEqual([ws.root, `${ws.root}\n`]);
    }
  });
});

describe("output globs that match nothing", () => {
  test("20.F: each output glob that matches nothing is a warning naming the task and the glob, also when another glob matched", async () => {
    ws.write({ "Buildfile.ts": `${HEADER}task({ name: "gen", outputs: ["dist/**", "types/**", "docs/*.md"], run: "mkdir -p dist && echo x > dist/app.js" });\n` });
    const result = await ws.run(["gen"]);
    expect([result.exitCode, result.stderr]).toEqual([
      0,
      'rbuild: task "gen": its output glob "types/**" matched nothing after it ran; a cache hit will restore nothing for it. Fix its `outputs`\n' +
        'rbuild: task "gen": its output glob "docs/*.md" matched nothing after it ran; a cache hit will restore nothing for it. Fix its `outputs`\n' +
        "rbuild: ok: 1 ran, 0 cached in <t>\n",
    ]);
  });
});

describe("a stray error after a task function finished", () => {
  test("20.G: it fails that task before the build is reported: the summary says failed, what is downstream is skipped, exit 1", async () => {
    ws.write({
      "Buildfile.ts":
        HEADER +
        `import { existsSync, writeFileSync } from "node:fs";\n` +
        `// Returns at once, leaving a timer that throws once "b" is running (and lets "b" finish).\n` +
        `task({ name: "a", run: async () => { const t = setInterval(() => { if (existsSync("b-started")) { clearInterval(t); writeFileSync("go", ""); throw new Error("late boom"); } }, 5); } });\n` +
        `task({ name: "b", deps: ["a"], run: "touch b-started; while [ ! -e go ]; do sleep 0.05; done" });\n` +
        `task({ name: "c", deps: ["b"], run: "touch c" });\n`,
    });
    expect(await ws.run(["c"])).toEqual({
      exitCode: 1,
      stdout: "> a\n✓ a (<t>)\n> b\n✗ a (<t>)\n- c skipped (dependency-failed: a)\n✓ b (<t>)\n",
      stderr:
        'error: Buildfile.ts:4:148: Task "a" failed: late boom (thrown after the task had finished, by work it did not await; await the work it starts)\n' +
        "rbuild: failed: 1 ran, 0 cached, 1 failed, 1 skipped in <t>\n",
    });
    expect(existsSync(join(ws.root, "c"))).toBe(false);
    // Its result was not kept: the next build runs it again rather than restoring it.
    rmSync(join(ws.root, "b-started"));
    const again = await ws.run(["a"]);
    expect([again.exitCode, again.stdout]).toEqual([0, "> a\n✓ a (<t>)\n"]);
  });

  test("20.G: a task function's timer still pending when the build is reported does not change its outcome afterwards", async () => {
    ws.write({
      "Buildfile.ts": `${HEADER}import { writeFileSync } from "node:fs";\ntask({ name: "a", run: async () => { setTimeout(() => { writeFileSync("late", ""); throw new Error("after the end"); }, 2000); } });\ntask({ name: "b", deps: ["a"], run: "true" });\n`,
    });
    expect(await ws.run(["b"])).toEqual({ exitCode: 0, stdout: "> a\n✓ a (<t>)\n> b\n✓ b (<t>)\n", stderr: "rbuild: ok: 2 ran, 0 cached in <t>\n" });
    expect(existsSync(join(ws.root, "late"))).toBe(false);
  });
});

describe("the build lock", () => {
  const BUILDFILE = `${HEADER}task({ name: "a", run: "touch a" });\n`;

  test("20.H: a build lock path that is a directory is an error naming the path and what to do, for a build and for clean", async () => {
    ws.write({ "Buildfile.ts": BUILDFILE });
    mkdirSync(join(ws.root, ".rbuild/build.lock"), { recursive: true });
    const message =
      "rbuild: error: <root>/.rbuild/build.lock is a directory, not rbuild's build lock (a file): nothing else may be at that path. " +
      "Remove it (`rm -r <root>/.rbuild/build.lock`) and run again.\n";
    expect(await ws.run(["a"])).toEqual({ exitCode: 2, stdout: "", stderr: message });
    expect(await ws.run(["clean"])).toEqual({ exitCode: 2, stdout: "", stderr: message });
    expect(existsSync(join(ws.root, "a"))).toBe(false);
  });

  test("20.H: a lock of the old format (a pid alone) naming pid 1, init and never a build, is stale", async () => {
    ws.write({ "Buildfile.ts": BUILDFILE, ".rbuild/build.lock": "1\n" });
    expect(await ws.run(["a"])).toEqual({ exitCode: 0, stdout: "> a\n✓ a (<t>)\n", stderr: "rbuild: ok: 1 ran, 0 cached in <t>\n" });
  });

  test("20.H: a lock of the old format naming a live rbuild whose start time is unknown is waited for, with messages", async () => {
    const holder = spawn("sleep", ["60"], { stdio: "ignore" });
    try {
      ws.write({ "Buildfile.ts": BUILDFILE, ".rbuild/build.lock": `${holder.pid}\n` });
      const build = ws.start(["a"]);
      let stderr = "";
      build.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      await until("the build says it waits", () => stderr.includes("\n"));
      expect(stderr).toMatch(new RegExp(String.raw`^rbuild: waiting for another rbuild \(pid ${holder.pid}\) building this workspace; it has held the lock since \d\d:\d\d:\d\d\n$`));
      build.kill("SIGINT");
      expect((await build).exitCode).toBe(130);
    } finally {
      holder.kill();
    }
  });
});

describe("the command line", () => {
  test("20.I: a --summary below a regular file is a usage error naming the flag and the file in the way, before anything runs", async () => {
    ws.write({ "Buildfile.ts": `${HEADER}task({ name: "a", run: "echo ran > ran.txt" });\n`, afile: "" });
    for (const path of ["afile/x.json", "afile/deeper/x.json"]) {
      expect(await ws.run(["a", "--summary", path])).toEqual({
        exitCode: 2,
        stdout: "",
        stderr: `rbuild: error: --summary <root>/${path}: <root>/afile is a file, not a directory. Give a file in a directory you can write.\nRun \`rbuild --help\` for usage.\n`,
      });
    }
    expect(existsSync(join(ws.root, "ran.txt"))).toBe(false);
  });
});

describe("a command that cannot start", () => {
  test("20.J: a script whose #! interpreter does not exist says the interpreter was not found, naming it", async () => {
    ws.write({ "Buildfile.ts": `${HEADER}task({ name: "a", run: "./s.sh --flag" });\n`, "s.sh": "#!/nonexistent/interp -e\necho hi\n" });
    chmodSync(join(ws.root, "s.sh"), 0o755);
    expect(await ws.run(["a"])).toEqual({
      exitCode: 1,
      stdout: "> a\n✗ a (<t>)\n",
      stderr:
        'error: Task "a" could not start: its program ./s.sh is a script for the interpreter /nonexistent/interp (its #! line), which was not found. Install it, or fix the script\'s first line.\n' +
        "rbuild: failed: 0 ran, 0 cached, 1 failed in <t>\n",
    });
  });
});
