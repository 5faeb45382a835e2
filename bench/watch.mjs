#!/usr/bin/env node
/**
 * `rbuild watch`'s latency (issue 24, goal: an edit reaches `task-started`
 * within 300 ms, median): run.mjs's generated workspace (layered-workspace.mjs,
 * P packages of F files), `rbuild watch all --output json` running in Node (no
 * daemon) after its first, cold build, then N edits, one at a time: a source
 * file of a package rewritten, and the time from just before the write to the
 * `task-started` event of that package's task read from the watch's stdout.
 * Each edit waits for the rebuild it starts to end (the watch says it is
 * watching again) and then a quiet SPACING_MS, so every edit meets an idle watch.
 *
 *   npm run bench:watch                         # P=1000, F=10, 20 edits
 *   npm run bench:watch -- --packages 200 --edits 10
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { writeLayeredWorkspace } from "./layered-workspace.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const RBUILD = join(here, "..", "cli", "bin", "rbuild.js");
const { values } = parseArgs({
  options: {
    packages: { type: "string", default: "1000" },
    files: { type: "string", default: "10" },
    edits: { type: "string", default: "20" },
  },
});
const P = Number(values.packages);
const F = Number(values.files);
const EDITS = Number(values.edits);
const SPACING_MS = 300;
const WORK = join(here, "work-watch");

writeLayeredWorkspace(WORK, P, F);
const watch = spawn(process.execPath, [RBUILD, "watch", "all", "--output", "json"], {
  cwd: WORK,
  env: { ...process.env, RBUILD_DAEMON: "0" },
  stdio: ["ignore", "pipe", "pipe"],
});

// Each JSON event and each "watching" line as it arrives, with the time it was read.
let waiters = [];
let watching = 0;
let stderr = "";
const arrived = (what) => {
  const now = performance.now();
  waiters = waiters.filter((waiter) => !waiter(what, now));
};
let out = "";
watch.stdout.on("data", (chunk) => {
  out += chunk;
  let cut;
  while ((cut = out.indexOf("\n")) !== -1) {
    const line = out.slice(0, cut);
    out = out.slice(cut + 1);
    if (line.startsWith("{")) arrived(JSON.parse(line));
  }
});
watch.stderr.on("data", (chunk) => {
  stderr += chunk;
  const count = stderr.split("\n").filter((line) => line.startsWith("rbuild: watching")).length;
  if (count > watching) {
    watching = count;
    arrived({ type: "watching", count });
  }
});
watch.on("exit", (code) => arrived({ type: "exit", code }));

/** Resolves with the time `test` first held for something that arrived (two minutes at most). */
function next(test, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what} within 120 s; stderr:\n${stderr}`)), 120_000);
    waiters.push((event, now) => {
      if (event.type === "exit" && !test(event)) {
        clearTimeout(timer);
        reject(new Error(`rbuild watch exited (${event.code}) before ${what}; stderr:\n${stderr}`));
        return true;
      }
      if (!test(event)) return false;
      clearTimeout(timer);
      resolve(now);
      return true;
    });
  });
}

const first = performance.now();
await next((e) => e.type === "watching" && e.count === 1, "first build");
console.log(`first (cold) build of ${P} tasks and the watcher ready: ${((performance.now() - first) / 1000).toFixed(1)} s`);

const latencies = [];
/** From the write to the rebuild's build-started: the quiet period, loading the Buildfile, planning, the freshness check. */
const beginnings = [];
for (let k = 0; k < EDITS; k++) {
  await sleep(SPACING_MS);
  const pkg = (k * 37 + 11) % P;
  const rebuilt = next((e) => e.type === "watching" && e.count === k + 2, `the rebuild after edit ${k + 1}`);
  const begun = next((e) => e.type === "build-started", `build-started after edit ${k + 1}`);
  const reached = next((e) => e.type === "task-started" && e.task === `p${pkg}`, `task-started of p${pkg}`);
  const wrote = performance.now();
  writeFileSync(join(WORK, `pkgs/p${pkg}/src/f0.txt`), `package ${pkg} file 0, edit ${k + 1}\n`);
  beginnings.push((await begun) - wrote);
  latencies.push((await reached) - wrote);
  await rebuilt;
}
watch.kill("SIGINT");
const code = await new Promise((resolve) => (watch.exitCode !== null ? resolve(watch.exitCode) : watch.once("exit", resolve)));
if (code !== 130) throw new Error(`rbuild watch exited ${code} on SIGINT, not 130`);

const ms = (x) => `${x.toFixed(0)} ms`;
function stats(list) {
  const sorted = [...list].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return `median ${ms(at(0.5))}, p90 ${ms(at(0.9))}, min ${ms(sorted[0])}, max ${ms(sorted.at(-1))}`;
}
console.log(`edit -> task-started over ${EDITS} edits (${P} tasks): ${stats(latencies)}`);
console.log(`  of which edit -> build-started: ${stats(beginnings)}`);
console.log(`load average at the end: ${loadavg().map((x) => x.toFixed(1)).join(" ")}`);
