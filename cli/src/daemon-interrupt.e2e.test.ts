// An interrupt always ends a build the daemon runs, promptly: what ignores it (a Buildfile whose top-level code
// never finishes, a task function that does not watch its signal) ends with the daemon, which exits, and the next
// rbuild starts a new one. Real client (bin/rbuild), real daemon, real signals.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { daemonLog, daemonPids, stopDaemons, until } from "./test-support/daemon.js";
import { isAlive, eventually } from "../../test-support/processes.js";
import { Workspace } from "./test-support/workspace.js";

let ws: Workspace;
const env = { RBUILD_DAEMON: "1" };

const QUICK = `import { task } from "rbuild";
task({ name: "a", outputs: ["a.txt"], run: "echo a > a.txt" });
`;

beforeEach(async () => {
  ws = new Workspace("rbuild-daemon-");
  ws.write({ "Buildfile.ts": QUICK });
  expect((await ws.run(["a"], { command: true, env })).exitCode).toBe(0); // In Node; it starts the daemon.
  await until("the daemon listens", () => daemonPids(ws).length > 0);
  // Its warm-up rounds load the Buildfile too: the one a test writes next is loaded by its build.
  expect(await eventually(() => /warmed up in/.test(daemonLog(ws)))).toBe(true);
});

afterEach(() => {
  stopDaemons(ws);
  ws.remove();
});

/** Runs `a` through the client, interrupts it once `marker` exists; returns its end and the daemon that ran it. */
async function interruptedBuild(marker: string): Promise<{ exitCode: number | undefined; stderr: string; daemon: number }> {
  const [daemon] = daemonPids(ws);
  const client = ws.start(["a"], { command: true, env });
  expect(await eventually(() => existsSync(join(ws.root, marker)))).toBe(true);
  client.kill("SIGINT");
  const result = await client;
  return { exitCode: result.exitCode, stderr: String(result.stderr), daemon: daemon! };
}

/** The daemon that ran the build is gone, and the next build (in Node, the Buildfile fixed) starts a new one. */
async function replaced(daemon: number): Promise<void> {
  // Gone, and reaped: until then its build lock looks held (kill(pid, 0) finds a zombie), which is not what this tests.
  expect(await eventually(() => !existsSync(`/proc/${daemon}`))).toBe(true);
  ws.write({ "Buildfile.ts": QUICK });
  const next = await ws.run(["a"], { command: true, env });
  expect([next.exitCode, next.stderr]).toEqual([0, "rbuild: ok: 0 ran, 1 cached in <t>\n"]);
  await until("a new daemon listens", () => daemonPids(ws).some((pid) => pid !== daemon && isAlive(pid)));
}

test("20.N5: a Buildfile whose top-level await never settles: Ctrl-C ends the daemon's build at once with 130, saying so, and the daemon exits", async () => {
  ws.write({
    "Buildfile.ts": `import { writeFileSync } from "node:fs";
import { task } from "rbuild";
writeFileSync("evaluating", "");
await new Promise(() => {});
task({ name: "a", run: "true" });
`,
  });
  const { exitCode, stderr, daemon } = await interruptedBuild("evaluating");
  expect([exitCode, stderr]).toEqual([
    130,
    `rbuild: loading the Buildfile did not stop within 3s of the interrupt (does its top-level code await something that never settles?); the rbuild daemon (pid ${daemon}) exits with it, and the next rbuild starts a new one\n`,
  ]);
  await replaced(daemon);
}, 120_000);

test("20.N5: a task function that ignores its abort signal: Ctrl-C ends the daemon's build with 130, naming it, and the daemon exits", async () => {
  ws.write({
    "Buildfile.ts": `import { writeFileSync } from "node:fs";
import { task } from "rbuild";
task({ name: "a", run: async () => {
  writeFileSync("running", "");
  await new Promise((resolve) => setTimeout(resolve, 600_000));
} });
`,
  });
  const { exitCode, stderr, daemon } = await interruptedBuild("running");
  expect([exitCode, stderr]).toEqual([
    130,
    `rbuild: task "a" did not stop within 3s of the interrupt (a task function must end once its context's \`signal\` is aborted); the rbuild daemon (pid ${daemon}) exits with it, and the next rbuild starts a new one\n`,
  ]);
  await replaced(daemon);
}, 120_000);
