/**
 * What a sandboxed task must not do through the sandbox helper it shares,
 * one task after another, with others (issue 27.5), and what a PATH
 * directory must not bring into the sandbox (issue 27.1): found by trying.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { expect, test } from "vitest";
import { runnerBed } from "../../../test-support/runner-bed.js";
import { hostPart } from "./bwrap.js";
import { SandboxRunner } from "./sandbox-runner.js";

const bed = runnerBed("rbuild-sandbox-review-test-", () => new SandboxRunner());
const { write, run } = bed;

const DEV = ["core", "fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero"];

test("27.5: a task leaves nothing in /dev for the next task through the same sandbox helper", async () => {
  const first = await run("touch /dev/leak; rm -f /dev/stdout && ln -s /tmp/elsewhere /dev/stdout; mkdir /dev/dir; true");
  expect(first.outcome.ok).toBe(true);
  const second = await run("readlink /proc/self/ns/net >&2; ls /dev; readlink /dev/stdout /dev/fd");
  expect([second.outcome.ok, second.stdout]).toEqual([true, [...DEV, "/proc/self/fd/1", "/proc/self/fd", ""].join("\n")]);
  // The same helper (its network namespace) both times: the test would prove nothing through a fresh one.
  const third = await run("readlink /proc/self/ns/net >&2");
  expect(third.stderr).toBe(second.stderr);
});

test.skipIf(process.getuid?.() !== 0)("27.5: a file system mounted on the host after a sandbox helper started is there for the next task it starts", async () => {
  expect((await run("echo warm")).stdout).toBe("warm\n");
  const mounted = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-sandbox-review-mount-")));
  expect(spawnSync("mount", ["-t", "tmpfs", "tmpfs", mounted]).status).toBe(0);
  try {
    mkdirSync(join(mounted, "src"));
    writeFileSync(join(mounted, "src/a.txt"), "on the new mount\n");
    const ran = await run("cat src/a.txt", { root: mounted, cwd: mounted, inputs: ["src/**"] });
    expect([ran.outcome, ran.stdout, ran.stderr]).toEqual([{ ok: true, exitCode: 0, produced: { kind: "in-place" } }, "on the new mount\n", ""]);
  } finally {
    spawnSync("umount", [mounted]);
    rmSync(mounted, { recursive: true, force: true });
  }
});

/** Listens on a fixed port, connects to itself, and closes the accepted connection first: it stays in TIME_WAIT for a minute. */
const SERVER = `import socket
s = socket.socket()
s.bind(("127.0.0.1", 8765))
s.listen()
c = socket.create_connection(("127.0.0.1", 8765))
a, _ = s.accept()
a.close()
c.close()
s.close()
print("served")
`;

test("27.5: a task that served on a fixed port does not make the next one's bind of it fail, nor show it its connections", async () => {
  write({ "server.py": SERVER });
  const served = [];
  for (let i = 0; i < 2; i++) served.push(await run("python3 server.py", { inputs: ["server.py"] }));
  expect(served.map((ran) => [ran.outcome.ok, ran.stdout, ran.stderr])).toEqual([
    [true, "served\n", ""],
    [true, "served\n", ""],
  ]);
  const after = await run("tail -n +2 /proc/net/tcp /proc/net/tcp6");
  expect([after.outcome.ok, after.stdout]).toEqual([true, "==> /proc/net/tcp <==\n\n==> /proc/net/tcp6 <==\n"]);
}, 60_000);

test("27.1: a PATH directory under /tmp, or /tmp itself, never puts the host's /tmp over the sandbox's", async () => {
  for (const path of ["/tmp/bin:/usr/bin:/bin", "/tmp:/usr/bin:/bin", `${realpathSync(tmpdir())}/bin:/usr/bin:/bin`]) {
    const ran = await run("touch /tmp/mine && ls -A /tmp", { env: { PATH: path } });
    expect([path, ran.outcome.ok, ran.stdout, ran.stderr]).toEqual([path, true, ["home", "mine", basename(bed.root), ""].join("\n"), ""]);
  }
});

test("27.1: a tool's prefix is never a home directory (anyone's) or above one, a top-level directory, or one holding the temp directory", () => {
  const homes = ["/root", "/home/me", "/home/alice", "/var/lib/jenkins"];
  const path = ["/home/alice/bin", "/root/bin", "/var/lib/jenkins/bin", "/home/bin", "/var/bin", "/srv/bin", "/tmp/bin", "/tmp", "/opt2/tool/bin", "/home/alice/.local/bin", "/opt2/x/../../root/bin", "/opt2//tool/./sbin/"].join(":");
  expect(hostPart(path, "/work/app", homes).dirs.filter((dir) => !["/usr", "/etc", "/opt", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"].includes(dir))).toEqual([
    "/home/alice/bin",
    "/root/bin",
    "/var/lib/jenkins/bin",
    "/home/bin",
    "/var/bin",
    "/srv/bin",
    "/tmp/bin",
    "/opt2/tool",
    "/home/alice/.local",
  ]);
});

test("27.1: the home directories a prefix stops at are every user's on the host, not only rbuild's HOME", () => {
  // root's home is in /etc/passwd on every Linux, whatever HOME rbuild (a daemon) was started with.
  const home = process.env.HOME;
  process.env.HOME = bed.root;
  try {
    expect(hostPart("/root/bin:/usr/bin:/bin", "/work/app").dirs).not.toContain("/root");
  } finally {
    process.env.HOME = home;
  }
});
