#!/usr/bin/env node
/**
 * rbuild against make, ninja and turbo (each when it is installed) on the same
 * generated workspace, in one run: cold build, no-op rebuild, one-file
 * incremental rebuild, and rebuild after deleting every output (a restore from
 * the cache for rbuild; a rebuild for make and ninja, which have no cache).
 *
 * The workspace: P packages of F source files in a layered DAG (layers of 25;
 * each package depends on the package at its position in the layer before, and
 * every fifth also on its neighbour). Each package's task is
 *   cat <its sources> <its deps' outputs> | md5sum > pkgs/pN/out.txt
 * so tool overhead dominates. Every tool's outputs are checked against
 * md5s computed here before its times are trusted.
 *
 * For turbo the workspace is also an npm workspace: pkgs/pN/package.json has
 * the same command as its `build` script (run in the package directory) and
 * depends on its deps' packages; turbo.json says `build` needs `^build`.
 * turbo is found on PATH or given with --turbo (the repo pins one as a
 * devDependency for the cache server's real-client tests, so `npm run bench`
 * finds node_modules/.bin/turbo; `npm install --prefix /tmp/turbo turbo@2`
 * puts another in /tmp/turbo/node_modules/.bin/turbo).
 *
 *   npm run bench                       # P=1000, F=10
 *   npm run bench -- --packages 100 --files 5 --runs 3
 *   npm run bench -- --turbo /tmp/turbo/node_modules/.bin/turbo
 *   npm run bench -- --tools none --turbo ...   # only the remote restores
 *   npm run bench -- --before /tmp/old-rbuild   # also an earlier rbuild (a built checkout), side by side
 *   npm run bench -- --packages 200 --tools rbuild-scripts,rbuild-scripts-no-daemon,turbo --turbo ...
 *
 * The rbuild-scripts tools run the same npm workspace as turbo does, from a
 * Buildfile that declares nothing by hand: `scripts("build", { deps: ["^build"] })`
 * (each package's script run by `npm run`, as turbo runs it).
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { layeredArgs } from "./layered-args.mjs";
import { WIDTH, writeLayeredWorkspace } from "./layered-workspace.mjs";

const here = dirname(fileURLToPath(import.meta.url));
/** The installed command: the daemon's client, or rbuild in Node when no daemon answers. */
const RBUILD_COMMAND = join(here, "..", "cli", "bin", "rbuild");
const { values, P, F, RUNS, JOBS } = layeredArgs({
  turbo: { type: "string" },
  /** Which tools' local timings to take (comma-separated, or "none" for the remote restores only). */
  tools: { type: "string", default: "rbuild,rbuild-no-daemon,make,ninja,turbo" },
  /** A built checkout of an earlier rbuild, timed in the same rounds as "before" and "before-no-daemon". */
  before: { type: "string" },
});
const WORK = join(here, "work");

// --- the workspace ---

const layerOf = (i) => Math.floor(i / WIDTH);
function depsOf(i) {
  if (layerOf(i) === 0) return [];
  const deps = [i - WIDTH];
  if (i % 5 === 0 && (i % WIDTH) + 1 < WIDTH) deps.push(i - WIDTH + 1);
  return deps;
}
const src = (i, j) => `pkgs/p${i}/src/f${j}.txt`;
const out = (i) => `pkgs/p${i}/out.txt`;
const sources = (i) => Array.from({ length: F }, (_, j) => src(i, j));
const command = (i) => `cat ${[...sources(i), ...depsOf(i).map(out)].join(" ")} | md5sum > ${out(i)}`;

function generate(dir) {
  // The sources and the Buildfile; then the same build for make, ninja and turbo.
  writeLayeredWorkspace(dir, P, F);
  const all = Array.from({ length: P }, (_, i) => i);
  writeFileSync(
    join(dir, "Makefile"),
    `all: ${all.map(out).join(" ")}\n` + all.map((i) => `${out(i)}: ${[...sources(i), ...depsOf(i).map(out)].join(" ")}\n\t${command(i)}\n`).join(""),
  );
  writeFileSync(
    join(dir, "build.ninja"),
    "rule run\n  command = $cmd\n" + all.map((i) => `build ${out(i)}: run ${[...sources(i), ...depsOf(i).map(out)].join(" ")}\n  cmd = ${command(i)}\n`).join("") + `default ${all.map(out).join(" ")}\n`,
  );
  // The npm workspace turbo runs: the same commands, from each package's directory.
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "bench", private: true, workspaces: ["pkgs/*"], packageManager: "npm@10.9.0" }, null, 2));
  writeFileSync(join(dir, "turbo.json"), JSON.stringify({ tasks: { build: { dependsOn: ["^build"], inputs: ["src/**"], outputs: ["out.txt"] } } }, null, 2));
  for (let i = 0; i < P; i++) {
    const inPackage = [...Array.from({ length: F }, (_, j) => `src/f${j}.txt`), ...depsOf(i).map((d) => `../p${d}/out.txt`)];
    const pkg = {
      name: `p${i}`,
      version: "1.0.0",
      scripts: { build: `cat ${inPackage.join(" ")} | md5sum > out.txt` },
      dependencies: Object.fromEntries(depsOf(i).map((d) => [`p${d}`, "1.0.0"])),
    };
    writeFileSync(join(dir, `pkgs/p${i}/package.json`), JSON.stringify(pkg, null, 2));
  }
}

/** The Buildfile of the rbuild-scripts tools: the workspace's package scripts, nothing declared by hand. */
function useScriptsBuildfile(dir) {
  writeFileSync(
    join(dir, "Buildfile.ts"),
    `import { scripts, task } from "rbuild";
task({ name: "all", deps: scripts("build", { deps: ["^build"], inputs: ["src/**"], outputs: ["out.txt"] }) });
`,
  );
}

/** The md5 line each package's output must hold, computed here from the sources. */
function expected(dir) {
  const outputs = [];
  for (let i = 0; i < P; i++) {
    const parts = [...sources(i).map((f) => readFileSync(join(dir, f))), ...depsOf(i).map((d) => Buffer.from(outputs[d]))];
    outputs.push(`${createHash("md5").update(Buffer.concat(parts)).digest("hex")}  -\n`);
  }
  return outputs;
}

function verify(tool, dir) {
  const want = expected(dir);
  for (let i = 0; i < P; i++) {
    const path = join(dir, out(i));
    const got = existsSync(path) ? readFileSync(path, "utf8") : "(missing)";
    if (got !== want[i]) throw new Error(`${tool}: ${out(i)} is wrong: ${JSON.stringify(got)}, want ${JSON.stringify(want[i])}`);
  }
}

// --- the tools ---

const TOOLS = {
  // As on a developer's machine: the first build starts the daemon, which serves the rest (also under CI=true).
  rbuild: { available: () => true, run: () => [RBUILD_COMMAND, ["all", "-j", String(JOBS)], { RBUILD_CACHE_DIR: "", RBUILD_DAEMON: "1" }] },
  // As in CI: every build is a new Node process (through the rbuild command, as a user runs it).
  "rbuild-no-daemon": { available: () => true, run: () => [RBUILD_COMMAND, ["all", "-j", String(JOBS)], { RBUILD_CACHE_DIR: "", RBUILD_DAEMON: "0" }] },
  before: { available: () => BEFORE !== undefined, run: () => [BEFORE, ["all", "-j", String(JOBS)], { RBUILD_CACHE_DIR: "", RBUILD_DAEMON: "1" }] },
  "before-no-daemon": { available: () => BEFORE !== undefined, run: () => [BEFORE, ["all", "-j", String(JOBS)], { RBUILD_CACHE_DIR: "", RBUILD_DAEMON: "0" }] },
  "rbuild-scripts": {
    available: () => true,
    prepare: useScriptsBuildfile,
    run: () => [RBUILD_COMMAND, ["all", "-j", String(JOBS)], { RBUILD_CACHE_DIR: "", RBUILD_DAEMON: "1" }],
  },
  "rbuild-scripts-no-daemon": {
    available: () => true,
    prepare: useScriptsBuildfile,
    run: () => [RBUILD_COMMAND, ["all", "-j", String(JOBS)], { RBUILD_CACHE_DIR: "", RBUILD_DAEMON: "0" }],
  },
  make: { available: () => has("make"), run: () => ["make", ["-s", "-j", String(JOBS), "all"], {}] },
  ninja: { available: () => has("ninja"), run: () => ["ninja", ["-j", String(JOBS)], {}] },
  turbo: {
    available: () => TURBO !== undefined,
    run: () => [TURBO, ["run", "build", `--concurrency=${JOBS}`], { TURBO_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1", TURBO_NO_UPDATE_NOTIFIER: "1" }],
  },
};
const TURBO = values.turbo ?? (has("turbo") ? "turbo" : undefined);
const BEFORE = values.before === undefined ? undefined : join(resolve(values.before), "cli", "bin", "rbuild");

function has(program) {
  return spawnSync("sh", ["-c", `command -v ${program}`]).status === 0;
}

function time(tool, dir) {
  const [file, args, env] = TOOLS[tool].run(dir);
  const start = process.hrtime.bigint();
  const result = spawnSync(file, args, { cwd: dir, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 30 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) throw new Error(`${tool} failed (${result.status}):\n${result.stderr}`);
  return seconds;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Every selected tool in its own copy of the template, measured step by step
 * with the tools taking turns (each round of no-ops, edits and restores runs
 * every tool once): this machine's speed drifts by 10-20 % over minutes, and
 * timing one tool after another put that drift into their ratios.
 */
function benchAll(tools, template) {
  // Round r starts with the r-th tool: the first of a round ran right after the copies were written
  // (cold) or after the last round's other tools, and in every run so far the daemon variant, always
  // first, had the slower cold build, which interleaved runs outside the bench did not show.
  const turn = (entries, r) => entries.map((_, i) => entries[(i + r) % entries.length]);
  const results = new Map(tools.map((tool) => [tool, { cold: [], noop: [], incremental: [], restore: [] }]));
  // Cold builds in rounds too, each into a fresh copy made (and synced) before the round: timed once,
  // the first tool's cold build ran while the disk still wrote back the template and its copies.
  // Earlier rounds' copies stay until the end: creating files right after deleting thousands is
  // slower on ext4, and would tax whichever tool came next.
  let dirs;
  for (let r = 0; r < RUNS; r++) {
    dirs = new Map(tools.map((tool) => [tool, join(WORK, `${tool}-${r}`)]));
    for (const [tool, dir] of dirs) {
      cpSync(template, dir, { recursive: true });
      TOOLS[tool].prepare?.(dir);
    }
    spawnSync("sync");
    for (const [tool, dir] of turn([...dirs], r)) {
      results.get(tool).cold.push(time(tool, dir));
      verify(tool, dir);
      if (TOOLS[tool].run()[2].RBUILD_DAEMON !== "1") continue;
      // The daemon this cold build started: it serves the steps below from the last round's copy, and
      // until then it must not share the machine (removing its socket ends it).
      if (r < RUNS - 1) rmSync(join(dir, ".rbuild", "daemon.sock"), { force: true });
      // Either way, not while the next tool's cold build is timed: it warms up, or exits.
      spawnSync("sleep", ["2"]);
    }
  }
  const rounds = (step, before) => {
    for (let r = 0; r < RUNS; r++) {
      for (const [tool, dir] of turn([...dirs], r)) {
        before?.(dir, r);
        results.get(tool)[step].push(time(tool, dir));
      }
    }
    for (const [tool, dir] of dirs) verify(tool, dir);
  };
  rounds("noop");
  // One file in the package at layer 16 of the first chain: it and the tasks after it rebuild.
  const changed = 16 * WIDTH + 1 < P ? 16 * WIDTH + 1 : 1;
  rounds("incremental", (dir, r) => writeFileSync(join(dir, src(changed, 0)), `package ${changed} file 0, edit ${r}\n`));
  rounds("restore", (dir) => {
    for (let i = 0; i < P; i++) rmSync(join(dir, out(i)), { force: true });
  });
  // Its daemon exits when its socket goes: it must not share the machine with what follows.
  for (const dir of dirs.values()) rmSync(join(dir, ".rbuild", "daemon.sock"), { force: true });
  return new Map(
    [...results].map(([tool, r]) => [tool, { cold: median(r.cold), colds: r.cold, noop: median(r.noop), incremental: median(r.incremental), restore: median(r.restore) }]),
  );
}

function version(program, args) {
  try {
    return execFileSync(program, args, { encoding: "utf8" }).split("\n")[0].trim();
  } catch {
    return "not installed";
  }
}

const template = join(WORK, "template");
mkdirSync(WORK, { recursive: true });
generate(template);
if (process.env.BENCH_GENERATE_ONLY) {
  console.log(template);
  process.exit(0);
}
const selected = [...values.tools.split(","), ...(BEFORE === undefined ? [] : ["before", "before-no-daemon"])];
const tools = [];
for (const tool of Object.keys(TOOLS).filter((name) => selected.includes(name))) {
  if (TOOLS[tool].available()) tools.push(tool);
  else console.log(`${tool}: not installed, skipped`);
}
const rows = [...benchAll(tools, template)];
for (const [tool, r] of rows) {
  console.log(`${tool}: cold ${r.cold.toFixed(3)}s (${r.colds.map((t) => t.toFixed(3)).join(", ")})  no-op ${r.noop.toFixed(3)}s  incremental ${r.incremental.toFixed(3)}s  delete-all-outputs ${r.restore.toFixed(3)}s`);
}

// rbuild's remote restore: one workspace fills a cache server, a copy at another path with an empty
// local cache restores everything from it.
let remoteRestore;
let turboRemoteRestore;
{
  const serverDir = join(WORK, "server");
  const server = spawn(process.execPath, [join(here, "..", "cache-server", "bin", "rbuild-cache-server.js"), "--dir", serverDir, "--port", "0", "--max-size", "10GB"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise((resolve) => server.stdout.on("data", (chunk) => /listening on (\S+)/.test(chunk) && resolve(/listening on (\S+)/.exec(chunk)[1])));
  // Both tools fill the server first; then their restores alternate, each into a fresh copy after
  // `sync`, so neither is timed while the disk is still writing back what the fills left behind.
  const contenders = [];
  const fill = join(WORK, "remote-fill");
  cpSync(template, fill, { recursive: true });
  // A fresh checkout on another machine: no daemon yet.
  TOOLS.remote = { run: () => [RBUILD_COMMAND, ["all", "-j", String(JOBS), "--remote", url], { RBUILD_DAEMON: "0" }] };
  time("remote", fill);
  contenders.push(["remote", "rbuild (remote restore)"]);
  if (TOOLS.turbo.available()) {
    const turboFill = join(WORK, "turbo-remote-fill");
    cpSync(template, turboFill, { recursive: true });
    const [file, args, env] = TOOLS.turbo.run();
    TOOLS["turbo-remote"] = { run: () => [file, [...args, "--api", url, "--token", "bench", "--team", "bench"], env] };
    time("turbo-remote", turboFill);
    contenders.push(["turbo-remote", "turbo (remote restore)"]);
  }
  const restores = new Map(contenders.map(([tool]) => [tool, []]));
  for (let r = 0; r < RUNS; r++) {
    for (const [tool, label] of contenders) {
      // A new directory each round, all deleted at the end: creating files right after deleting
      // thousands is slower on ext4, and would tax whichever tool comes after a deletion.
      const dir = join(WORK, `${tool}-restore-${r}`);
      cpSync(template, dir, { recursive: true });
      spawnSync("sync");
      restores.get(tool).push(time(tool, dir));
      verify(label, dir);
    }
  }
  remoteRestore = median(restores.get("remote"));
  console.log(`rbuild: restore of every output from the remote cache, empty local cache: ${remoteRestore.toFixed(3)}s (${restores.get("remote").map((t) => t.toFixed(3)).join(", ")})`);
  if (restores.has("turbo-remote")) {
    turboRemoteRestore = median(restores.get("turbo-remote"));
    console.log(`turbo: restore of every output from the remote cache (rbuild-cache-server's v8 API), empty local cache: ${turboRemoteRestore.toFixed(3)}s (${restores.get("turbo-remote").map((t) => t.toFixed(3)).join(", ")})`);
  }
  server.kill("SIGTERM");
  await new Promise((resolve) => server.on("exit", resolve));
  for (const [tool] of contenders) for (let r = 0; r < RUNS; r++) rmSync(join(WORK, `${tool}-restore-${r}`), { recursive: true, force: true });
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${version("make", ["--version"])}, ninja ${version("ninja", ["--version"])}, turbo ${TURBO === undefined ? "not installed" : version(TURBO, ["--version"])}`;
const table = [
  `P=${P} packages × F=${F} files (${P} tasks + 1 group), -j ${JOBS}, median of ${RUNS}`,
  "",
  "| tool | cold | no-op | one-file incremental | after deleting all outputs |",
  "| --- | --- | --- | --- | --- |",
  ...rows.map(([tool, r]) => `| ${tool} | ${r.cold.toFixed(3)} s | ${r.noop.toFixed(3)} s | ${r.incremental.toFixed(3)} s | ${r.restore.toFixed(3)} s |`),
];
const turboRemote = turboRemoteRestore === undefined ? "" : `\nturbo remote restore (empty local cache, same server, v8 API): ${turboRemoteRestore.toFixed(3)} s`;
console.log(`\n${machine}\n${table.join("\n")}\n\nrbuild remote restore (empty local cache, all ${P} tasks from rbuild-cache-server on loopback): ${remoteRestore.toFixed(3)} s${turboRemote}`);
rmSync(WORK, { recursive: true, force: true });
