import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { runnerConformance } from "../../../test-support/runner-conformance.js";
import { runnerBed } from "../../../test-support/runner-bed.js";
import { SandboxRunner } from "./sandbox-runner.js";

runnerConformance("sandbox (bubblewrap)", () => new SandboxRunner());
// Its arguments passed in a file, as when thousands of binds would not fit on a command line.
runnerConformance("sandbox (bubblewrap), its arguments in a file", () => new SandboxRunner({ argvLimit: 0 }));

const bed = runnerBed("rbuild-sandbox-test-", () => new SandboxRunner());
const { write, run } = bed;

test("27.1: a read of an undeclared workspace file fails the task, naming the file", async () => {
  write({ "src/declared.txt": "yes\n", "src/secret.txt": "hidden\n" });
  const ran = await run("cat src/declared.txt src/secret.txt", { inputs: ["src/declared.txt"] });
  expect(ran.stdout).toBe("yes\n");
  expect(ran.stderr).toBe("cat: src/secret.txt: No such file or directory\n");
  expect(ran.outcome).toEqual({ ok: false, exitCode: 1, failure: { reason: "undeclared-read", task: "t", paths: ["src/secret.txt"], exitCode: 1 } });
});

test("27.1: a tool the task's PATH finds in the workspace, undeclared, is named as an undeclared read", async () => {
  write({ "node_modules/.bin/mytool": "#!/bin/sh\necho tool\n" });
  chmodSync(join(bed.root, "node_modules/.bin/mytool"), 0o755);
  const ran = await run("mytool", { env: { PATH: `${bed.root}/node_modules/.bin:/usr/bin:/bin` } });
  // Plain words found on the host's PATH start without a shell: bwrap's exec is what fails.
  expect(ran.stderr).toBe("bwrap: execvp mytool: No such file or directory\n");
  expect(ran.outcome).toEqual({ ok: false, exitCode: 1, failure: { reason: "undeclared-read", task: "t", paths: ["node_modules/.bin/mytool"], exitCode: 1 } });
  const shell = await run("mytool && true", { env: { PATH: `${bed.root}/node_modules/.bin:/usr/bin:/bin` } });
  expect([shell.stderr, shell.outcome]).toEqual(["/bin/sh: 1: mytool: not found\n", { ok: false, exitCode: 127, failure: { reason: "undeclared-read", task: "t", paths: ["node_modules/.bin/mytool"], exitCode: 127 } }]);
  const declared = await run("mytool", { env: { PATH: `${bed.root}/node_modules/.bin:/usr/bin:/bin` }, inputs: ["node_modules/.bin/**"] });
  expect([declared.outcome.ok, declared.stdout]).toEqual([true, "tool\n"]);
});

test("27.1: a declared link whose target is not declared names the target", async () => {
  write({ "node_modules/mypkg/bin/tool.sh": "#!/bin/sh\necho tool\n" });
  chmodSync(join(bed.root, "node_modules/mypkg/bin/tool.sh"), 0o755);
  mkdirSync(join(bed.root, "node_modules/.bin"));
  symlinkSync("../mypkg/bin/tool.sh", join(bed.root, "node_modules/.bin/mytool"));
  const ran = await run("mytool && true", { env: { PATH: `${bed.root}/node_modules/.bin:/usr/bin:/bin` }, inputs: ["node_modules/.bin/**"] });
  expect([ran.stderr, ran.outcome]).toEqual(["/bin/sh: 1: mytool: not found\n", { ok: false, exitCode: 127, failure: { reason: "undeclared-read", task: "t", paths: ["node_modules/mypkg/bin/tool.sh"], exitCode: 127 } }]);
});

test("27.1: declared inputs and deps' outputs are readable, read-only, at their workspace paths", async () => {
  write({ "src/a.txt": "a\n", "dep/out.txt": "d\n", "other.txt": "not declared\n" });
  const ran = await run(`cat ${bed.root}/src/a.txt dep/out.txt; ls -a; echo x > src/a.txt`, { inputs: ["src/**"], depOutputs: ["dep/**"] });
  expect(ran.stdout).toBe("a\nd\n.\n..\ndep\nsrc\n");
  expect(ran.stderr).toMatch(/src\/a.txt: Read-only file system/);
  expect(ran.outcome.ok).toBe(false);
  expect(readFileSync(join(bed.root, "src/a.txt"), "utf8")).toBe("a\n");
});

test("27.1: a wholly declared directory is bound at once; one with an undeclared entry shows only what is declared", async () => {
  write({ "src/a.txt": "a", "src/deep/b.txt": "b", "lib/c.txt": "c", "lib/gen/d.txt": "d", "other/e.txt": "e" });
  const ran = await run("find . | sort", { inputs: ["src/**", "lib/**", "!lib/gen/**"] });
  expect(ran.stdout).toBe([".", "./lib", "./lib/c.txt", "./src", "./src/a.txt", "./src/deep", "./src/deep/b.txt", ""].join("\n"));
  expect(ran.outcome.ok).toBe(true);
});

test("27.1: thousands of inputs in a directory that is not wholly declared (copied one by one) run", async () => {
  const files: Record<string, string> = { "src/undeclared.txt": "no" };
  const long = "a-rather-long-file-name-so-that-the-bind-arguments-grow-quickly".repeat(2);
  for (let i = 0; i < 2500; i++) files[`src/${long}-${i}.txt`] = "x";
  write(files);
  const ran = await run("ls src | wc -l", { inputs: ["src/**", "!src/undeclared.txt"] });
  expect([ran.outcome.ok, ran.stdout.trim(), ran.stderr]).toEqual([true, "2500", ""]);
}, 120_000);

test("27.1: declared outputs are moved into the workspace; scratch in /tmp and HOME is not", async () => {
  write({ "src/a.txt": "a\n" });
  const ran = await run('mkdir -p out && tr a b < src/a.txt > out/b.txt && echo s > /tmp/scratch && echo h > "$HOME/h"', { inputs: ["src/**"], outputs: ["out/**"] });
  expect(ran.outcome).toEqual({ ok: true, exitCode: 0, produced: { kind: "in-place" } });
  expect(readFileSync(join(bed.root, "out/b.txt"), "utf8")).toBe("b\n");
});

test("27.1: a write outside the declared outputs' directories fails the task, naming the path", async () => {
  const ran = await run("mkdir -p out && echo r > out/r.txt && echo n > notes.txt", { outputs: ["out/**"] });
  expect(ran.stderr).toMatch(/^\/bin\/sh: 1: cannot create notes.txt: Read-only file system\n$/);
  expect(ran.outcome).toEqual({ ok: false, exitCode: 2, failure: { reason: "undeclared-write", task: "t", paths: ["notes.txt"] } });
  expect([existsSync(join(bed.root, "notes.txt")), existsSync(join(bed.root, "out/r.txt"))]).toEqual([false, false]);
});

test("27.1: a write that no output glob matches, in a directory outputs are written to, fails the task, naming the files", async () => {
  const ran = await run("mkdir -p out/logs && echo r > out/r.txt && echo l > out/logs/build.log && echo m > out/r.map", { outputs: ["out/*.txt"] });
  expect(ran.outcome).toEqual({ ok: false, exitCode: 0, failure: { reason: "undeclared-write", task: "t", paths: ["out/logs/build.log", "out/r.map"] } });
  expect(existsSync(join(bed.root, "out"))).toBe(false);
});

test("27.1: with a root-level output the whole workspace is scratch: inputs are copies there, and changing one is a write it names", async () => {
  write({ "in.txt": "i\n" });
  const ran = await run("cat in.txt > result.txt && echo n > notes.txt && echo changed > in.txt", { inputs: ["in.txt"], outputs: ["result.txt"] });
  expect(ran.outcome).toEqual({ ok: false, exitCode: 0, failure: { reason: "undeclared-write", task: "t", paths: ["in.txt", "notes.txt"] } });
  expect([readFileSync(join(bed.root, "in.txt"), "utf8"), existsSync(join(bed.root, "result.txt"))]).toEqual(["i\n", false]);
});

test("27.1: inputs inside an output directory are copies there, left out of the outputs collected beside them", async () => {
  write({ "src/a.ts": "a\n" });
  const ran = await run("tr a b < src/a.ts > src/a.js", { inputs: ["src/**/*.ts"], outputs: ["src/**/*.js"] });
  expect(ran.outcome).toEqual({ ok: true, exitCode: 0, produced: { kind: "in-place" } });
  expect([readFileSync(join(bed.root, "src/a.js"), "utf8"), readFileSync(join(bed.root, "src/a.ts"), "utf8")]).toEqual(["b\n", "a\n"]);
});

let server: Server;
let port: number;
beforeAll(async () => {
  server = createServer((socket) => socket.end("hello from the host\n"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(() => server.close());

/** Connects to the test's server from inside the sandbox (python3, a system tool), printing what it reads or the error. */
const connect = () => `python3 -c 'import socket; s = socket.create_connection(("127.0.0.1", ${port}), timeout=30); print(s.recv(100).decode().strip())'`;

test("27.1: no network: a connection to a server of the test process on 127.0.0.1 is refused", async () => {
  const ran = await run(connect());
  expect(ran.outcome).toEqual({ ok: false, exitCode: 1, failure: { reason: "exit-nonzero", task: "t", exitCode: 1 } });
  expect(ran.stderr).toMatch(/ConnectionRefusedError: \[Errno 111\] Connection refused\n$/);
});

test("27.1: network: true reaches the server", async () => {
  const ran = await run(connect(), { network: true });
  expect([ran.outcome, ran.stdout, ran.stderr]).toEqual([{ ok: true, exitCode: 0, produced: { kind: "in-place" } }, "hello from the host\n", ""]);
});

test("27.1: without bubblewrap, the task fails to start, saying how to install it", async () => {
  const without = new SandboxRunner({ searchPath: join(bed.root, "no-bwrap-here") });
  try {
    let stdout = "";
    const outcome = await without.run({ task: "t", run: "true", root: bed.root, cwd: bed.root, env: { PATH: "/usr/bin:/bin" }, inputs: [], depOutputs: [], outputs: [], signal: new AbortController().signal, stdout: (c) => (stdout += c.toString()), stderr: () => {} });
    const message =
      'it runs in a sandbox (`runner: "sandbox"` or --sandbox), which needs bubblewrap, and `bwrap` is not on PATH. ' +
      'Install bubblewrap (Debian, Ubuntu: `apt-get install bubblewrap`; Fedora: `dnf install bubblewrap`; Arch: `pacman -S bubblewrap`), or run the task with `runner: "local"` (and without --sandbox).';
    expect([outcome, stdout]).toEqual([{ ok: false, exitCode: null, failure: { reason: "spawn-failed", task: "t", message } }, ""]);
  } finally {
    without.close();
  }
});
