#!/usr/bin/env node
/**
 * `rbuild graph` speed, two ways (issue 23.6):
 * 1. `rbuild graph --format json` on the 1000-task benchmark workspace of run.mjs (generated with
 *    BENCH_GENERATE_ONLY=1), built once so that the index holds a history: wall time of the whole
 *    command (Node start, Buildfile load, plan, globs, history, hints, JSON), median of --runs.
 * 2. missing-import-dep over 500 TypeScript files: 50 workspace packages of 10 files, each file
 *    importing (up to) the three packages before its own, half of them without the dep: the whole command's wall time
 *    (ts-morph loaded and 500 files scanned), and in process, the import scan by ts.preProcessFile
 *    against parsing each file with a ts-morph Project (the choice imports.ts made).
 * 3. html: page load to drawn: `rbuild graph --format html` of the 1000-task workspace opened in
 *    Debian's chromium (playwright-core, as cli/src/graph-html.e2e.test.ts drives it), a fresh page
 *    each run: from navigation start to the first frame after the viewer set `data-ready` (its script
 *    laid out and built the SVG, and the browser styled, laid out and painted it), median of --runs;
 *    with the viewer's own marks (the layout, the SVG built) to say where the time goes.
 *    Skipped, saying so, without /usr/bin/chromium.
 *
 *   npm run bench:graph
 *   node bench/graph.mjs --runs 9
 *   node bench/graph.mjs --only html
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const RBUILD = join(here, "..", "cli", "bin", "rbuild.js");
const { values } = parseArgs({ options: { runs: { type: "string", default: "5" }, only: { type: "string" } } });
const RUNS = Number(values.runs);
/** `--only html`: the 1000-task workspace's html view alone (parts 1 and 2 skipped). */
const ONLY_HTML = values.only === "html";
if (values.only !== undefined && !ONLY_HTML) throw new Error(`--only takes "html", got "${values.only}"`);
const CHROMIUM = "/usr/bin/chromium";
const ENV = { ...process.env, RBUILD_DAEMON: "0", RBUILD_CACHE_DIR: "" };

function median(list) {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function rbuild(dir, args) {
  const started = performance.now();
  const result = spawnSync(process.execPath, [RBUILD, ...args], { cwd: dir, env: ENV, encoding: "utf8", maxBuffer: 1 << 28 });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`rbuild ${args.join(" ")} failed (${result.status}):\n${result.stderr}`);
  return { ms, stdout: result.stdout };
}

/** The first run loads nothing from cache (the compiled Buildfile); the median is over the rest. */
function timeGraph(dir) {
  const times = [];
  let report;
  for (let r = 0; r <= RUNS; r++) {
    const { ms, stdout } = rbuild(dir, ["graph", "--format", "json"]);
    if (r > 0) times.push(ms);
    report = JSON.parse(stdout);
  }
  return { ms: median(times), times, report };
}

// --- 1. the 1000-task workspace ---
const template = execFileSync(process.execPath, [join(here, "run.mjs")], { env: { ...process.env, BENCH_GENERATE_ONLY: "1" }, encoding: "utf8" }).trim().split("\n").pop();
const big = join(here, "work", "graph-1000");
rmSync(big, { recursive: true, force: true });
execFileSync("cp", ["-a", template, big]);
rbuild(big, ["all", "-j", String(cpus().length)]);
if (!ONLY_HTML) {
  const first = timeGraph(big);
  const recorded = first.report.tasks.filter((task) => task.durationMs !== null).length;
  console.log(
    `graph --format json, ${first.report.tasks.length} tasks (${recorded} with recorded durations), ${first.report.hints.length} hints: median ${first.ms.toFixed(0)} ms (${first.times.map((t) => t.toFixed(0)).join(", ")})`,
  );
}

// --- 3. the html view of the 1000-task workspace, in chromium ---
if (!existsSync(CHROMIUM)) console.log(`html: skipped, ${CHROMIUM} is not installed (apt-get install chromium)`);
else await timeHtml(big);

/** Each run: a fresh page, navigation start to the first frame after the viewer is ready. */
async function timeHtml(dir) {
  rbuild(dir, ["graph", "--format", "html", "--out", "graph.html"]);
  const tasks = JSON.parse(rbuild(dir, ["graph", "--format", "json"]).stdout).tasks.length;
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  const runs = [];
  try {
    for (let r = 0; r < RUNS; r++) {
      const page = await browser.newPage();
      await page.goto(pathToFileURL(join(dir, "graph.html")).href, { timeout: 600_000 });
      await page.waitForSelector("body[data-ready=true]", { timeout: 600_000 });
      const run = await page.evaluate(
        () =>
          new Promise((resolve) =>
            // The callback of the next frame runs before it is painted; a task queued from it runs after.
            requestAnimationFrame(() =>
              setTimeout(() => {
                const mark = (name) => performance.getEntriesByName(name)[0]?.startTime ?? null;
                resolve({ drawn: performance.now(), start: mark("rbuild:start"), laidOut: mark("rbuild:laid-out"), built: mark("rbuild:built"), nodes: document.querySelectorAll("g.node").length });
              }),
            ),
          ),
      );
      if (run.nodes !== tasks) throw new Error(`html: ${run.nodes} task nodes drawn of ${tasks}`);
      runs.push(run);
      await page.close();
    }
  } finally {
    await browser.close();
  }
  const ms = (list) => list.map((t) => (t === null ? "?" : t.toFixed(0))).join(", ");
  const drawn = runs.map((run) => run.drawn);
  const part = (from, to) => runs.map((run) => (run[from] === null || run[to] === null ? null : run[to] - run[from]));
  console.log(`html: page load to drawn, ${tasks} tasks: median ${median(drawn).toFixed(0)} ms (${ms(drawn)})`);
  console.log(`  to the viewer's start ${ms(runs.map((run) => run.start))}; layout ${ms(part("start", "laidOut"))}; SVG built ${ms(part("laidOut", "built"))}; style, layout, paint ${ms(part("built", "drawn"))} ms`);
}

if (ONLY_HTML) {
  if (!process.env.KEEP) rmSync(big, { recursive: true, force: true });
  process.exit(0);
}

// --- 2. missing-import-dep over 500 TypeScript files ---
const PACKAGES = 50;
const FILES = 10;
const ts500 = join(here, "work", "graph-ts500");
rmSync(ts500, { recursive: true, force: true });
const body = Array.from({ length: 40 }, (_, j) => `export function f${j}(a: number, b: string): string {\n  return \`\${a} \${b} ${j}\`;\n}\n`).join("");
let buildfile = 'import { task } from "rbuild";\n';
for (let p = 0; p < PACKAGES; p++) {
  const imports = [1, 2, 3].filter((k) => k <= p).map((k) => p - k);
  // Every other package declares deps on the builds of what it imports; the rest miss them.
  const deps = p % 2 === 0 ? imports.map((q) => `"build:p${q}"`) : [];
  mkdirSync(join(ts500, `packages/p${p}/src`), { recursive: true });
  writeFileSync(join(ts500, `packages/p${p}/package.json`), JSON.stringify({ name: `@ts500/p${p}`, version: "1.0.0" }));
  for (let f = 0; f < FILES; f++) {
    const head = imports.map((q, k) => (k === 0 ? `import { f0 as g${q} } from "@ts500/p${q}";` : k === 1 ? `export * from "@ts500/p${q}/sub";` : `const lazy = await import("@ts500/p${q}");`)).join("\n");
    writeFileSync(join(ts500, `packages/p${p}/src/f${f}.ts`), `${head}\nimport { local } from "./f${(f + 1) % FILES}";\n${body}`);
  }
  buildfile += `task({ name: "build:p${p}", deps: [${deps.join(", ")}], inputs: ["packages/p${p}/src/**"], outputs: ["packages/p${p}/dist/**"], run: "true" });\n`;
}
writeFileSync(join(ts500, "Buildfile.ts"), buildfile);
writeFileSync(join(ts500, "package.json"), JSON.stringify({ name: "ts500", private: true, workspaces: ["packages/*"] }, null, 2));
const second = timeGraph(ts500);
const missing = second.report.hints.filter((hint) => hint.code === "missing-import-dep").length;
console.log(
  `graph --format json, ${PACKAGES * FILES} TypeScript files, ${missing} missing-import-dep hints: median ${second.ms.toFixed(0)} ms (${second.times.map((t) => t.toFixed(0)).join(", ")})`,
);
// Each odd package misses the build of every package it imports: (up to) the three before it.
const expected = Array.from({ length: PACKAGES }, (_, p) => (p % 2 === 1 ? Math.min(3, p) : 0)).reduce((a, b) => a + b, 0);
if (missing !== expected) throw new Error(`expected ${expected} missing-import-dep hints, got ${missing}`);

// In process: the scanner against a ts-morph Project, on the same 500 files.
const load = createRequire(join(here, "..", "packages", "graph", "package.json"));
const loadStarted = performance.now();
const { ts, Project } = load("ts-morph");
const loadMs = performance.now() - loadStarted;
const texts = [];
for (let p = 0; p < PACKAGES; p++) for (let f = 0; f < FILES; f++) texts.push(readFileSync(join(ts500, `packages/p${p}/src/f${f}.ts`), "utf8"));
const scanStarted = performance.now();
for (const text of texts) ts.preProcessFile(text, true, true);
const scanMs = performance.now() - scanStarted;
const parseStarted = performance.now();
const project = new Project({ useInMemoryFileSystem: true, skipFileDependencyResolution: true });
texts.forEach((text, i) => {
  const file = project.createSourceFile(`/f${i}.ts`, text);
  file.getImportDeclarations();
  file.getExportDeclarations();
});
const parseMs = performance.now() - parseStarted;
console.log(`500 files in process: loading ts-morph ${loadMs.toFixed(0)} ms; ts.preProcessFile ${scanMs.toFixed(0)} ms; ts-morph Project parse ${parseMs.toFixed(0)} ms`);

if (!process.env.KEEP) {
  rmSync(big, { recursive: true, force: true });
  rmSync(ts500, { recursive: true, force: true });
}
