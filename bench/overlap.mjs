#!/usr/bin/env node
/**
 * How long the output-overlap check (packages/hash, overlappingOutputs) takes
 * on a large workspace. The planner runs it at every Buildfile load, so every
 * `rbuild` invocation pays it, no-op builds included. Three cases:
 *
 *   packages   1,000 tasks with `pkg-N/dist/**` and `pkg-N/lib/*.js` (no overlaps)
 *   + *.log    the same plus one task with the root-level output `*.log` (no overlaps)
 *   + **\/*.map the same plus one task with `**\/*.map` (1,000 real overlaps)
 *
 *   npm run bench:overlap                 # 5 runs per case
 *   node bench/overlap.mjs --runs 9 --packages 2000
 *
 * Each run is a fresh node process, as each rbuild invocation is: the time is
 * that of one call, cold (no JIT warm-up, nothing memoised), measured inside
 * the child around the call alone (wall clock, and the process's CPU time,
 * which a busy machine disturbs less). Reports the medians and every run.
 * Build first (`npm run build`): this imports packages/hash/dist.
 */
import { spawnSync } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    packages: { type: "string", default: "1000" },
    /** Internal: run one case in this process and print its time as JSON. */
    case: { type: "string" },
  },
});
const packages = Number(values.packages);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const CASES = {
  packages: [],
  "+ *.log": [{ task: "logs", patterns: ["*.log"] }],
  "+ **/*.map": [{ task: "maps", patterns: ["**/*.map"] }],
};

if (values.case !== undefined) {
  const { overlappingOutputs } = await import(pathToFileURL(join(here, "..", "packages", "hash", "dist", "index.js")).href);
  const sets = Array.from({ length: packages }, (_, n) => ({ task: `pkg-${n}`, patterns: [`pkg-${n}/dist/**`, `pkg-${n}/lib/*.js`] }));
  sets.push(...CASES[values.case]);
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const found = overlappingOutputs(sets);
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  process.stdout.write(JSON.stringify({ ms, cpu: (cpu.user + cpu.system) / 1000, overlaps: found.length, first: found[0]?.path }));
} else {
  console.log(`${packages} packages, ${values.runs} runs per case, ${cpus().length} × ${cpus()[0]?.model}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
  console.log("| case | median | runs (ms) | median CPU | overlaps | first witness |");
  console.log("| --- | --- | --- | --- | --- | --- |");
  for (const name of Object.keys(CASES)) {
    const runs = [];
    const cpus = [];
    let last;
    for (let run = 0; run < Number(values.runs); run++) {
      const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--case", name, "--packages", String(packages)], { encoding: "utf8" });
      if (child.status !== 0) throw new Error(`case ${name} failed:\n${child.stderr}`);
      last = JSON.parse(child.stdout);
      runs.push(last.ms);
      cpus.push(last.cpu);
    }
    console.log(`| ${name} | ${median(runs).toFixed(1)} ms | ${runs.map((ms) => ms.toFixed(1)).join(", ")} | ${median(cpus).toFixed(1)} ms | ${last.overlaps} | ${last.first ?? "-"} |`);
  }
}
