import { existsSync } from "node:fs";
import { join } from "node:path";
import { expect, onTestFinished, test } from "vitest";
import { daemonPids, servedBuilds, stopDaemons, until } from "./test-support/daemon.js";
import { testWorkspace, type RunResult, type Workspace } from "./test-support/workspace.js";

/** rbuild's output with a stubbed task's time normalised too (`(stubbed, <t>)`). */
async function run(ws: Workspace, args: readonly string[]): Promise<RunResult> {
  const result = await ws.run(args);
  const times = (text: string): string => text.replace(/\(stubbed, (\d+ms|\d+\.\ds)\)/g, "(stubbed, <t>)");
  return { ...result, stdout: times(result.stdout) };
}

// A pure build, an impure deploy into env/ (standing in for an environment), and a release after it.
const PIPELINE = `import { task } from "rbuild";
const build = task({ name: "build", inputs: ["app.txt"], outputs: ["dist/app.txt"], run: "mkdir -p dist && cp app.txt dist/" });
const deploy = task({ name: "deploy", deps: [build], pure: false, outputs: ["deployed.txt"], run: "mkdir -p env && cp dist/app.txt env/ && echo real > deployed.txt" });
task({ name: "release", deps: [deploy], pure: false, run: "echo released" });
task({ name: "other-deploy", deps: [build], pure: false, run: "touch env-other" });
`;

test("26.7: --stub runs the stand-in instead of the task's run, reported as stubbed in the output, the summary and the history", async () => {
  const ws = testWorkspace({ "Buildfile.ts": PIPELINE, "app.txt": "v1\n" });
  const result = await run(ws, ["release", "-j", "1", "--stub", "deploy=echo stubbed; echo stub > deployed.txt", "--summary", "summary.json"]);
  expect(result).toEqual({
    exitCode: 0,
    stdout: "> build\n✓ build (<t>)\n> deploy\n[deploy] stubbed\n✓ deploy (stubbed, <t>)\n> release\n[release] released\n✓ release (<t>)\n",
    stderr: "rbuild: ok: 3 ran, 0 cached, 1 stubbed (deploy) in <t>\n",
  });
  // The environment was not touched; the stand-in's own file is there.
  expect(existsSync(join(ws.root, "env"))).toBe(false);
  expect(ws.read("deployed.txt")).toBe("stub\n");
  const summary = JSON.parse(ws.read("summary.json")) as { tasks: { name: string; status: string; key: string | null; reasons: string[]; stubbed?: true }[] };
  expect(summary.tasks.map(({ name, status, key, reasons, stubbed }) => ({ name, status, key: key === null ? null : "<key>", reasons, stubbed }))).toEqual([
    { name: "build", status: "ran", key: "<key>", reasons: ["no-record"], stubbed: undefined },
    { name: "deploy", status: "ran", key: null, reasons: ["stubbed"], stubbed: true },
    { name: "release", status: "ran", key: null, reasons: ["impure"], stubbed: undefined },
  ]);

  // Nothing of the stand-in is kept as the task's result: the next build runs the real deploy.
  const real = await run(ws, ["release", "-j", "1"]);
  expect(real).toEqual({
    exitCode: 0,
    stdout: "✓ build (cached, local)\n> deploy\n✓ deploy (<t>)\n> release\n[release] released\n✓ release (<t>)\n",
    stderr: "rbuild: ok: 2 ran, 1 cached in <t>\n",
  });
  expect([ws.read("env/app.txt"), ws.read("deployed.txt")]).toEqual(["v1\n", "real\n"]);
  const history = await ws.run(["history", "--task", "deploy", "--json"]);
  const runs = JSON.parse(history.stdout) as { status: string; reasons: string[]; key: string | null }[];
  expect(runs.map(({ status, reasons, key }) => ({ status, reasons, key }))).toEqual([
    { status: "ran", reasons: ["impure"], key: null },
    { status: "ran", reasons: ["stubbed"], key: null },
  ]);
});

test("26.7: --stub TASK without a command is a no-op that succeeds; a dry run says the task would run stubbed", async () => {
  const ws = testWorkspace({ "Buildfile.ts": PIPELINE, "app.txt": "v1\n" });
  expect((await ws.run(["build"])).exitCode).toBe(0);
  const dry = await ws.run(["release", "-n", "--stub", "deploy"]);
  expect(dry).toEqual({
    exitCode: 0,
    stdout: "cached     build\nwould run  deploy   (stubbed)\nwould run  release  (dep-will-run: deploy)\nrbuild: dry run: 2 would run, 1 cached\n",
    stderr: "",
  });
  const result = await run(ws, ["release", "-j", "1", "--stub", "deploy", "--stub", "release=echo not released"]);
  expect(result).toEqual({
    exitCode: 0,
    stdout: "✓ build (cached, local)\n> deploy\n✓ deploy (stubbed, <t>)\n> release\n[release] not released\n✓ release (stubbed, <t>)\n",
    stderr: "rbuild: ok: 2 ran, 1 cached, 2 stubbed (deploy, release) in <t>\n",
  });
  expect([existsSync(join(ws.root, "env")), existsSync(join(ws.root, "deployed.txt"))]).toEqual([false, false]);
});

test("26.7: a failing stand-in fails its task, stubbed, and what depends on it is skipped", async () => {
  const ws = testWorkspace({ "Buildfile.ts": PIPELINE, "app.txt": "v1\n" });
  const result = await run(ws, ["release", "-j", "1", "--stub", "deploy=echo refused >&2; exit 3"]);
  expect(result).toEqual({
    exitCode: 1,
    stdout: "> build\n✓ build (<t>)\n> deploy\n✗ deploy (stubbed, <t>)\n- release skipped (dependency-failed: deploy)\n",
    stderr: '[deploy] refused\nerror: Task "deploy" failed: its command exited with code 3.\nrbuild: failed: 1 ran, 0 cached, 1 stubbed (deploy), 1 failed, 1 skipped in <t>\n',
  });
});

test("26.7: a stub of an unknown task (with a suggestion), a pure task, or a task outside the build is refused before anything runs", async () => {
  const ws = testWorkspace({ "Buildfile.ts": PIPELINE, "app.txt": "v1\n" });
  const result = await ws.run(["release", "--stub", "deploi", "--stub", "build=true", "--stub", "other-deploy"]);
  expect(result).toEqual({
    exitCode: 2,
    stdout: "",
    stderr:
      'rbuild: error: Cannot stub "deploi": no task has that name. Did you mean "deploy"? Run `rbuild list` to see every task.\n' +
      'rbuild: error: Cannot stub "build": it is a pure task. A stub stands in for work on the world (deploys, uploads: tasks with `pure: false`); ' +
      "a pure task's result is cached under its key, where a stand-in's would be handed to later builds as the real one. " +
      "Let it run (or come from the cache), or mark it `pure: false` if it does touch the world.\n" +
      'rbuild: error: Cannot stub "other-deploy": it is not part of this build (of release); add it to the targets or drop the stub.\n',
  });
  expect(existsSync(join(ws.root, "dist"))).toBe(false);
});

test("26.7: --stub goes with a build, names each task once, and needs a task name", async () => {
  const ws = testWorkspace({ "Buildfile.ts": PIPELINE, "app.txt": "v1\n" });
  expect(await ws.run(["list", "--stub", "deploy"])).toEqual({
    exitCode: 2,
    stdout: "",
    stderr: "rbuild: error: --stub goes with running tasks, e.g. `rbuild build --stub`, not with `rbuild list`.\nRun `rbuild --help` for usage.\n",
  });
  expect(await ws.run(["release", "--stub", "deploy", "--stub", "deploy=true"])).toEqual({
    exitCode: 2,
    stdout: "",
    stderr: "rbuild: error: --stub deploy is given twice; give each task one stub.\nRun `rbuild --help` for usage.\n",
  });
  expect(await ws.run(["release", "--stub", "=true"])).toEqual({
    exitCode: 2,
    stdout: "",
    stderr: `rbuild: error: --stub needs a task name, as --stub deploy or --stub deploy='echo deployed', got "=true".\nRun \`rbuild --help\` for usage.\n`,
  });
});

test("26.7: a stubbed task's undo does not run when the build fails (its run never happened); a real task's does", async () => {
  const ws = testWorkspace({
    "Buildfile.ts": `import { task } from "rbuild";
const deploy = task({ name: "deploy", pure: false, run: "mkdir -p env && echo app > env/app.txt", undo: "echo undone >> undo.log; rm -f env/app.txt" });
task({ name: "smoke", deps: [deploy], pure: false, run: "test -f env/app.txt" });
`,
  });
  const stubbed = await run(ws, ["smoke", "-j", "1", "--stub", "deploy", "--stub", "smoke=exit 1"]);
  expect([stubbed.exitCode, stubbed.stdout]).toEqual([1, "> deploy\n✓ deploy (stubbed, <t>)\n> smoke\n✗ smoke (stubbed, <t>)\n"]);
  expect(existsSync(join(ws.root, "undo.log"))).toBe(false);
  const real = await run(ws, ["smoke", "-j", "1", "--stub", "smoke=exit 1"]);
  expect(real.exitCode).toBe(1);
  expect([existsSync(join(ws.root, "env/app.txt")), ws.read("undo.log")]).toEqual([false, "undone\n"]);
});

test("26.7: the daemon runs a build with --stub as rbuild in Node does, and the next build without it runs the real task", async () => {
  const ws = testWorkspace({ "Buildfile.ts": PIPELINE, "app.txt": "v1\n" });
  onTestFinished(() => stopDaemons(ws));
  const command = (args: readonly string[]): Promise<RunResult> => ws.run(args, { command: true, env: { RBUILD_DAEMON: "1" } });
  expect((await command(["build"])).exitCode).toBe(0);
  await until("the daemon listens", () => daemonPids(ws).length > 0);
  const times = (text: string): string => text.replace(/\(stubbed, (\d+ms|\d+\.\ds)\)/g, "(stubbed, <t>)");
  const stubbed = await command(["release", "-j", "1", "--stub", "deploy=echo stubbed"]);
  expect([stubbed.exitCode, times(stubbed.stdout)]).toEqual([0, "✓ build (cached, local)\n> deploy\n[deploy] stubbed\n✓ deploy (stubbed, <t>)\n> release\n[release] released\n✓ release (<t>)\n"]);
  expect(servedBuilds(ws)).toBe(1);
  expect(existsSync(join(ws.root, "env"))).toBe(false);
  const real = await command(["release", "-j", "1"]);
  expect([real.exitCode, real.stdout]).toEqual([0, "✓ build (cached, local)\n> deploy\n✓ deploy (<t>)\n> release\n[release] released\n✓ release (<t>)\n"]);
  expect([servedBuilds(ws), ws.read("env/app.txt")]).toEqual([2, "v1\n"]);
});
