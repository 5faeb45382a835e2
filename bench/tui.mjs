#!/usr/bin/env node
/**
 * The terminal UI's cost: a cold build of run.mjs's workspace (P packages of F
 * files, one trivial task each, in layers of 25) with `--output tui` against
 * `--output plain`, both on a real pseudo-terminal: a detached tmux session of
 * 120 x 40 running rbuild in Node (no daemon, the cache removed before each
 * build). The time is taken inside the pane, from rbuild's start to its exit,
 * by a small Node wrapper that writes it to a file, with the CPU time of the
 * processes it waited for (user + sys, from /proc: steadier than wall time on a
 * shared machine; in practice rbuild alone, as it equals main + threads: the
 * tasks, children of the process helper, do not reach it), that of rbuild's
 * main thread alone (the build's critical path) and of its other threads (the
 * TUI draws on one of its own, and V8 compiles and collects its code on
 * others). Rounds alternate which mode goes first. Goal (issue 24): the TUI
 * adds at most 3 %; the last line says how much it adds.
 *
 *   node bench/tui.mjs                      # P=1000, F=10, 5 runs of each
 *   node bench/tui.mjs --packages 200 --runs 3
 *   node bench/tui.mjs --before /tmp/old    # also `--output tui` of an earlier built checkout, in the same rounds
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { layeredArgs } from "./layered-args.mjs";
import { writeLayeredWorkspace } from "./layered-workspace.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const RBUILD = join(here, "..", "cli", "bin", "rbuild.js");
// --before DIR: a built checkout of an earlier rbuild, whose `--output tui` is timed too ("tui-before").
const { values, P, F, RUNS } = layeredArgs({ before: { type: "string" } });
const BEFORE = values.before === undefined ? undefined : join(resolve(values.before), "cli", "bin", "rbuild.js");
const WORK = join(here, "work-tui");

/** One cold build in a tmux pane with `--output mode` ("tui-before": the earlier checkout's tui): its seconds, from rbuild's start to its exit. */
async function coldBuild(dir, mode) {
  rmSync(join(dir, ".rbuild"), { recursive: true, force: true });
  for (let i = 0; i < P; i++) rmSync(join(dir, `pkgs/p${i}/out.txt`), { force: true });
  spawnSync("sync");
  const timeFile = join(WORK, `time-${mode}`);
  rmSync(timeFile, { force: true });
  // rbuild's CPU time as it exits (Linux: /proc): its main thread's task, and the whole process's (every
  // thread, those gone included: the TUI's, the input warmer's, V8's and libuv's), without its tasks.
  const mainFile = `${timeFile}-main`;
  writeFileSync(
    join(WORK, "main-cpu.cjs"),
    `process.on("exit", () => { const fs = require("fs"); const cpu = (file) => { const s = fs.readFileSync(file, "utf8").split(") ")[1].split(" "); return (Number(s[11]) + Number(s[12])) / 100; }; fs.writeFileSync(${JSON.stringify(mainFile)}, cpu("/proc/self/task/" + process.pid + "/stat") + " " + cpu("/proc/self/stat")); });`,
  );
  const argv = ["--require", join(WORK, "main-cpu.cjs"), mode === "tui-before" ? BEFORE : RBUILD, "all", "-j", values.jobs, "--output", mode === "tui-before" ? "tui" : mode];
  const wrapper = `const t = process.hrtime.bigint(); const r = require("child_process").spawnSync(process.execPath, ${JSON.stringify(argv)}, { stdio: "inherit" }); const wall = Number(process.hrtime.bigint() - t) / 1e9; const stat = require("fs").readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" "); require("fs").writeFileSync(${JSON.stringify(timeFile)}, r.status + " " + wall + " " + (Number(stat[13]) + Number(stat[14])) / 100);`;
  const socket = join(WORK, "tmux.sock");
  const command = `env -i PATH='${process.env.PATH}' HOME='${dir}' TERM=tmux-256color RBUILD_DAEMON=0 '${process.execPath}' -e '${wrapper.replaceAll("'", "'\\''")}'`;
  execFileSync("tmux", ["-S", socket, "-f", "/dev/null", "new-session", "-d", "-s", "b", "-x", "120", "-y", "40", "-c", dir, command]);
  try {
    while (!existsSync(timeFile)) await sleep(100);
    await sleep(50);
  } finally {
    spawnSync("tmux", ["-S", socket, "kill-server"]);
  }
  const [status, wall, cpu] = readFileSync(timeFile, "utf8").split(" ");
  if (status !== "0") throw new Error(`rbuild --output ${mode} exited with ${status}`);
  const [main, rbuild] = readFileSync(mainFile, "utf8").split(" ").map(Number);
  return { wall: Number(wall), cpu: Number(cpu), main, threads: rbuild - main };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

writeLayeredWorkspace(WORK, P, F);
const loadBefore = loadavg().map((x) => x.toFixed(1)).join(" ");
const modes = BEFORE === undefined ? ["tui", "plain"] : ["tui", "plain", "tui-before"];
const times = Object.fromEntries(modes.map((mode) => [mode, []]));
for (let round = 0; round < RUNS; round++) {
  for (const mode of round % 2 === 0 ? modes : [...modes].reverse()) {
    const t = await coldBuild(WORK, mode);
    times[mode].push(t);
    console.log(`round ${round + 1}: ${mode} ${t.wall.toFixed(3)}s (cpu ${t.cpu.toFixed(2)}s, main thread ${t.main.toFixed(2)}s, other threads ${t.threads.toFixed(2)}s)`);
  }
}
const list = (xs) => xs.map((x) => x.toFixed(3)).join(", ");
console.log(
  `cold build of ${P} tasks on a 120x40 tmux pane, -j ${values.jobs}, median of ${RUNS} (wall; cpu: rbuild, user+sys;` +
    ` main: rbuild's main thread; threads: rbuild's other threads, the TUI's among them; load average before: ${loadBefore}):`,
);
const medians = {};
for (const what of ["wall", "cpu", "main", "threads"]) {
  const [tui, plain] = [median(times.tui.map((t) => t[what])), median(times.plain.map((t) => t[what]))];
  medians[what] = { tui, plain };
  const relative = what === "threads" ? "" : `  tui vs plain ${(((tui - plain) / plain) * 100).toFixed(1)} %`;
  const before = BEFORE === undefined ? "" : `  tui-before ${median(times["tui-before"].map((t) => t[what])).toFixed(3)}s (${list(times["tui-before"].map((t) => t[what]))})`;
  console.log(`  ${what}: plain ${plain.toFixed(3)}s (${list(times.plain.map((t) => t[what]))})  tui ${tui.toFixed(3)}s (${list(times.tui.map((t) => t[what]))})${relative}${before}`);
}
// The goal's figure: wall on a quiet machine; on a busy one the CPU the TUI adds is the steadier hint.
const overhead = (what) => (((medians[what].tui - medians[what].plain) / medians[what].plain) * 100).toFixed(1);
console.log(`TUI overhead: wall ${overhead("wall")} %, cpu ${overhead("cpu")} % (+${(medians.cpu.tui - medians.cpu.plain).toFixed(3)}s; goal: at most 3 %)`);
rmSync(WORK, { recursive: true, force: true });
