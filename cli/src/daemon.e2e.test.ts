/**
 * The rbuild daemon (daemon.ts) through the installed command (bin/rbuild):
 * a build it serves is the build rbuild would run in its own process (output,
 * exit status, environment, directory, umask, interrupts), and whatever goes
 * wrong with the daemon sends the build back to a process of its own.
 * Which builds the daemon served is read from its log.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Readable } from "node:stream";
import { normalize, RBUILD_COMMAND, Workspace, type RunResult, type StartOptions } from "./test-support/workspace.js";

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace("rbuild-daemon-");
});
afterEach(async () => {
  for (const pid of daemonPids()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
  ws.remove();
});

const log = (): string => (existsSync(join(ws.root, ".rbuild/daemon.log")) ? readFileSync(join(ws.root, ".rbuild/daemon.log"), "utf8") : "");
const served = (): number => log().split("\n").filter((line) => / build \d+: /.test(line)).length;
/** The log a daemon started before the current one wrote (see startDaemonIfWanted). */
const previousLog = (): string => (existsSync(join(ws.root, ".rbuild/daemon.log.1")) ? readFileSync(join(ws.root, ".rbuild/daemon.log.1"), "utf8") : "");
const daemonPids = (): number[] => [...new Set([...(previousLog() + log()).matchAll(/\[(\d+)\] serving /g)].map((m) => Number(m[1])))];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether process `pid` has a handler for `signal` (from /proc: SIGINT is bit 2 of SigCgt). */
function catches(pid: number, signal: "SIGINT"): boolean {
  const bit = { SIGINT: 2 }[signal];
  const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(existsSync(`/proc/${pid}/status`) ? readFileSync(`/proc/${pid}/status`, "utf8") : "")?.[1];
  return mask !== undefined && ((BigInt(`0x${mask}`) >> BigInt(bit - 1)) & 1n) === 1n;
}

/** Everything `stream` has written so far, as it grows, normalised. */
function collect(stream: Readable | null): () => string {
  let text = "";
  stream?.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
  return () => normalize(text, ws.root);
}

/** Whether process `pid` is stopped (SIGSTOP), from /proc. */
const stopped = (pid: number): boolean => /\) [Tt] /.test(existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, "latin1") : "");

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting until ${what}`);
}

/** The installed command, with daemons allowed. */
function rbuild(args: readonly string[], options: StartOptions = {}): Promise<RunResult> {
  return ws.run(args, { ...options, command: true, env: { RBUILD_DAEMON: "1", ...options.env } });
}

/** A first build (in Node) that starts the daemon, and the wait until it listens. */
async function startDaemon(args: readonly string[] = ["use"]): Promise<RunResult> {
  const first = await rbuild(args);
  await until("the daemon listens", () => daemonPids().length > 0);
  return first;
}

const BUILDFILE = `import { task } from "rbuild";
const gen = task({ name: "gen", inputs: ["src/**"], outputs: ["out/gen.txt"], env: ["FLAVOUR"],
  run: "echo run >> gen.count; mkdir -p out && cat src/*.txt > out/gen.txt && echo \\"flavour=$FLAVOUR\\" && echo made >&2" });
export const use = task({ name: "use", deps: [gen], outputs: ["out/use.txt"], run: "tr a-z A-Z < out/gen.txt > out/use.txt" });
task({ name: "broken", run: "echo about to fail; exit 3" });
task({ name: "perms", outputs: ["out/perms.txt"], run: "mkdir -p out && echo x > out/perms.txt" });
task({ name: "slow", run: "echo $$ > slow.pid; sleep 30" });
task({ name: "quiet", run: "sleep 7; echo done" });
`;

describe("the rbuild daemon", () => {
  beforeEach(() => {
    ws.write({ "Buildfile.ts": BUILDFILE, "src/a.txt": "alpha\n" });
  });

  test("serves the next builds with the output and exit status of rbuild in its own process", async () => {
    const first = await startDaemon();
    expect(first.exitCode).toBe(0);
    expect(served()).toBe(0);
    // Its Node has a young generation with room for a build (see DAEMON_SEMI_SPACE_MB).
    expect(readFileSync(`/proc/${daemonPids()[0]}/cmdline`, "utf8").split("\0")).toContain("--max-semi-space-size=64");

    // Cached: the same replayed logs, lines and summary as in a process of its own.
    const viaDaemon = await rbuild(["use", "--output-logs", "full"]);
    expect(served()).toBe(1);
    const inNode = await ws.run(["use", "--output-logs", "full"]);
    expect(viaDaemon).toEqual(inNode);
    expect(viaDaemon.stdout).toContain("[gen] flavour=");

    // A failing task: exit status 1 and the same report.
    const failedViaDaemon = await rbuild(["broken"]);
    expect(served()).toBe(2);
    expect(failedViaDaemon.exitCode).toBe(1);
    expect(failedViaDaemon).toEqual(await ws.run(["broken"]));
    expect(failedViaDaemon.stdout).toContain("about to fail");

    // A usage error is the Node process's to report: same words, status 2.
    const usage = await rbuild(["--jobs", "zero", "use"]);
    expect(usage.exitCode).toBe(2);
    expect(usage.stderr).toContain("-j/--jobs needs a positive whole number");
  });

  test("a build it serves has the client's environment, directory and umask", async () => {
    await startDaemon();
    const changed = await rbuild(["use", "--summary", "summary.json"], { env: { FLAVOUR: "sour" }, cwd: join(ws.root, "src") });
    expect(served()).toBe(1);
    expect(changed.exitCode).toBe(0);
    expect(changed.stdout).toContain("[gen] flavour=sour");
    // --summary is relative to where the client was started.
    const summary = JSON.parse(ws.read("src/summary.json")) as { tasks: { name: string; reasons: string[] }[] };
    expect(summary.tasks.find((t) => t.name === "gen")?.reasons).toEqual(["env-changed: FLAVOUR"]);

    // Files the tasks create get the client's umask, not the daemon's.
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: ws.root, RBUILD_DAEMON: "1" };
    const strict = await execa("sh", ["-c", 'umask 077 && exec "$0" perms', RBUILD_COMMAND], { cwd: ws.root, env, extendEnv: false, reject: false });
    expect(strict.exitCode).toBe(0);
    expect(served()).toBe(2);
    expect(statSync(join(ws.root, "out/perms.txt")).mode & 0o777).toBe(0o600);
  });

  test("sees an edited Buildfile and input at once", async () => {
    await startDaemon();
    writeFileSync(join(ws.root, "src/b.txt"), "beta\n");
    ws.write({ "Buildfile.ts": BUILDFILE.replace("tr a-z A-Z", "tr a-z N-ZA-M") });
    const result = await rbuild(["use"]);
    expect(served()).toBe(1);
    expect(result.exitCode).toBe(0);
    expect(ws.read("out/use.txt")).toBe("NYCUN\nORGN\n");
  });

  test("the freshness record of a build it served reaches the disk once it is idle", async () => {
    await startDaemon();
    const stamp = (): { build: number; tasks: [string][] } | undefined => {
      const dir = join(ws.root, ".rbuild/fresh");
      const file = existsSync(dir) ? readdirSync(dir).find((name) => name.endsWith(".json")) : undefined;
      if (file === undefined) return undefined;
      const record = JSON.parse(readFileSync(join(dir, file), "utf8")) as { builds: [string, number][]; tasks: [string][] };
      return { build: Math.max(...record.builds.map((b) => b[1])), tasks: record.tasks };
    };
    const before = stamp()!.build;
    writeFileSync(join(ws.root, "src/b.txt"), "beta\n");
    expect((await rbuild(["use"])).exitCode).toBe(0);
    expect(served()).toBe(1);
    // The daemon's next build would read it from memory; rbuild in a process of its own reads the file.
    await until("the daemon wrote its build's record", () => (stamp()?.build ?? 0) > before);
    expect(stamp()!.tasks.map((t) => t[0])).toContain("gen");
  });

  test("Ctrl-C at the client stops the build and its task, with status 130", async () => {
    await startDaemon();
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: ws.root, RBUILD_DAEMON: "1" };
    const client = execa(RBUILD_COMMAND, ["slow"], { cwd: ws.root, env, extendEnv: false, reject: false });
    await until("the task started", () => existsSync(join(ws.root, "slow.pid")) && ws.read("slow.pid").endsWith("\n"));
    const task = Number(ws.read("slow.pid"));
    expect(alive(task)).toBe(true);
    client.kill("SIGINT");
    const result = await client;
    expect(result.exitCode).toBe(130);
    expect(served()).toBe(1);
    await until("the task is stopped", () => !alive(task));
    // The daemon goes on serving.
    expect((await rbuild(["use"])).exitCode).toBe(0);
    expect(served()).toBe(2);
  });

  test("while it runs a build, another client runs its build in its own process", async () => {
    await startDaemon();
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: ws.root, RBUILD_DAEMON: "1" };
    const slow = execa(RBUILD_COMMAND, ["slow"], { cwd: ws.root, env, extendEnv: false, reject: false });
    await until("the slow task started", () => existsSync(join(ws.root, "slow.pid")));
    const meanwhile = await rbuild(["--dry-run", "use"]);
    expect(meanwhile.exitCode).toBe(0);
    expect(meanwhile.stdout).toContain("cached     use");
    expect(served()).toBe(0);
    slow.kill("SIGINT");
    expect((await slow).exitCode).toBe(130);
  });

  test("a daemon that was killed is replaced, and its client builds in Node meanwhile", async () => {
    await startDaemon();
    const [pid] = daemonPids();
    process.kill(pid!, "SIGKILL");
    await until("the daemon is gone", () => !alive(pid!));
    expect(existsSync(join(ws.root, ".rbuild/daemon.sock"))).toBe(true); // Left behind: stale.
    const result = await rbuild(["use"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("✓ use (cached, local)");
    await until("a new daemon listens", () => daemonPids().some((other) => other !== pid) && log().includes("serving"));
    await until("the new daemon answers", () => served() === 0 && existsSync(join(ws.root, ".rbuild/daemon.sock")));
    expect((await rbuild(["use"])).exitCode).toBe(0);
    expect(served()).toBe(1);
  });

  test("20.8: a stopped daemon is timed out: its client builds without it, and Ctrl-C ends a client waiting on it", async () => {
    await startDaemon();
    const [pid] = daemonPids();
    process.kill(pid!, "SIGSTOP");
    try {
      writeFileSync(join(ws.root, "src/b.txt"), "beta\n");
      const result = await rbuild(["use"]);
      expect(result).toEqual({
        exitCode: 0,
        stdout: "> gen\n[gen] flavour=\n✓ gen (<t>)\n> use\n✓ use (<t>)\n",
        stderr:
          `rbuild: the rbuild daemon (pid ${pid}) did not answer within 3s; building without it. If it is stopped, \`kill -CONT ${pid}\` resumes it and \`kill -9 ${pid}\` ends it. See <root>/.rbuild/daemon.log\n` +
          "[gen] made\nrbuild: ok: 2 ran, 0 cached in <t>\n",
      });
      expect(ws.read("out/use.txt")).toBe("ALPHA\nBETA\n");
      expect(served()).toBe(0);

      // A client waiting for it: once it has sent its request (it catches SIGINT from then on), Ctrl-C ends it.
      const waiting = ws.start(["use"], { command: true, env: { RBUILD_DAEMON: "1" } });
      await until("the client waits for the daemon's answer", () => catches(waiting.pid!, "SIGINT"));
      waiting.kill("SIGINT");
      const interrupted = await waiting;
      expect([interrupted.exitCode, interrupted.signal, String(interrupted.stderr)]).toEqual([130, undefined, ""]);
    } finally {
      process.kill(pid!, "SIGCONT");
    }
    // Resumed, it finds its clients gone and runs no build for them: each ran its own, or was stopped.
    await until("the daemon saw its clients gone", () => log().includes("a client went away before its build started: use\n"));
    expect(served()).toBe(0);
    expect((await rbuild(["use"])).exitCode).toBe(0);
  });

  test("20.8: a daemon stopped during a build does not hold its client after Ctrl-C", async () => {
    await startDaemon();
    const [pid] = daemonPids();
    const client = ws.start(["slow"], { command: true, env: { RBUILD_DAEMON: "1" } });
    await until("the task started", () => existsSync(join(ws.root, "slow.pid")) && ws.read("slow.pid").endsWith("\n"));
    const task = Number(ws.read("slow.pid"));
    process.kill(pid!, "SIGSTOP");
    try {
      client.kill("SIGINT");
      const result = await client;
      // It cannot stop the build while stopped: the client says so and ends at once.
      expect([result.exitCode, normalize(String(result.stderr), ws.root)]).toEqual([
        130,
        `rbuild: the rbuild daemon (pid ${pid}) is stopped and cannot stop the build now; it stops it once resumed (\`kill -CONT ${pid}\`). See <root>/.rbuild/daemon.log\n`,
      ]);
    } finally {
      process.kill(pid!, "SIGCONT");
    }
    // Resumed, the daemon sees its client gone and stops the build and its task.
    await until("the task is stopped", () => !alive(task));
  });

  test("20.8: a daemon stopped during a build: its client says so and what to do, a second client's build waits for the lock naming the stopped daemon, and Ctrl-C ends both", async () => {
    await startDaemon();
    const [pid] = daemonPids();
    const client = ws.start(["slow"], { command: true, env: { RBUILD_DAEMON: "1" } });
    const clientErr = collect(client.stderr);
    await until("the task started", () => existsSync(join(ws.root, "slow.pid")) && ws.read("slow.pid").endsWith("\n"));
    const task = Number(ws.read("slow.pid"));
    process.kill(pid!, "SIGSTOP");
    try {
      const silent = `rbuild: the rbuild daemon (pid ${pid}) is stopped (SIGSTOP) with this build under way: \`kill -CONT ${pid}\` resumes it, \`kill -9 ${pid}\` ends it; Ctrl-C stops waiting. See <root>/.rbuild/daemon.log\n`;
      await until("the client says the daemon is stopped", () => clientErr() === silent);

      // Another build with work to do (not up to date): the daemon does not take it, and in Node it
      // waits for the lock the stopped daemon holds.
      await until("the daemon is stopped", () => stopped(pid!));
      writeFileSync(join(ws.root, "src/b.txt"), "beta\n");
      const other = ws.start(["use"], { command: true, env: { RBUILD_DAEMON: "1" } });
      const otherErr = collect(other.stderr);
      const holder = `the rbuild daemon \\(pid ${pid}\\)`;
      const what = String.raw`it is stopped: \`kill -CONT ${pid}\` resumes it \(its build goes on, then this one\), \`kill -9 ${pid}\` ends it`;
      const waits = new RegExp(
        String.raw`^rbuild: the rbuild daemon \(pid ${pid}\) did not answer within 3s; building without it\. .*\n` +
          String.raw`rbuild: waiting for ${holder} building this workspace; it has held the lock since \d\d:\d\d:\d\d; ${what}\n` +
          String.raw`rbuild: still waiting \(\d+s\) for ${holder}; it has held the lock since \d\d:\d\d:\d\d; ${what}; Ctrl-C stops waiting\n`,
      );
      await until("the second build says twice that the stopped daemon holds the lock", () => waits.test(otherErr()));

      client.kill("SIGINT");
      other.kill("SIGINT");
      const [interrupted, waited] = await Promise.all([client, other]);
      expect([interrupted.exitCode, interrupted.signal, normalize(String(interrupted.stderr), ws.root)]).toEqual([
        130,
        undefined,
        silent + `rbuild: the rbuild daemon (pid ${pid}) is stopped and cannot stop the build now; it stops it once resumed (\`kill -CONT ${pid}\`). See <root>/.rbuild/daemon.log\n`,
      ]);
      expect([waited.exitCode, waited.signal, String(waited.stdout)]).toEqual([130, undefined, ""]);
    } finally {
      process.kill(pid!, "SIGCONT");
    }
    // Resumed, the daemon sees its client gone, stops the build and its task, and serves the next one.
    await until("the task is stopped", () => !alive(task));
    await until("the daemon ended the build", () => served() === 1);
    expect((await rbuild(["use"])).exitCode).toBe(0);
    expect(served()).toBe(2);
  });

  test("20.8: a build whose task prints nothing for longer than the client's silence limit is not taken for a stopped daemon", async () => {
    await startDaemon();
    const quiet = await rbuild(["quiet"]);
    expect(served()).toBe(1);
    expect(quiet).toEqual({ exitCode: 0, stdout: "> quiet\n[quiet] done\n✓ quiet (<t>)\n", stderr: "rbuild: ok: 1 ran, 0 cached in <t>\n" });
  });

  test("22.adopt: a daemon whose memory grows past its limit exits after answering; the next build starts a new one and keeps the old log", async () => {
    // Each build evaluates the Buildfile as a new ES module, and Node never frees one: what its top
    // level holds stays. Here, once ballast.txt says so, 100 MB a build.
    ws.write({
      "Buildfile.ts": `import { readFileSync } from "node:fs";\nexport const ballast = new Uint8Array(Number(readFileSync("ballast.txt", "utf8"))).fill(1);\n${BUILDFILE}`,
      "ballast.txt": "0",
    });
    await startDaemon();
    const [first] = daemonPids();
    expect((await rbuild(["use"])).exitCode).toBe(0);
    expect(served()).toBe(1);
    ws.write({ "ballast.txt": String(100 * 1024 * 1024) });
    const exited = (): boolean => /exiting: its memory/.test(log());
    // Some 100 MB before it evaluated the Buildfile, so 512 MiB is its limit: a handful of builds pass it.
    // A build asked for while the daemon still records the last one is declined and runs in Node (on a
    // loaded machine, often): only the builds the daemon served count towards its limit.
    for (let i = 0; i < 120 && !exited() && served() <= 30; i++) expect((await rbuild(["use"])).exitCode).toBe(0);
    expect(exited()).toBe(true);
    const builds = served();
    expect(builds).toBeLessThan(16);
    await until("the daemon exits", () => !alive(first!));
    const reason = /exiting: .*/.exec(log())![0].replace(/\d+ MiB, over its limit of \d+ MiB/, "<n> MiB, over its limit of <m> MiB");
    expect(reason).toBe(
      "exiting: its memory grew to <n> MiB, over its limit of <m> MiB (3 times its size before it first evaluated the Buildfile, 512 MiB at least, 1 GiB at most): " +
        "each build evaluates the Buildfile as a new module, which Node never frees; the next build starts a new daemon",
    );

    // The next build runs in its own process and starts a daemon, whose log keeps the old one as daemon.log.1.
    ws.write({ "ballast.txt": "0" });
    expect((await rbuild(["use"])).exitCode).toBe(0);
    await until("a new daemon listens", () => daemonPids().length === 2);
    expect(previousLog()).toContain(reason.split(" grew")[0]);
    expect(previousLog().split("\n").filter((line) => / build \d+: /.test(line))).toHaveLength(builds);
    expect((await rbuild(["use"])).exitCode).toBe(0);
    expect(served()).toBe(1);
  }, 120_000);

  test("exits when its socket goes with the cache, and when rbuild is off for the client", async () => {
    await startDaemon();
    const [pid] = daemonPids();
    const off = await rbuild(["use"], { env: { RBUILD_DAEMON: "0" } });
    expect(off.exitCode).toBe(0);
    expect(served()).toBe(0);
    // The daemon may be writing its build's freshness record (it does when idle) or its log while the cache
    // is removed under it: a directory it adds to as rm walks is not empty, and removing again is what a
    // user does, for as long as it takes on a loaded machine.
    const removeCache = (): void => {
      try {
        rmSync(join(ws.root, ".rbuild"), { recursive: true, force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOTEMPTY") throw error;
      }
    };
    await until("the daemon exits", () => (removeCache(), !alive(pid!)));
  });
});
