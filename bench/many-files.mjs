#!/usr/bin/env node
/**
 * One task that writes N small files (default 100,000) in D directories, and
 * how long rbuild takes to build it, to restore it from the local cache after
 * `rbuild clean`, to build it again after `rbuild clean` (--force), and to find
 * it up to date. The restore of many small files must be at least as fast as
 * building them (issue 20, item 16).
 *
 *   node bench/many-files.mjs                  # N=100000, D=10, 3 runs
 *   node bench/many-files.mjs --files 20000 --runs 1 --rbuild /elsewhere/cli/bin/rbuild.js
 *   node bench/many-files.mjs --dir /dev/shm/many    # on a tmpfs
 *
 * Each run starts from a fresh workspace in bench/work-many (no daemon, so
 * every time is a whole rbuild process). The outputs are checked after every
 * restore and rebuild.
 *
 * Compare the restore with the rebuild after clean, not with the first build:
 * on ext4 without a journal (this machine's disk) creating a file soon after
 * many were deleted costs far more than in a fresh directory (the kernel skips
 * every recently deleted inode, see packages/store/src/extract-layer.ts), and
 * both of those create their files right after `rbuild clean` deleted them.
 * Which of the two goes first alternates from run to run.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    rbuild: { type: "string", default: join(here, "..", "cli", "bin", "rbuild.js") },
    files: { type: "string", default: "100000" },
    dirs: { type: "string", default: "10" },
    runs: { type: "string", default: "3" },
    /** Where the workspace goes (a tmpfs such as /dev/shm shows rbuild's own costs without the disk's). */
    dir: { type: "string", default: join(here, "work-many") },
  },
});
const RBUILD = values.rbuild;
const N = Number(values.files);
const D = Number(values.dirs);
const RUNS = Number(values.runs);
const WORK = values.dir;

// The task's own work is cheap (one node process writing the files), so the times are rbuild's.
const GEN = `const fs=require("fs");for(let d=0;d<${D};d++){fs.mkdirSync("out/d"+d,{recursive:true});for(let i=d;i<${N};i+=${D})fs.writeFileSync("out/d"+d+"/f"+i+".txt","file "+i+"\\n")}`;
const BUILDFILE = `import { task } from "rbuild";
task({ name: "gen", inputs: ["gen.cjs"], outputs: ["out/**"], run: "node gen.cjs" });
`;

function rbuild(args) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [RBUILD, ...args], { cwd: WORK, env: { ...process.env, RBUILD_DAEMON: "0", RBUILD_CACHE_DIR: "" }, encoding: "utf8", maxBuffer: 1 << 30 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`rbuild ${args.join(" ")} failed (${result.status}):\n${result.stdout}${result.stderr}`);
  return { seconds, stdout: result.stdout };
}

function check() {
  let count = 0;
  for (let d = 0; d < D; d++) {
    for (const name of readdirSync(join(WORK, "out", `d${d}`))) {
      const i = Number(name.slice(1, -4));
      if (readFileSync(join(WORK, "out", `d${d}`, name), "utf8") !== `file ${i}\n`) throw new Error(`out/d${d}/${name} has the wrong content`);
      count++;
    }
  }
  if (count !== N) throw new Error(`${count} files restored, ${N} expected`);
}

const times = { build: [], clean: [], restore: [], "rebuild after clean": [], noop: [] };
function clean() {
  times.clean.push(rbuild(["clean"]).seconds);
}
function restore() {
  clean();
  spawnSync("sync");
  const result = rbuild(["gen"]);
  if (!result.stdout.includes("(cached")) throw new Error(`the build after clean did not restore:\n${result.stdout}`);
  times.restore.push(result.seconds);
  check();
}
function rebuild() {
  clean();
  spawnSync("sync");
  const result = rbuild(["gen", "--force"]);
  times["rebuild after clean"].push(result.seconds);
  check();
}
for (let run = 0; run < RUNS; run++) {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  writeFileSync(join(WORK, "Buildfile.ts"), BUILDFILE);
  writeFileSync(join(WORK, "gen.cjs"), GEN);
  spawnSync("sync");
  times.build.push(rbuild(["gen"]).seconds);
  times.noop.push(rbuild(["gen"]).seconds);
  if (run % 2 === 0) { restore(); rebuild(); } else { rebuild(); restore(); }
  console.log(`run ${run + 1}: ${Object.entries(times).map(([step, t]) => `${step} ${t.at(-1).toFixed(2)} s`).join(", ")}`);
}
rmSync(WORK, { recursive: true, force: true });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`\n${N} files in ${D} directories, ${RUNS} runs, node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${Math.round(totalmem() / 2 ** 30)} GiB`);
console.log("| step | median | runs |\n| --- | --- | --- |");
for (const [step, t] of Object.entries(times)) console.log(`| ${step} | ${median(t).toFixed(2)} s | ${t.map((x) => x.toFixed(2)).join(", ")} |`);
