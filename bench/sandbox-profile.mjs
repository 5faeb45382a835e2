#!/usr/bin/env node
/**
 * Where the sandbox's cost per trivial task goes (issue 27.5): the same
 * trivial command (`/bin/sh -c true`) started through the local runner's
 * process helper, first bare, then under bwrap with one thing added per
 * step (bwrap itself over the whole host, each namespace, /proc, /dev,
 * /tmp), then with the exact arguments the sandbox runner builds (system
 * directories, PATH directories, the workspace's bind), then those of a
 * command started through a sandbox helper (sandbox-helpers.ts: no network
 * namespace or /dev of bwrap's own), and last through the sandbox runner
 * itself (its per-task code: the tree, the scratch directory,
 * the output walk, the clean-up). Each step's cost is its difference from
 * the step before. Steps take turns round by round; medians over rounds.
 *
 *   node bench/sandbox-profile.mjs                  # 100 runs per step, 7 rounds
 *   node bench/sandbox-profile.mjs --tasks 200 --rounds 9
 *
 * Build first (`npm run build`): this imports packages/runners/dist.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { tasks: { type: "string", default: "100" }, rounds: { type: "string", default: "7" } } });
const tasks = Number(values.tasks);
const rounds = Number(values.rounds);
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const dist = (file) => import(pathToFileURL(join(here, "../packages/runners/dist", file)).href);

const { LocalRunner, SandboxRunner } = await dist("index.js");
const { systemArgs } = await dist("bwrap.js");

const root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-bench-profile-")));
const empty = join(root, ".empty");
mkdirSync(empty);
const PATH = process.env.PATH ?? "/usr/bin:/bin";
const sh = ["/bin/sh", "-c", "true"];

/** Each step: its name and the command's words (plain words: the helper execs them without a shell). */
const cumulative = [
  ["bwrap itself (--dev-bind / /: mount namespace, pivot_root, old root unmounted)", []],
  ["+ --unshare-user-try", ["--unshare-user-try"]],
  ["+ --unshare-pid", ["--unshare-pid"]],
  ["+ --unshare-ipc", ["--unshare-ipc"]],
  ["+ --unshare-uts", ["--unshare-uts"]],
  ["+ --unshare-cgroup-try", ["--unshare-cgroup-try"]],
  ["+ --unshare-net", ["--unshare-net"]],
  ["+ --proc /proc", ["--proc", "/proc"]],
  ["+ --dev /dev", ["--dev", "/dev"]],
  ["+ --tmpfs /tmp", ["--tmpfs", "/tmp"]],
];
const steps = [["sh -c true, no sandbox", sh]];
const added = [];
for (const [name, args] of cumulative) {
  added.push(...args);
  steps.push([name, ["bwrap", "--dev-bind", "/", "/", ...added, "--", ...sh]]);
}
const workspace = ["--ro-bind", empty, root, "--chdir", root, "--", ...sh];
steps.push(["the sandbox runner's own arguments (system and PATH directories instead of /, the workspace)", ["bwrap", ...systemArgs(false, PATH, root), ...workspace]]);
steps.push(["the same through a sandbox helper (its network and /dev made once, not by bwrap)", ["bwrap", ...systemArgs(false, PATH, root, true), ...workspace], { sandboxHelper: true }]);
steps.push(["the sandbox runner (its per-task code added; through a sandbox helper)", undefined]);

const local = new LocalRunner();
const sandbox = new SandboxRunner();
const request = (words) => ({
  task: "t",
  run: words === undefined ? "true" : words.join(" "),
  root,
  cwd: root,
  env: { PATH },
  inputs: [],
  depOutputs: [],
  outputs: [],
  signal: new AbortController().signal,
  stdout: () => {},
  stderr: () => {},
});

/** Mean ms per run of step `words` over `tasks` runs; `through`: the local runner's options for it (a sandbox helper). */
async function perTask(words, through) {
  const one = request(words);
  const runOnce = words === undefined ? () => sandbox.run(one) : through === undefined ? () => local.run(one) : () => local.runWrapped(one, undefined, through);
  for (let i = 0; i < 3; i++) await runOnce();
  const started = performance.now();
  for (let i = 0; i < tasks; i++) {
    const outcome = await runOnce();
    if (!outcome.ok) throw new Error(`${one.run}: ${JSON.stringify(outcome.failure)}`);
  }
  return (performance.now() - started) / tasks;
}

const load = loadavg()[0].toFixed(1);
const times = steps.map(() => []);
try {
  for (let round = 0; round < rounds; round++) {
    for (const [i, [, words, through]] of steps.entries()) times[i].push(await perTask(words, through));
  }
} finally {
  local.close();
  sandbox.close();
  rmSync(root, { recursive: true, force: true });
}

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}; load average ${load} at start, ${loadavg()[0].toFixed(1)} at end`);
console.log(`${tasks} runs per step per round, ${rounds} rounds; ms per run (median over rounds), and the step's cost over the one before`);
console.log("| step | ms per run | cost of the step |\n| --- | --- | --- |");
let before;
for (const [i, [name]] of steps.entries()) {
  const ms = median(times[i]);
  // The runner's own arguments replace the cumulative steps' --dev-bind / / + namespaces + mounts: compared with the last of them.
  console.log(`| ${name} | ${ms.toFixed(2)} | ${before === undefined ? "" : (ms - before).toFixed(2)} |`);
  before = ms;
}
