import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { isAlive } from "../../../test-support/processes.js";
import { ProcessHelper } from "./process-helper.js";
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

async function run(command: SpawnOptions["command"], helper: ProcessHelper | undefined, options: Partial<SpawnOptions> = {}): Promise<Ran> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const result = await spawnInGroup({
    command,
    cwd: root,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    signal: new AbortController().signal,
    onStdout: (chunk) => out.push(chunk),
    onStderr: (chunk) => err.push(chunk),
    ...(helper === undefined ? {} : { helper }),
    ...options,
  });
  return { result, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

// The helper runs here: the system's python3 is installed on the machines rbuild is tested on.
const python = ProcessHelper.start();

test("the process helper starts where the system's python3 is", () => {
  expect(python).toBeInstanceOf(ProcessHelper);
});

// Every behaviour holds the same whichever way the process starts.
describe.each([
  ["through the process helper", python],
  ["forked from Node", undefined],
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

test.each([
  ["through the process helper", python],
  ["forked from Node", undefined],
])("a NUL byte in a command is refused, not passed on cut short, %s", async (_how, helper) => {
  writeFileSync(join(root, "marker"), "");
  const ran = await run("echo a\0; rm marker", helper);
  expect(ran.result.kind).toBe("error");
  expect(readFileSync(join(root, "marker"), "utf8")).toBe("");
});

test("a helper that dies: the commands it ran are lost and their groups stopped, later ones start directly", async () => {
  const helper = ProcessHelper.start()!;
  let started!: () => void;
  const onStarted = new Promise<void>((resolve) => (started = resolve));
  const running = run("echo $$ > pid; exec sleep 5", helper, { onStarted: () => started() });
  await onStarted;
  const pidText = (): string => (existsSync(join(root, "pid")) ? readFileSync(join(root, "pid"), "utf8") : "");
  for (let i = 0; i < 500 && !pidText().endsWith("\n"); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  process.kill(helper.pid!, "SIGKILL");
  expect((await running).result).toEqual({ kind: "lost", helper: helper.pid, how: "exited with signal SIGKILL", started: true });
  expect(isAlive(Number(pidText()))).toBe(false);
  expect(await run("echo $PPID", helper)).toMatchObject({ result: { kind: "exited", exitCode: 0 }, stdout: `${process.pid}\n` });
  expect(helper.lost).toBe("exited with signal SIGKILL");
});

test("a helper that cannot run here (it stops before it is ready) leaves its commands to a direct spawn", async () => {
  const script = join(root, "too-old.py");
  writeFileSync(script, "import sys\nsys.exit(3)\n");
  const helper = ProcessHelper.start(script)!;
  const ran = await run("echo $PPID; echo started directly", helper);
  expect(ran.result).toEqual({ kind: "exited", exitCode: 0 });
  // Its parent is this Node process, not a python.
  expect(ran.stdout).toBe(`${process.pid}\nstarted directly\n`);
  expect(helper.dead).toBe(true);
});

test("a missing helper script is a broken installation, said so", () => {
  expect(() => ProcessHelper.start(join(root, "gone.py"))).toThrow(/process helper .*gone\.py is missing: reinstall rbuild/);
});

// The process a command's program is a child of: sh when a shell ran it, else what started it.
const starter = { python: "python3", direct: readFileSync("/proc/self/comm", "utf8").trim() };

describe.each([
  ["through the process helper", python, starter.python],
  ["forked from Node", undefined, starter.direct],
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
