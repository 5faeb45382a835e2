#!/usr/bin/env node
/**
 * `rbuild history` and `rbuild errors` speed over 10,000 recorded builds (issue 24.6): a workspace
 * whose index is filled through the store API (as builds record themselves: beginBuild, finishBuild
 * with every task's run), --tasks tasks a build, every 10th build with a failure (five kinds, each
 * with a number and a temp path that change from one to the next). The history keeps the last
 * 1,000 builds. Then the wall time of each command as a user types it (cli/bin/rbuild): answered
 * by the workspace's daemon (started as a build starts it; its log says it answered each one),
 * and with RBUILD_DAEMON=0 (Node started, CPU time too); median of --runs after one run to warm
 * the page cache; and the same queries in process.
 *
 *   npm run build && node bench/history.mjs
 *   node bench/history.mjs --tasks 1000 --builds 10000 --runs 7
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const RBUILD = join(here, "..", "cli", "bin", "rbuild");
const store = await import(join(here, "..", "packages", "store", "dist", "index.js"));
const { values } = parseArgs({
  options: { runs: { type: "string", default: "7" }, tasks: { type: "string", default: "200" }, builds: { type: "string", default: "10000" } },
});
const RUNS = Number(values.runs);
const TASKS = Number(values.tasks);
const BUILDS = Number(values.builds);
const ENV = { ...process.env, RBUILD_DAEMON: "0", RBUILD_CACHE_DIR: "" };
const DAEMON_ENV = { ...ENV, RBUILD_DAEMON: "1" };

const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];

const root = mkdtempSync(join(tmpdir(), "rbuild-bench-history-"));
const names = Array.from({ length: TASKS }, (_, i) => `pkg-${i}:build`);
writeFileSync(join(root, "Buildfile.ts"), `import { task } from "rbuild";\n${names.map((name) => `task({ name: ${JSON.stringify(name)}, run: "true" });`).join("\n")}\n`);

// --- fill ---
const KINDS = [
  (n) => [`src/index.ts(${n},7): error TS2304: Cannot find name 'x${n % 3}'.`],
  (n) => [`Error: ENOENT: no such file or directory, open '/tmp/tmp.${n.toString(36)}/input.json'`],
  (n) => [`test failed after ${n}ms`, `  at Object.<anonymous> (/tmp/jest-${n}/a.test.js:${n % 90}:3)`],
  (n) => [`segfault at 0x${(n * 7919).toString(16).padStart(8, "0")} ip ${(n * 104729).toString(16).padStart(12, "0")}`],
  (n) => [`[${new Date(1_700_000_000_000 + n * 1000).toISOString()}] lint: ${n} problems`],
];
const filled = performance.now();
const opened = store.Store.open({ dir: join(root, ".rbuild") });
const place = { commit: "0123456789abcdef0123456789abcdef01234567", host: "bench" };
for (let b = 0; b < BUILDS; b++) {
  const id = opened.beginBuild(["all"], place);
  // Seven tasks fail in turn, with five kinds of error: 35 groups, each failure repeated.
  const failing = b % 10 === 0 ? names[(b / 10) % 7] : undefined;
  const runs = names.map((task) => {
    const failed = task === failing;
    return {
      task,
      key: failed ? null : `${task}-key-${b % 50}`,
      status: failed ? "failed" : b % 3 === 0 ? "ran" : "cached",
      cache: failed || b % 3 === 0 ? null : "local",
      pure: true,
      durationMs: 40 + (b % 17),
      exitCode: failed ? 2 : 0,
      reasons: b % 3 === 0 ? ["input-changed: src/index.ts"] : [],
      error: failed ? `Task "${task}" failed: its command exited with code 2.` : null,
      outputsDigest: failed ? null : "d".repeat(64),
      layer: null,
      log: null,
      ...(failed ? { tail: KINDS[(b / 10) % KINDS.length](b) } : {}),
    };
  });
  opened.finishBuild(id, failing === undefined, runs);
}
opened.close();
const fillMs = performance.now() - filled;

// --- in process ---
const reader = store.Store.open({ dir: join(root, ".rbuild") });
const inProcess = {};
const time = (label, work) => {
  const times = [];
  let result;
  for (let r = 0; r <= RUNS; r++) {
    const started = performance.now();
    result = work();
    if (r > 0) times.push(performance.now() - started);
  }
  inProcess[label] = { ms: median(times), result };
};
const probe = names[Math.floor(TASKS / 2)];
time("listBuilds 20", () => store.listBuilds(reader, 20).length);
time(`taskRuns ${probe} 20`, () => store.taskRuns(reader, probe, 20).length);
time("errorGroups", () => store.errorGroups(reader).length);
time(`errorGroups ${names[0]}`, () => store.errorGroups(reader, { task: names[0] }).length);
const kept = store.listBuilds(reader, 100_000).length;
reader.close();

// --- the commands ---
// Each command's CPU time (user + system, Node's start included), written by a preload as it exits:
// on a loaded machine wall times scatter, CPU times much less.
const PRELOAD = join(root, "cpu-at-exit.cjs");
writeFileSync(PRELOAD, `process.on("exit", () => { const u = process.cpuUsage(); require("fs").writeSync(2, "\\nBENCH_CPU " + (u.user + u.system) / 1000 + "\\n"); });\n`);
function command(args, env = ENV) {
  const times = [];
  const cpu = [];
  let stdout = "";
  for (let r = 0; r <= RUNS; r++) {
    const started = performance.now();
    // Node's CPU time comes from a preload, given to the Node that bin/rbuild starts through NODE_OPTIONS.
    const result = spawnSync(RBUILD, args, { cwd: root, env: env === ENV ? { ...env, NODE_OPTIONS: `--require ${PRELOAD}` } : env, encoding: "utf8", maxBuffer: 1 << 28 });
    const ms = performance.now() - started;
    if (result.status !== 0) throw new Error(`rbuild ${args.join(" ")} failed (${result.status}):\n${result.stderr}`);
    if (r > 0) times.push(ms);
    if (r > 0 && env === ENV) cpu.push(Number(/BENCH_CPU ([\d.]+)/.exec(result.stderr)?.[1]));
    stdout = result.stdout;
  }
  return { ms: median(times), times, cpuMs: cpu.length > 0 ? median(cpu) : NaN, lines: stdout.split("\n").length - 1 };
}
const QUERIES = [["history"], ["history", "--task", probe], ["errors"], ["errors", "--task", names[0]], ["show", probe]];
const baseline = command(["--version"]);
const commands = QUERIES.map((args) => ({ args, ...command(args) }));

// --- the same through the daemon: a build starts it, as any build does ---
const LOG = join(root, ".rbuild", "daemon.log");
const built = spawnSync(RBUILD, [probe], { cwd: root, env: DAEMON_ENV, encoding: "utf8" });
if (built.status !== 0) throw new Error(`the build that starts the daemon failed:\n${built.stderr}`);
for (let i = 0; i < 600 && !(existsSync(LOG) && readFileSync(LOG, "utf8").includes("warmed up")); i++) await new Promise((done) => setTimeout(done, 50));
const answered = () => (existsSync(LOG) ? readFileSync(LOG, "utf8").split("\n").filter((line) => / query: /.test(line)).length : 0);
const before = answered();
const viaDaemon = QUERIES.map((args) => ({ args, ...command(args, DAEMON_ENV) }));
const served = answered() - before;
const daemonPid = /\[(\d+)\] serving /.exec(readFileSync(LOG, "utf8"))?.[1];

console.log(`${BUILDS} builds of ${TASKS} tasks recorded in ${(fillMs / 1000).toFixed(1)} s; the history keeps ${kept}`);
console.log(`RBUILD_DAEMON=0 \`rbuild --version\` (perl, then Node): ${baseline.ms.toFixed(1)} ms wall, ${baseline.cpuMs.toFixed(1)} ms CPU`);
for (const c of commands) {
  console.log(`RBUILD_DAEMON=0 rbuild ${c.args.join(" ")}: ${c.ms.toFixed(1)} ms wall (${c.times.map((t) => t.toFixed(0)).join(", ")}), ${c.cpuMs.toFixed(1)} ms CPU; ${c.lines} lines`);
}
console.log(`the daemon answered ${served} of ${viaDaemon.length * (RUNS + 1)} queries`);
for (const c of viaDaemon) console.log(`daemon rbuild ${c.args.join(" ")}: ${c.ms.toFixed(1)} ms wall (${c.times.map((t) => t.toFixed(0)).join(", ")}); ${c.lines} lines`);
for (const [label, { ms, result }] of Object.entries(inProcess)) console.log(`in process, ${label}: ${ms.toFixed(2)} ms (${result} rows)`);
if (daemonPid !== undefined) process.kill(Number(daemonPid), "SIGTERM");
rmSync(root, { recursive: true, force: true });
if (served !== viaDaemon.length * (RUNS + 1)) throw new Error("the daemon did not answer every query: see its log");
