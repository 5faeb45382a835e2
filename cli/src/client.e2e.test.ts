/**
 * The rbuild command's client (bin/rbuild, perl): with a daemon it hands over
 * the build and relays output and exit status; without one, with
 * RBUILD_DAEMON=0, or when the daemon declines, it is rbuild in Node. Every
 * build here is compared with rbuild in Node, and which ones the daemon ran
 * is read from its log. The interrupt and time-out cases are in
 * daemon.e2e.test.ts.
 */
import { mkdirSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { daemonPids, servedBuilds, stopDaemons, until } from "./test-support/daemon.js";
import { normalize, RBUILD_COMMAND, Workspace, type RunResult, type StartOptions } from "./test-support/workspace.js";

const BUILDFILE = `import { task } from "rbuild";
export const gen = task({ name: "gen", inputs: ["src/**"], outputs: ["out/gen.txt"], env: ["FLAVOUR"],
  run: "echo run >> gen.count; mkdir -p out && cat src/*.txt > out/gen.txt && echo \\"flavour=$FLAVOUR\\" && echo made >&2" });
task({ name: "broken", run: "echo about to fail; exit 3" });
`;

let ws: Workspace;
beforeEach(() => {
  // A space in every path the client passes on: the workspace, its socket's directory, the cwd.
  ws = new Workspace("rbuild client ").write({ "Buildfile.ts": BUILDFILE, "src/a.txt": "alpha\n", "dir with space/.keep": "" });
});
afterEach(() => {
  stopDaemons(ws);
  ws.remove();
});

/** The installed command, with daemons allowed. */
function rbuild(args: readonly string[], options: StartOptions = {}): Promise<RunResult> {
  return ws.run(args, { ...options, command: true, env: { RBUILD_DAEMON: "1", ...options.env } });
}

async function startDaemon(): Promise<void> {
  expect((await rbuild(["gen"])).exitCode).toBe(0);
  await until("the daemon listens", () => daemonPids(ws).length > 0);
}

describe("the rbuild command", () => {
  test("21.5: without a daemon, or with RBUILD_DAEMON=0, it is rbuild in Node", async () => {
    const built = await rbuild(["gen"]);
    expect(built).toEqual({ exitCode: 0, stdout: "> gen\n[gen] flavour=\n✓ gen (<t>)\n", stderr: "[gen] made\nrbuild: ok: 1 ran, 0 cached in <t>\n" });
    expect(servedBuilds(ws)).toBe(0);

    await until("the daemon listens", () => daemonPids(ws).length > 0);
    const off = await rbuild(["gen", "--output-logs", "full"], { env: { RBUILD_DAEMON: "0" } });
    expect(off).toEqual(await ws.run(["gen", "--output-logs", "full"]));
    expect(off.stdout).toBe("[gen] flavour=\n✓ gen (cached, local)\n");
    expect(servedBuilds(ws)).toBe(0);
  });

  test("21.5: with a daemon it relays the build's output and exit status", async () => {
    await startDaemon();
    const cached = await rbuild(["gen", "--output-logs", "full"]);
    expect(servedBuilds(ws)).toBe(1);
    expect(cached).toEqual(await ws.run(["gen", "--output-logs", "full"]));

    const failed = await rbuild(["broken"]);
    expect(servedBuilds(ws)).toBe(2);
    expect(failed).toEqual({ exitCode: 1, stdout: "> broken\n[broken] about to fail\n✗ broken (<t>)\n", stderr: 'error: Task "broken" failed: its command exited with code 3.\nrbuild: failed: 0 ran, 0 cached, 1 failed in <t>\n' });
    expect(failed).toEqual(await ws.run(["broken"]));
  });

  test('21.5: arguments with spaces reach the daemon whole: -C "dir with space", --summary "a b.json"', async () => {
    await startDaemon();
    const args = ["-C", "dir with space", "--summary", "a b.json", "gen"];
    const viaDaemon = await rbuild(args, { env: { FLAVOUR: "sour" } });
    expect(servedBuilds(ws)).toBe(1);
    expect(viaDaemon).toEqual({ exitCode: 0, stdout: "> gen\n[gen] flavour=sour\n✓ gen (<t>)\n", stderr: "[gen] made\nrbuild: ok: 1 ran, 0 cached in <t>\n" });
    // --summary is relative to where the command started, -C or not.
    const summary = JSON.parse(ws.read("a b.json")) as { tasks: { name: string; reasons: string[] }[] };
    expect(summary.tasks).toMatchObject([{ name: "gen", reasons: ["env-changed: FLAVOUR"] }]);
    // The same build in Node.
    expect(await ws.run(args, { env: { FLAVOUR: "sweet" } })).toEqual({ ...viaDaemon, stdout: viaDaemon.stdout.replace("sour", "sweet") });
  });

  test("21.5: a daemon declines what it does not run, and the command runs it in Node", async () => {
    await startDaemon();
    const other = new Workspace("rbuild client other ").write({ "Buildfile.ts": BUILDFILE, "src/a.txt": "other\n" });
    try {
      // Another workspace, through -C from this one.
      const elsewhere = await rbuild(["-C", other.root, "gen"]);
      expect(elsewhere).toEqual({
        exitCode: 0,
        stdout: "> gen\n[gen] flavour=\n✓ gen (<t>)\n",
        stderr: "[gen] made\nrbuild: ok: 1 ran, 0 cached in <t>\n",
      });
      expect(other.read("out/gen.txt")).toBe("other\n");
    } finally {
      stopDaemons(other);
      other.remove();
    }
    // Commands other than a build, and usage errors: the same words and status as in Node.
    expect(await rbuild(["list"])).toEqual({ exitCode: 0, stdout: "gen\nbroken\n", stderr: "" });
    const usage = await rbuild(["--jobs", "zero", "gen"]);
    expect(usage).toEqual(await ws.run(["--jobs", "zero", "gen"]));
    expect(usage.exitCode).toBe(2);
    expect(servedBuilds(ws)).toBe(0);
  });

  test("21.5: it finds rbuild through npm's node_modules/.bin symlinks", async () => {
    // As npm links a workspace package: .bin/rbuild -> ../rbuild/bin/rbuild, rbuild -> the package.
    mkdirSync(join(ws.root, "node_modules/.bin"), { recursive: true });
    symlinkSync(dirname(dirname(RBUILD_COMMAND)), join(ws.root, "node_modules/rbuild"));
    symlinkSync("../rbuild/bin/rbuild", join(ws.root, "node_modules/.bin/rbuild"));
    const linked = join(ws.root, "node_modules/.bin/rbuild");
    const run = async (cwd: string): Promise<RunResult> => {
      const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: ws.root, RBUILD_DAEMON: "1" };
      const result = await execa(linked, ["gen"], { cwd, env, extendEnv: false, reject: false, stripFinalNewline: false });
      return { exitCode: result.exitCode, stdout: normalize(String(result.stdout), ws.root), stderr: normalize(String(result.stderr), ws.root) };
    };
    expect(await run(join(ws.root, "dir with space"))).toEqual({ exitCode: 0, stdout: "> gen\n[gen] flavour=\n✓ gen (<t>)\n", stderr: "[gen] made\nrbuild: ok: 1 ran, 0 cached in <t>\n" });
    await until("the daemon listens", () => daemonPids(ws).length > 0);
    // The daemon serves this client: the same rbuild, whichever link led to it.
    expect(await run(ws.root)).toEqual({ exitCode: 0, stdout: "✓ gen (cached, local)\n", stderr: "rbuild: ok: 0 ran, 1 cached in <t>\n" });
    expect(servedBuilds(ws)).toBe(1);
  });

  test("21.5: without perl it says that perl is missing", async () => {
    const result = await ws.run(["gen"], { command: true, env: { PATH: join(ws.root, "no-such-dir") } });
    expect(result.exitCode).toBe(127);
    expect(result.stderr).toMatch(/perl.*No such file or directory/);
  });
});
