#!/usr/bin/env node
/**
 * How long rbuild takes to load a Buildfile that discovers a big workspace:
 * P npm-workspace packages (default 500; each depends on the one 25 before it,
 * as in run.mjs), and a Buildfile that is only `scripts("build", { deps: ["^build"] })`.
 * Times the "buildfile" phase (RBUILD_PHASES=1: evaluating the compiled
 * Buildfile, which reads every package.json and .gitignore, and declares the
 * tasks) of `rbuild all --dry-run` without a daemon, the compiled Buildfile
 * already cached, median of --runs.
 *
 *   npm run bench:load-workspace
 *   node bench/load-workspace.mjs --packages 1000 --runs 9
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const RBUILD = join(here, "..", "cli", "bin", "rbuild.js");
const { values } = parseArgs({ options: { packages: { type: "string", default: "500" }, runs: { type: "string", default: "7" } } });
const P = Number(values.packages);
const RUNS = Number(values.runs);
const dir = join(here, "work", "load-workspace");

rmSync(dir, { recursive: true, force: true });
for (let i = 0; i < P; i++) {
  const deps = i >= 25 ? { [`p${i - 25}`]: "1.0.0" } : {};
  mkdirSync(join(dir, `pkgs/p${i}/src`), { recursive: true });
  writeFileSync(join(dir, `pkgs/p${i}/src/index.txt`), `package ${i}\n`);
  writeFileSync(join(dir, `pkgs/p${i}/package.json`), JSON.stringify({ name: `p${i}`, version: "1.0.0", scripts: { build: "cp src/index.txt out.txt" }, dependencies: deps }, null, 2));
}
writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "load-workspace", private: true, workspaces: ["pkgs/*"] }, null, 2));
writeFileSync(join(dir, "package-lock.json"), "{}\n");
writeFileSync(join(dir, ".gitignore"), "node_modules\nout.txt\n");
writeFileSync(
  join(dir, "Buildfile.ts"),
  `import { scripts, task } from "rbuild";\ntask({ name: "all", deps: scripts("build", { deps: ["^build"], outputs: ["out.txt"] }) });\n`,
);

const times = [];
for (let r = 0; r <= RUNS; r++) {
  const result = spawnSync(process.execPath, [RBUILD, "all", "--dry-run"], { cwd: dir, env: { ...process.env, RBUILD_DAEMON: "0", RBUILD_PHASES: "1", RBUILD_CACHE_DIR: "" }, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`rbuild failed (${result.status}):\n${result.stderr}`);
  const tasks = (result.stdout.match(/^would run|^  run /gm) ?? []).length;
  const ms = Number(/buildfile ([\d.]+)ms/.exec(result.stderr)?.[1]);
  if (Number.isNaN(ms)) throw new Error(`no buildfile phase in:\n${result.stderr}`);
  // The first run compiles the Buildfile; the rest load it from the cache, as every build after the first.
  if (r > 0) times.push(ms);
  if (r === 0 && tasks === 0 && !result.stdout.includes(`p${P - 1}#build`)) throw new Error(`the dry run does not list p${P - 1}#build:\n${result.stdout.slice(0, 2000)}`);
}
times.sort((a, b) => a - b);
console.log(`load-workspace: ${P} packages on ${cpus().length} cores: buildfile phase median ${times[Math.floor(times.length / 2)].toFixed(1)} ms (${times.map((t) => t.toFixed(1)).join(", ")})`);
// KEEP=1 leaves the workspace for profiling.
if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
