/**
 * The build lock seen from the command line: a lock left empty by a crash
 * does not stop builds, and a build (or `rbuild clean`) waiting for a holder
 * that does not move says who holds it and stops on Ctrl-C.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Readable } from "node:stream";
import { afterEach, beforeEach, expect, test } from "vitest";
import { normalize, Workspace } from "./test-support/workspace.js";

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace("rbuild-lock-");
  ws.write({
    "Buildfile.ts": `import { task } from "rbuild";
task({ name: "gen", inputs: ["src/**"], outputs: ["out/**"], run: "mkdir -p out && cat src/*.txt > out/all.txt" });
task({ name: "hold", run: "echo $$ > hold.pid; touch hold.started; sleep 60" });
`,
    "src/a.txt": "one\n",
  });
});
afterEach(() => ws.remove());

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting until ${what}`);
}

/** Everything `stream` has written so far, as it grows. */
function collect(stream: Readable | null): () => string {
  let text = "";
  stream?.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
  return () => text;
}

test("20.6: a build lock left empty by a crash, older than its grace period, lets a build and `rbuild clean` through", async () => {
  mkdirSync(join(ws.root, ".rbuild"));
  const lock = join(ws.root, ".rbuild", "build.lock");
  const leave = (): void => {
    writeFileSync(lock, "");
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
  };
  leave();
  const build = await ws.run(["gen"]);
  expect([build.exitCode, build.stderr]).toEqual([0, "rbuild: ok: 1 ran, 0 cached in <t>\n"]);
  expect(ws.read("out/all.txt")).toBe("one\n");
  expect(existsSync(lock)).toBe(false);
  leave();
  const clean = await ws.run(["clean"]);
  expect([clean.exitCode, clean.stdout, clean.stderr]).toEqual([0, "removed 1 output files\n", ""]);
  expect(existsSync(lock)).toBe(false);
});

test("20.6: a build lock whose holder was killed and whose pid now names an unrelated live process lets a build through", async () => {
  const lock = join(ws.root, ".rbuild", "build.lock");
  const holder = ws.start(["hold"]);
  await until("the holder's task started", () => existsSync(join(ws.root, "hold.started")));
  holder.kill("SIGKILL");
  await holder;
  process.kill(-Number(ws.read("hold.pid")), "SIGKILL"); // Its task, left behind.
  // The killed holder's pid, given to another process (pid reuse, or a reboot): a `sleep` stands for it.
  const other = spawn("sleep", ["60"], { stdio: "ignore" });
  await new Promise((resolve) => other.once("spawn", resolve));
  try {
    writeFileSync(lock, readFileSync(lock, "utf8").replace(/^\d+/, String(other.pid)));
    const build = ws.start(["gen"]);
    const stderr = collect(build.stderr);
    let exited = false;
    void build.then(() => (exited = true));
    await until("the build ends, or waits for the lock", () => exited || stderr().includes("waiting for"));
    if (!exited) build.kill("SIGINT");
    const built = await build;
    expect([built.exitCode, normalize(String(built.stderr), ws.root)]).toEqual([0, "rbuild: ok: 1 ran, 0 cached in <t>\n"]);
    expect(ws.read("out/all.txt")).toBe("one\n");
    expect(existsSync(lock)).toBe(false);
  } finally {
    other.kill("SIGKILL");
  }
});

test("20.7: a build and `rbuild clean` waiting for a stopped holder say who holds the lock, again, and stop on Ctrl-C", async () => {
  const holder = ws.start(["hold"]);
  await until("the holder's task started", () => existsSync(join(ws.root, "hold.started")));
  holder.kill("SIGSTOP");
  try {
    await until("the holder is stopped", () => /\) [Tt] /.test(readFileSync(`/proc/${holder.pid}/stat`, "latin1")));
    const build = ws.start(["gen"]);
    const clean = ws.start(["clean"]);
    const buildErr = collect(build.stderr);
    const cleanErr = collect(clean.stderr);
    const repeated = new RegExp(
      String.raw`^rbuild: waiting for another rbuild \(pid ${holder.pid}\) building this workspace; it has held the lock since \d\d:\d\d:\d\d; ` +
        String.raw`it is stopped: \`kill -CONT ${holder.pid}\` resumes it\n` +
        String.raw`rbuild: still waiting \(\d+s\) for another rbuild \(pid ${holder.pid}\); it has held the lock since \d\d:\d\d:\d\d; ` +
        String.raw`it is stopped: \`kill -CONT ${holder.pid}\` resumes it; Ctrl-C stops waiting\n`,
    );
    await until("both were told twice who holds the lock", () => repeated.test(buildErr()) && repeated.test(cleanErr()));
    build.kill("SIGINT");
    clean.kill("SIGINT");
    const [built, cleaned] = await Promise.all([build, clean]);
    expect([built.exitCode, built.signal, cleaned.exitCode, cleaned.signal]).toEqual([130, undefined, 130, undefined]);
    expect(String(cleaned.stdout)).toBe("");
    expect(existsSync(join(ws.root, "out"))).toBe(false);
  } finally {
    holder.kill("SIGCONT");
    holder.kill("SIGTERM");
    await holder;
  }
});
