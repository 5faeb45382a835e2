#!/usr/bin/env node
/**
 * The sandbox's overhead per task (issue 27, item 5): a trivial task (`true`)
 * run N times through the local runner and through the sandbox runner
 * (bubblewrap), one after the other (-j 1), in this process, both through
 * the same kind of process helper. The overhead is the difference of the
 * mean wall time per task; the goal is under 5 ms on this machine.
 *
 *   npm run bench:sandbox                 # 200 tasks per round, 5 rounds
 *   node bench/sandbox.mjs --tasks 500 --rounds 9 --inputs 20
 *
 * `--inputs K` gives each task K declared input files (`src/**`: one bind of
 * the whole directory); with `--undeclared`, src also holds a file that is not
 * declared, so each input is bound by itself: what a bind costs. Rounds alternate local and sandbox, and
 * the medians over rounds are reported (a loaded machine disturbs single
 * rounds). Build first (`npm run build`): this imports packages/runners/dist.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    tasks: { type: "string", default: "200" },
    rounds: { type: "string", default: "5" },
    inputs: { type: "string", default: "0" },
    undeclared: { type: "boolean", default: false },
  },
});
const tasks = Number(values.tasks);
const rounds = Number(values.rounds);
const inputs = Number(values.inputs);
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];

const { LocalRunner, SandboxRunner } = await import(pathToFileURL(join(here, "../packages/runners/dist/index.js")).href);

const root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-bench-sandbox-")));
mkdirSync(join(root, "src"));
for (let i = 0; i < inputs; i++) writeFileSync(join(root, "src", `f${i}.txt`), `${i}\n`);
if (values.undeclared) writeFileSync(join(root, "src", "undeclared.txt"), "not an input\n");

/** Mean ms per task over `tasks` runs of `true` through `runner`. */
async function perTask(runner) {
  const signal = new AbortController().signal;
  const request = {
    task: "t",
    run: "true",
    root,
    cwd: root,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    inputs: inputs > 0 ? ["src/**", "!src/undeclared.txt"] : [],
    depOutputs: [],
    outputs: [],
    signal,
    stdout: () => {},
    stderr: () => {},
  };
  // Warm: the helper started, bwrap found and probed.
  for (let i = 0; i < 5; i++) await runner.run(request);
  const started = performance.now();
  for (let i = 0; i < tasks; i++) {
    const outcome = await runner.run(request);
    if (!outcome.ok) throw new Error(`task failed: ${JSON.stringify(outcome)}`);
  }
  return (performance.now() - started) / tasks;
}

const local = new LocalRunner();
const sandbox = new SandboxRunner();
const load = loadavg()[0].toFixed(1);
const times = { local: [], sandbox: [] };
try {
  for (let round = 0; round < rounds; round++) {
    times.local.push(await perTask(local));
    times.sandbox.push(await perTask(sandbox));
  }
} finally {
  local.close();
  sandbox.close();
  rmSync(root, { recursive: true, force: true });
}

const [l, s] = [median(times.local), median(times.sandbox)];
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}; load average ${load} at start, ${loadavg()[0].toFixed(1)} at end`);
console.log(`${tasks} tasks of \`true\` per round, ${rounds} rounds, ${inputs} declared input files each${values.undeclared ? ", bound one by one (an undeclared file beside them)" : ""}`);
console.log(`local:   ${l.toFixed(2)} ms per task (rounds: ${times.local.map((t) => t.toFixed(2)).join(", ")})`);
console.log(`sandbox: ${s.toFixed(2)} ms per task (rounds: ${times.sandbox.map((t) => t.toFixed(2)).join(", ")})`);
console.log(`overhead: ${(s - l).toFixed(2)} ms per task (goal: under 5 ms)`);
