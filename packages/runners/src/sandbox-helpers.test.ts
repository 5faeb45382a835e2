import { existsSync, mkdirSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { runnerBed } from "../../../test-support/runner-bed.js";
import { ProcessHelper } from "./process-helper.js";
import { SandboxHelpers } from "./sandbox-helpers.js";
import { SandboxRunner } from "./sandbox-runner.js";
import { SandboxTree } from "./sandbox-tree.js";
import { spawnInGroup } from "./spawn-group.js";

const bed = runnerBed("rbuild-sandbox-helpers-test-", () => new SandboxRunner());
const { write, run } = bed;
const hostNetwork = readlinkSync("/proc/self/ns/net");

/** Runs `command` through `helper`, as sandboxed commands start (the wrap is told where it starts), and gives its stdout. */
async function through(helper: ProcessHelper, command: string): Promise<{ stdout: string; inSandboxHelper: boolean[] }> {
  let stdout = "";
  const inSandboxHelper: boolean[] = [];
  const result = await spawnInGroup({
    command: ["/bin/sh", "-c", command],
    cwd: bed.root,
    env: { PATH: "/usr/bin:/bin" },
    signal: new AbortController().signal,
    onStdout: (chunk) => (stdout += chunk.toString()),
    onStderr: () => {},
    helper,
    wrap: (program, _cwd, inHelper) => {
      inSandboxHelper.push(inHelper);
      return program;
    },
  });
  expect(result).toEqual({ kind: "exited", exitCode: 0 });
  return { stdout, inSandboxHelper };
}

test("27.5: a sandbox helper has a network of its own, loopback up, and a sandbox's /dev with the host's /dev/shm under it", async () => {
  const helper = ProcessHelper.start(undefined, { sandbox: true })!;
  try {
    const ran = await through(helper, "readlink /proc/self/ns/net; ls /dev; ls -d /dev/shm/. >/dev/null && echo shm");
    const [network, ...rest] = ran.stdout.trimEnd().split("\n");
    expect(network).not.toBe(hostNetwork);
    expect(rest).toEqual(["core", "fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero", "shm"]);
    expect(ran.inSandboxHelper).toEqual([true]);
    const loopback = await through(helper, `python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); socket.create_connection(s.getsockname()); print("connected")'`);
    expect(loopback.stdout).toBe("connected\n");
  } finally {
    helper.close();
  }
});

test("27.5: each task holds a sandbox helper of its own; one given back is used again", async () => {
  const started: number[] = [];
  const helpers = new SandboxHelpers((helper) => started.push(helper.pid!));
  try {
    const first = helpers.acquire()!;
    const second = helpers.acquire()!;
    expect(first).not.toBe(second);
    const [a, b] = await Promise.all([through(first, "readlink /proc/self/ns/net"), through(second, "readlink /proc/self/ns/net")]);
    expect(new Set([a.stdout, b.stdout, `${hostNetwork}\n`]).size).toBe(3);
    helpers.release(second);
    expect(helpers.acquire()).toBe(second);
    expect(started).toEqual([first.pid, second.pid]);
    expect(helpers.pids().sort()).toEqual([first.pid, second.pid].sort());
  } finally {
    helpers.close();
  }
  expect(helpers.acquire()).toBeUndefined();
});

test("27.5: where a sandbox helper cannot run, its command starts from rbuild with bwrap making every namespace, and none is tried again", async () => {
  // As the real one ends when it cannot make the namespaces: before it says it is ready.
  const script = join(bed.root, "no_namespaces.py");
  writeFileSync(script, 'import sys\nsys.stderr.write("rbuild process helper: cannot make the sandbox\'s namespaces here: unshare: Operation not permitted\\n")\nsys.exit(4)\n');
  const helpers = new SandboxHelpers(() => {}, script);
  try {
    const helper = helpers.acquire()!;
    const ran = await through(helper, "echo ran");
    expect(ran).toEqual({ stdout: "ran\n", inSandboxHelper: [true, false] });
    expect(helper.unavailable).toBe(true);
    helpers.release(helper);
    expect(helpers.acquire()).toBeUndefined();
  } finally {
    helpers.close();
  }
});

test("27.5: sandboxed tasks that run at the same time have networks of their own; /dev/shm is each task's own and empty", async () => {
  // The gate directory, declared whole, is bound as it is on the host: a file made there later is seen inside.
  write({ "gate/.keep": "" });
  mkdirSync(join(bed.root, "out"));
  const lines: string[] = [];
  let open: () => void = () => {};
  const both = new Promise<void>((resolve) => (open = resolve));
  const task = (name: string) =>
    bed.runner.run({
      task: name,
      run: "readlink /proc/self/ns/net; ls -A /dev/shm | wc -l; while [ ! -e gate/go ]; do sleep 0.05; done",
      root: bed.root,
      cwd: bed.root,
      env: { PATH: "/usr/bin:/bin" },
      inputs: ["gate/**"],
      depOutputs: [],
      outputs: [],
      signal: new AbortController().signal,
      stdout: (chunk) => {
        lines.push(...chunk.toString().trimEnd().split("\n"));
        if (lines.length >= 4) open();
      },
      stderr: () => {},
    });
  const running = Promise.all([task("a"), task("b")]);
  await both;
  writeFileSync(join(bed.root, "gate/go"), "");
  const outcomes = await running;
  expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, true]);
  const networks = lines.filter((line) => line.startsWith("net:"));
  expect(new Set([...networks, hostNetwork]).size).toBe(3);
  expect(lines.filter((line) => !line.startsWith("net:"))).toEqual(["0", "0"]);
}, 60_000);

test("27.5: a task with network: true still starts with the host's network", async () => {
  const ran = await run("readlink /proc/self/ns/net", { network: true });
  expect([ran.outcome.ok, ran.stdout]).toEqual([true, `${hostNetwork}\n`]);
  const without = await run("readlink /proc/self/ns/net");
  expect(without.outcome.ok).toBe(true);
  expect(without.stdout).not.toBe(`${hostNetwork}\n`);
});

test("27.5: a run with no outputs makes no scratch directory on disk; its base in memory goes at the end", () => {
  const request = { task: "t", run: "true", root: bed.root, cwd: bed.root, env: {}, inputs: [], depOutputs: [], outputs: [], signal: new AbortController().signal, stdout: () => {}, stderr: () => {} };
  const bare = new SandboxTree(request);
  const base = bare.args()[1]!;
  expect([bare.dir, existsSync(base)]).toEqual(["", true]);
  bare.remove();
  expect(existsSync(base)).toBe(false);
  const writing = new SandboxTree({ ...request, outputs: ["out/**"] });
  const scratch = writing.dir;
  expect(existsSync(join(scratch, "out"))).toBe(true);
  writing.remove();
  expect([existsSync(scratch), existsSync(join(scratch, ".."))]).toEqual([false, false]);
});
