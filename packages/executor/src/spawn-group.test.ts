import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { isAlive } from "../../../test-support/processes.js";
import { Launcher, type StartedCommand } from "./launcher.js";
import { argvWithoutShell } from "./simple-command.js";
import { spawnInGroup, type SpawnOptions, type SpawnResult } from "./spawn-group.js";

let root: string;
beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-spawn-")));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

interface Ran {
  result: SpawnResult;
  stdout: string;
  stderr: string;
}

async function run(command: SpawnOptions["command"], via: SpawnOptions["via"], options: Partial<SpawnOptions> = {}): Promise<Ran> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const result = await spawnInGroup({
    command,
    cwd: root,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    signal: new AbortController().signal,
    onStdout: (chunk) => out.push(chunk),
    onStderr: (chunk) => err.push(chunk),
    via,
    ...options,
  });
  return { result, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

// Both helpers run here: python3 and perl are installed on the machines rbuild is tested on.
const python = Launcher.start("python");
const perl = Launcher.start("perl");

test("the python helper is the shared one where python3 is installed", () => {
  expect(python).toBeInstanceOf(Launcher);
  expect(perl).toBeInstanceOf(Launcher);
  expect(Launcher.shared()?.helper).toBe("python");
});

// Every behaviour holds the same whichever way the process starts.
describe.each([
  ["through the python helper", python],
  ["through the perl helper", perl],
  ["forked from Node", "direct" as const],
])("spawnInGroup, %s", (_how, via) => {
  test("stdout and stderr apart, byte for byte, and the exit code", async () => {
    const ran = await run("printf 'out\\nno newline'; printf 'err' >&2; exit 3", via);
    expect(ran).toEqual({ result: { kind: "exited", exitCode: 3 }, stdout: "out\nno newline", stderr: "err" });
  });

  test("exactly the given environment, the given cwd, and stdin at end of file", async () => {
    const ran = await run("env | sort; pwd; cat; echo done", via, { env: { PATH: "/usr/bin:/bin", ONE: "1", MULTI: "a\nb", EMPTY: "" } });
    const lines = ran.stdout.split("\n");
    expect(lines.filter((l) => /^(ONE|MULTI|EMPTY|PATH)=/.test(l))).toEqual(["EMPTY=", "MULTI=a", "ONE=1", "PATH=/usr/bin:/bin"]);
    expect(lines).toContain("b");
    expect(lines.slice(-3)).toEqual([root, "done", ""]);
  });

  test("a command of several lines with quotes and non-ASCII text arrives whole", async () => {
    const ran = await run("x='it''s'\necho \"$x\" \"naïve ✓\"\necho second", via);
    expect(ran.stdout).toBe("its naïve ✓\nsecond\n");
  });

  test("a process killed by a signal reports the signal's name", async () => {
    expect((await run("kill -9 $$", via)).result).toEqual({ kind: "signaled", signal: "SIGKILL" });
    expect((await run("kill -TERM $$", via)).result).toEqual({ kind: "signaled", signal: "SIGTERM" });
  });

  test("a program that does not exist is an error, not an exit code", async () => {
    const ran = await run(["rbuild-no-such-program-here", "x"], via);
    expect(ran.result.kind).toBe("error");
  });

  test("a working directory that does not exist is an error, and the next process starts as usual", async () => {
    const ran = await run("echo never", via, { cwd: join(root, "missing") });
    expect(ran.result.kind).toBe("error");
    expect(ran.stdout).toBe("");
    expect(await run("pwd", via)).toEqual({ result: { kind: "exited", exitCode: 0 }, stdout: `${root}\n`, stderr: "" });
  });

  test("a umask and environment given to one process do not leak into the next", async () => {
    const first = await run("umask; echo ${ONLY_FIRST-unset}", via, { env: { PATH: "/usr/bin:/bin", ONLY_FIRST: "yes" } });
    const umask = process.umask(0o027);
    let second: Ran;
    try {
      second = await run("umask; echo ${ONLY_FIRST-unset}", via);
    } finally {
      process.umask(umask);
    }
    expect(first.stdout).toBe(`0${umask.toString(8).padStart(3, "0")}\nyes\n`);
    expect(second.stdout).toBe("0027\nunset\n");
  });

  test("a program is looked up on the task's PATH, not rbuild's", async () => {
    mkdirSync(join(root, "tools"));
    writeFileSync(join(root, "tools", "rbuild-test-tool"), "#!/bin/sh\necho tool ran\n", { mode: 0o755 });
    const found = await run(["rbuild-test-tool"], via, { env: { PATH: `${join(root, "tools")}:/usr/bin:/bin` } });
    expect(found).toEqual({ result: { kind: "exited", exitCode: 0 }, stdout: "tool ran\n", stderr: "" });
    expect((await run(["rbuild-test-tool"], via)).result.kind).toBe("error");
  });

  test("an executable file without #! runs in /bin/sh, as execvp runs it", async () => {
    mkdirSync(join(root, "tools"));
    writeFileSync(join(root, "tools", "rbuild-plain-script"), 'echo "plain $1"\n', { mode: 0o755 });
    const ran = await run(["rbuild-plain-script", "x"], via, { env: { PATH: `${join(root, "tools")}:/usr/bin:/bin` } });
    expect(ran).toEqual({ result: { kind: "exited", exitCode: 0 }, stdout: "plain x\n", stderr: "" });
  });

  test("signals are at their defaults: a writer to a closed pipe dies of SIGPIPE", async () => {
    // With SIGPIPE ignored (python ignores it, and that survives exec), yes would see EPIPE and exit 1.
    const ran = await run("(yes; echo \"yes ended: $?\" >&2) | head -n 1", via);
    expect(ran).toEqual({ result: { kind: "exited", exitCode: 0 }, stdout: "y\n", stderr: "yes ended: 141\n" });
  });

  test("an argument vector runs without a shell", async () => {
    const ran = await run(["printf", "%s|", "a b", "$HOME", "*"], via);
    expect(ran.stdout).toBe("a b|$HOME|*|");
  });

  test("megabytes of output arrive complete and in order", async () => {
    const ran = await run("i=0; while [ $i -lt 3 ]; do head -c 1500000 /dev/zero | tr '\\0' \"$i\"; i=$((i+1)); done", via);
    expect(ran.stdout.length).toBe(4_500_000);
    expect(ran.stdout.slice(0, 3)).toBe("000");
    expect(ran.stdout.slice(1_500_000, 1_500_003)).toBe("111");
    expect(ran.stdout.slice(-3)).toBe("222");
  });

  test("output of what the command left running is waited for while it holds the pipes", async () => {
    const ran = await run("(sleep 0.3; echo late) & echo early", via);
    expect(ran.stdout).toBe("early\nlate\n");
  });

  test("many processes at once each get their own output and status", async () => {
    const runs = await Promise.all(Array.from({ length: 40 }, (_, i) => run(`echo task ${i}; echo err ${i} >&2; exit ${i % 4}`, via)));
    runs.forEach((ran, i) => expect(ran).toEqual({ result: { kind: "exited", exitCode: i % 4 }, stdout: `task ${i}\n`, stderr: `err ${i}\n` }));
  });

  test("the process leads a group of its own, and aborting stops the whole group", async () => {
    const pidFile = join(root, "pids");
    const abort = new AbortController();
    const running = run(`sleep 30 & echo "$$ $(ps -o pgid= -p $$) $!" > '${pidFile}'; wait`, via, { signal: abort.signal });
    let text = "";
    for (let i = 0; i < 500 && !text.endsWith("\n"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      try {
        text = readFileSync(pidFile, "utf8");
      } catch {
        // Not written yet.
      }
    }
    const [shell, group, sleeper] = text.trim().split(/\s+/).map(Number);
    expect(group).toBe(shell);
    abort.abort();
    const ran = await running;
    expect(ran.result).toEqual({ kind: "signaled", signal: "SIGTERM" });
    expect(isAlive(sleeper!)).toBe(false);
  });
});

test("a NUL byte in a command is refused, not passed on cut short", async () => {
  writeFileSync(join(root, "marker"), "");
  const ran = await run("echo a\0; rm marker", undefined);
  expect(ran.result.kind).toBe("error");
  expect(readFileSync(join(root, "marker"), "utf8")).toBe("");
});

/** Runs `command` through `launcher`, reporting what it can be queued behind once started. */
function start(launcher: Launcher, command: string, options: Partial<SpawnOptions> = {}): { started: Promise<StartedCommand>; done: Promise<Ran> } {
  let onStarted!: (command: StartedCommand) => void;
  const started = new Promise<StartedCommand>((resolve) => (onStarted = resolve));
  const done = run(command, launcher, { onStarted: (c) => onStarted(c!), ...options });
  return { started, done };
}

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

describe.each([
  ["python", python!],
  ["perl", perl!],
])("a command queued behind another, in the %s helper", (_kind, launcher) => {
  test("starts the moment the one before it ends, without waiting for this thread", async () => {
    const first = start(launcher, "sleep 0.2; date +%s%N > first.end");
    const after = await first.started;
    const second = run("date +%s%N > second.start", launcher, { after });
    // Busy for a second: the helper has to start `second` on its own.
    const busyFrom = nowNs();
    while (nowNs() - busyFrom < 1_000_000_000n);
    const busyUntil = nowNs();
    expect((await first.done).result).toEqual({ kind: "exited", exitCode: 0 });
    expect((await second).result).toEqual({ kind: "exited", exitCode: 0 });
    const ended = BigInt(readFileSync(join(root, "first.end"), "utf8").trim());
    const began = BigInt(readFileSync(join(root, "second.start"), "utf8").trim());
    expect(began >= ended).toBe(true);
    expect(began < busyUntil).toBe(true);
  });

  test("starts after a failed command too, and at once behind one that has ended", async () => {
    const failing = start(launcher, "sleep 0.1; exit 3");
    const afterFailure = run("echo second", launcher, { after: await failing.started });
    expect((await failing.done).result).toEqual({ kind: "exited", exitCode: 3 });
    expect(await afterFailure).toEqual({ result: { kind: "exited", exitCode: 0 }, stdout: "second\n", stderr: "" });

    const ended = start(launcher, "true");
    const before = await ended.started;
    await ended.done;
    expect((await run("echo at once", launcher, { after: before })).stdout).toBe("at once\n");
  });

  test("told to start now, it starts at once, while the one before it runs on", async () => {
    const first = start(launcher, "i=0; while [ ! -e go ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done; [ -e go ]");
    const startNow = new AbortController();
    const queued = run("touch go; echo moved", launcher, { after: await first.started, startNow: startNow.signal });
    startNow.abort();
    // `first` only ends once the queued command has run: it did not wait for `first`.
    expect(await queued).toEqual({ result: { kind: "exited", exitCode: 0 }, stdout: "moved\n", stderr: "" });
    expect((await first.done).result).toEqual({ kind: "exited", exitCode: 0 });
  });

  test("aborted while queued, it never runs and ends as interrupted; the one before it runs on", async () => {
    const first = start(launcher, `${"i=0; while [ ! -e go ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done"}; echo first`);
    const abort = new AbortController();
    const queued = run("touch never", launcher, { after: await first.started, signal: abort.signal });
    abort.abort();
    expect((await queued).result).toEqual({ kind: "signaled", signal: "SIGTERM" });
    writeFileSync(join(root, "go"), "");
    expect(await first.done).toEqual({ result: { kind: "exited", exitCode: 0 }, stdout: "first\n", stderr: "" });
    expect(existsSync(join(root, "never"))).toBe(false);
  });
});

test("a helper that dies fails its running and queued commands with what to do, and later ones at once", async () => {
  const launcher = Launcher.start("python")!;
  const running = start(launcher, "echo $$ > pid; exec sleep 5");
  const queued = run("touch never", launcher, { after: await running.started });
  const pidText = (): string => (existsSync(join(root, "pid")) ? readFileSync(join(root, "pid"), "utf8") : "");
  for (let i = 0; i < 500 && !pidText().endsWith("\n"); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  process.kill(launcher.pid!, "SIGKILL");
  const failed = { kind: "error", message: expect.stringMatching(/process helper \(python\) stopped: it exited \(SIGKILL\).*RBUILD_SPAWN=direct/) };
  try {
    expect((await running.done).result).toEqual(failed);
    expect((await queued).result).toEqual(failed);
    expect((await run("echo later", launcher)).result).toEqual(failed);
    expect(existsSync(join(root, "never"))).toBe(false);
  } finally {
    const pid = Number(pidText());
    if (pid > 0) process.kill(pid, "SIGKILL"); // Its command outlives it, as after a direct spawn.
  }
});

// The process a command's program is a child of: sh when a shell ran it, else what started it.
const starter = { python: "python3", perl: "perl", direct: readFileSync("/proc/self/comm", "utf8").trim() };

describe.each([
  ["through the python helper", python, starter.python],
  ["through the perl helper", perl, starter.perl],
  ["forked from Node", "direct" as const, starter.direct],
])("a command as make runs it, %s", (_how, via, parentName) => {
  const tools = (): Record<string, string> => ({ PATH: `${join(root, "tools")}:${process.env.PATH ?? "/usr/bin:/bin"}` });
  /** The same command run by sh, to compare with: an argument vector never goes through the plain-words path. */
  const underSh = (command: string, options: Partial<SpawnOptions> = {}): Promise<Ran> => run(["/bin/sh", "-c", command], via, { env: tools(), ...options });
  beforeEach(() => {
    mkdirSync(join(root, "tools"));
    // Prints the name of the process that started it: sh under a shell, the starter without one.
    writeFileSync(join(root, "tools", "parent"), "#!/bin/sh\nps -o comm= -p $PPID\n", { mode: 0o755 });
    writeFileSync(join(root, "tools", "die"), "#!/bin/sh\nkill -TERM $$\n", { mode: 0o755 });
    writeFileSync(join(root, "a"), "alpha\n");
    writeFileSync(join(root, "b"), "beta\n");
  });

  test("21.4: plain words start without a shell; a pipe or a redirection goes through sh", async () => {
    expect(await run("parent", via, { env: tools() })).toEqual({ result: { kind: "exited", exitCode: 0 }, stdout: `${parentName}\n`, stderr: "" });
    expect((await run("parent | cat", via, { env: tools() })).stdout).toBe("sh\n");
    expect((await run("parent x > out", via, { env: tools() })).stdout).toBe("");
    expect(readFileSync(join(root, "out"), "utf8")).toBe("sh\n");
    expect(await run("echo a | tr a b", via)).toEqual({ result: { kind: "exited", exitCode: 0 }, stdout: "b\n", stderr: "" });
  });

  test.each([
    ["sort b a", []],
    ["wc -l nofile", []],
    ["cat a b", []],
    ["printenv PWD", []],
    ["cp a out", ["out"]],
    ["touch out", ["out"]],
    ["tools/parent", []],
  ])("21.4: %j ends, writes and prints as under sh", async (command, files) => {
    // Else both sides would run sh, and agree whatever the plain-words path does.
    expect(argvWithoutShell(command, root, tools())).toBeDefined();
    const ran = async (start: () => Promise<Ran>): Promise<unknown[]> => {
      rmSync(join(root, "out"), { force: true });
      const result = await start();
      // `parent` tells the two apart on purpose; the rest must match.
      if (command === "tools/parent") result.stdout = result.stdout.replace(parentName, "sh");
      return [result, ...files.map((file) => [readFileSync(join(root, file), "utf8"), statSync(join(root, file)).mode])];
    };
    expect(await ran(() => run(command, via, { env: tools() }))).toEqual(await ran(() => underSh(command)));
  });

  test("21.4: a program that is not found is left to sh: status 127 and sh's own message", async () => {
    const ran = await run("rbuild-no-such-tool x", via, { env: tools() });
    expect(ran).toEqual(await underSh("rbuild-no-such-tool x"));
    expect(ran).toEqual({ result: { kind: "exited", exitCode: 127 }, stdout: "", stderr: expect.stringMatching(/^\/bin\/sh: .*rbuild-no-such-tool: not found\n$/) });
    // Found but not executable: sh's own "Permission denied" too.
    writeFileSync(join(root, "tools", "not-executable"), "#!/bin/sh\n", { mode: 0o644 });
    const denied = await run("not-executable", via, { env: tools() });
    expect(denied).toEqual(await underSh("not-executable"));
    expect(denied.stderr).toMatch(/^\/bin\/sh: .*not-executable: Permission denied\n$/);
  });

  test("21.4: a plain-words program killed by a signal is reported as killed by it, as sh reports a command it execs", async () => {
    expect(await run("die", via, { env: tools() })).toEqual({ result: { kind: "signaled", signal: "SIGTERM" }, stdout: "", stderr: "" });
    expect(await run("die", via, { env: tools() })).toEqual(await underSh("exec die"));
  });

  test("aborting a pipeline stops every process of it", async () => {
    const abort = new AbortController();
    // Without both sleeps stopped this would wait 31 s, past the test's timeout.
    const running = run("sleep 30 | sleep 31", via, { signal: abort.signal, onStarted: () => abort.abort() });
    expect((await running).result).toEqual({ kind: "signaled", signal: "SIGTERM" });
  });
});
