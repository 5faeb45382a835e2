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
 * `--lockfile npm` writes a package-lock.json v3 instead of `{}`: 10 external
 * packages per workspace package out of 2,000, each with 3 dependencies, as
 * npm would lock them; scripts() keys each task on its package's entries,
 * cached by the lockfile's content (the usual load). `--lockfile npm-changed`
 * rewrites that lockfile (another root version) before every run, so that
 * every load parses it.
 *
 *   npm run bench:load-workspace
 *   node bench/load-workspace.mjs --packages 1000 --runs 9
 *   node bench/load-workspace.mjs --lockfile npm-changed
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const RBUILD = join(here, "..", "cli", "bin", "rbuild.js");
const { values } = parseArgs({ options: { packages: { type: "string", default: "500" }, runs: { type: "string", default: "7" }, lockfile: { type: "string", default: "none" } } });
const P = Number(values.packages);
const RUNS = Number(values.runs);
const LOCKFILE = values.lockfile;
if (!["none", "npm", "npm-changed"].includes(LOCKFILE)) throw new Error(`--lockfile is none, npm or npm-changed, not ${LOCKFILE}`);
const EXTERNAL = 2000;
/** The external packages package i depends on: 10 of EXTERNAL, spread. */
const externalsOf = (i) => Array.from({ length: 10 }, (_, k) => `ext${(i * 37 + k * 211) % EXTERNAL}`);

/** A package-lock.json v3 for the workspace: what npm writes after installing it. */
function npmLock(rootVersion) {
  const packages = { "": { name: "load-workspace", version: rootVersion, workspaces: ["pkgs/*"] } };
  for (let j = 0; j < EXTERNAL; j++) {
    const dependencies = Object.fromEntries([1, 2, 3].map((k) => [`ext${(j * 7 + k * 101) % EXTERNAL}`, "^1.0.0"]));
    packages[`node_modules/ext${j}`] = { version: "1.0.0", resolved: `file:vendor/ext${j}-1.0.0.tgz`, integrity: `sha512-${"x".repeat(86)}${j}==`, license: "MIT", dependencies };
  }
  for (let i = 0; i < P; i++) {
    packages[`node_modules/p${i}`] = { resolved: `pkgs/p${i}`, link: true };
    const dependencies = Object.fromEntries(externalsOf(i).map((name) => [name, "^1.0.0"]));
    if (i >= 25) dependencies[`p${i - 25}`] = "1.0.0";
    packages[`pkgs/p${i}`] = { name: `p${i}`, version: "1.0.0", dependencies };
  }
  return `${JSON.stringify({ name: "load-workspace", version: rootVersion, lockfileVersion: 3, requires: true, packages }, null, 2)}\n`;
}
const dir = join(here, "work", "load-workspace");

rmSync(dir, { recursive: true, force: true });
for (let i = 0; i < P; i++) {
  const deps = i >= 25 ? { [`p${i - 25}`]: "1.0.0" } : {};
  if (LOCKFILE !== "none") for (const name of externalsOf(i)) deps[name] = "^1.0.0";
  mkdirSync(join(dir, `pkgs/p${i}/src`), { recursive: true });
  writeFileSync(join(dir, `pkgs/p${i}/src/index.txt`), `package ${i}\n`);
  writeFileSync(join(dir, `pkgs/p${i}/package.json`), JSON.stringify({ name: `p${i}`, version: "1.0.0", scripts: { build: "cp src/index.txt out.txt" }, dependencies: deps }, null, 2));
}
writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "load-workspace", private: true, workspaces: ["pkgs/*"] }, null, 2));
writeFileSync(join(dir, "package-lock.json"), LOCKFILE === "none" ? "{}\n" : npmLock("1.0.0"));
writeFileSync(join(dir, ".gitignore"), "node_modules\nout.txt\n");
writeFileSync(
  join(dir, "Buildfile.ts"),
  `import { scripts, task } from "rbuild";\ntask({ name: "all", deps: scripts("build", { deps: ["^build"], outputs: ["out.txt"] }) });\n`,
);

const times = [];
for (let r = 0; r <= RUNS; r++) {
  if (LOCKFILE === "npm-changed") writeFileSync(join(dir, "package-lock.json"), npmLock(`1.0.${r}`));
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
console.log(`load-workspace: ${P} packages, lockfile ${LOCKFILE}, on ${cpus().length} cores: buildfile phase median ${times[Math.floor(times.length / 2)].toFixed(1)} ms (${times.map((t) => t.toFixed(1)).join(", ")})`);
// KEEP=1 leaves the workspace for profiling.
if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
