#!/usr/bin/env node
/**
 * A 10-step transform chain over a 50 MiB tree (issue 27, item 5): a base
 * task writes F files of pseudo-random bytes (default 1,000 of 51.2 KiB),
 * and each step (`transform:` the one before) rewrites 3 files, deletes one
 * and adds one. Reports the bytes the chain's layers take in the store (the
 * sum of each task's layer blob), against what full layers of the same trees
 * would take (each task's whole tree as a tar), and the tree's own size; the
 * goal is under 1.2x the tree. Also times the cold build and the restore of
 * the whole stack after `rm -rf` of the tree, whose result is checked
 * byte for byte against the build's. Then times a build of the unchanged
 * chain (issue 27.3): answered from the freshness record, it restores
 * nothing (before, each one restored every step's files and rewrote them).
 *
 *   node bench/transform.mjs                 # 1,000 files, 10 steps
 *   node bench/transform.mjs --files 200 --steps 5 --dir /dev/shm/transform
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    rbuild: { type: "string", default: join(here, "..", "cli", "bin", "rbuild.js") },
    files: { type: "string", default: "1000" },
    steps: { type: "string", default: "10" },
    dir: { type: "string", default: join(here, "work-transform") },
  },
});
const RBUILD = values.rbuild;
const FILES = Number(values.files);
const STEPS = Number(values.steps);
const WORK = values.dir;
const TREE_BYTES = 50 * 1024 * 1024;
const FILE_BYTES = Math.floor(TREE_BYTES / FILES);

// Pseudo-random bytes from a seed (no compression could help a layer), written by the tasks themselves.
const BYTES = `const c=require("crypto");const bytes=(seed)=>{const out=Buffer.alloc(${FILE_BYTES});let b=c.createHash("sha256").update(String(seed)).digest();for(let i=0;i<out.length;i+=32){b.copy(out,i);b=c.createHash("sha256").update(b).digest()}return out};`;
const GEN = `${BYTES}const fs=require("fs");for(let i=0;i<${FILES};i++){const d="tree/d"+(i%10);fs.mkdirSync(d,{recursive:true});fs.writeFileSync(d+"/f"+i+".bin",bytes("base"+i))}`;
// Step n rewrites 3 files, deletes one and adds one, all different from step to step.
const STEP = `${BYTES}const fs=require("fs");const n=Number(process.argv[2]);const f=(i)=>"tree/d"+(i%10)+"/f"+i+".bin";for(const i of [n*7,n*7+1,n*7+2])fs.writeFileSync(f(i),bytes("step"+n+"-"+i));fs.rmSync(f(n*7+3));fs.writeFileSync("tree/d"+(n%10)+"/new"+n+".bin",bytes("new"+n))`;

function buildfile() {
  const lines = ['import { task } from "rbuild";', 'const s0 = task({ name: "s0", inputs: ["gen.cjs"], outputs: ["tree/**"], run: "node gen.cjs" });'];
  for (let n = 1; n <= STEPS; n++) {
    lines.push(`const s${n} = task({ name: "s${n}", deps: [s${n - 1}], transform: s${n - 1}, inputs: ["step.cjs"], outputs: ["tree/**"], run: "node step.cjs ${n}" });`);
  }
  return `${lines.join("\n")}\n`;
}

function rbuild(args) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [RBUILD, ...args], { cwd: WORK, env: { ...process.env, RBUILD_DAEMON: "0", RBUILD_CACHE_DIR: "" }, encoding: "utf8", maxBuffer: 1 << 30 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`rbuild ${args.join(" ")} failed (${result.status}):\n${result.stdout}${result.stderr}`);
  return seconds;
}

/** A digest of every file under the tree, by path. */
function treeDigest() {
  const hash = createHash("sha256");
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (name.endsWith(".bin")) hash.update(`${full}\0`).update(readFileSync(full));
      else walk(full);
    }
  };
  walk(join(WORK, "tree"));
  return hash.digest("hex");
}

/** What a tar of a manifest's entries takes: a header per entry, contents in 512-byte blocks, two zero blocks at the end. */
function fullLayerBytes(manifest) {
  return manifest.reduce((sum, e) => sum + 512 + (e.type === "file" ? Math.ceil(e.size / 512) * 512 : 0), 1024);
}

rmSync(WORK, { recursive: true, force: true });
mkdirSync(WORK, { recursive: true });
writeFileSync(join(WORK, "Buildfile.ts"), buildfile());
writeFileSync(join(WORK, "gen.cjs"), GEN);
writeFileSync(join(WORK, "step.cjs"), STEP);
const load = loadavg()[0].toFixed(1);
const cold = rbuild([`s${STEPS}`]);
const built = treeDigest();
rmSync(join(WORK, "tree"), { recursive: true, force: true });
const restore = rbuild([`s${STEPS}`]);
if (treeDigest() !== built) throw new Error("the restored tree differs from the built one");
// Builds of the unchanged chain until one is answered from the freshness record (an entry waits for files
// written in the filesystem's last clock tick to age); only that path writes up-to-date/builds.jsonl.
const answered = () => {
  const file = join(WORK, ".rbuild", "up-to-date", "builds.jsonl");
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).length : 0;
};
let noop = 0;
let fromRecord = false;
for (let attempt = 0; attempt < 4 && !fromRecord; attempt++) {
  const before = answered();
  noop = rbuild([`s${STEPS}`]);
  fromRecord = answered() > before;
}
if (treeDigest() !== built) throw new Error("the tree after the no-op build differs from the built one");

const Database = createRequire(import.meta.url)("better-sqlite3");
const db = new Database(join(WORK, ".rbuild", "index.sqlite"), { readonly: true });
const rows = db.prepare("SELECT a.task, a.manifest, b.size FROM actions a JOIN blobs b ON b.digest = a.layer").all();
db.close();
const stored = rows.reduce((sum, r) => sum + r.size, 0);
const full = rows.reduce((sum, r) => sum + fullLayerBytes(JSON.parse(r.manifest)), 0);
const tree = fullLayerBytes(JSON.parse(rows.find((r) => r.task === `s${STEPS}`).manifest));
const mb = (n) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
console.log(`machine: ${cpus().length} x ${cpus()[0].model}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}; load average ${load} -> ${loadavg()[0].toFixed(1)}`);
console.log(`tree: ${FILES} files, ${mb(tree)} as a tar; ${rows.length} layers (base + ${STEPS} steps)`);
console.log(`stored: ${mb(stored)} (${(stored / tree).toFixed(3)}x the tree); full layers would be ${mb(full)} (${(full / tree).toFixed(2)}x)`);
console.log(`cold build of the chain: ${cold.toFixed(2)} s; restore of the stack after rm -rf: ${restore.toFixed(2)} s`);
console.log(`build of the unchanged chain: ${noop.toFixed(2)} s (${fromRecord ? "answered from the freshness record" : "not answered from the freshness record in 4 builds: each restored the chain"})`);
