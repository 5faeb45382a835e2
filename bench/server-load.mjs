#!/usr/bin/env node
/**
 * rbuild-cache-server's throughput, one protocol at a time (issue 25.6), on loopback only. For each
 * protocol in PROTOCOLS, a fresh server process (the real binary, so its RSS is its own):
 *   1. one object of --big-size (default 2 GB) streams in (PUT) and back out (GET), generated as it
 *      is sent, never held in memory; the server's peak RSS (VmHWM in /proc/PID/status) after it;
 *   2. small-object GETs at 64 connections for --seconds (autocannon): requests per second, p50 and
 *      p99 latency, and the server's peak RSS after that too.
 * The big object goes first, so its peak is not hidden under the load's.
 *
 *   npm run bench:server-load                                # 2 GB objects, 10 s of GETs each
 *   npm run bench:server-load -- --big-size 256MB --seconds 5
 *   npm run bench:server-load -- --protocols rbuild,turbo
 *
 * A protocol whose PUT answers 404 is not on the server measured (an older build): its row says so and
 * the others go on.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { Blake3Hasher } from "@napi-rs/blake-hash";

const { values } = parseArgs({
  options: {
    "big-size": { type: "string", default: "2GB" },
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "64" },
    protocols: { type: "string" },
  },
});

/** "2GB", "256MB", "512MiB", a number of bytes: bytes (decimal units, as the server's --max-size). */
function parseSize(text) {
  const match = /^(\d+(?:\.\d+)?)\s*(|B|KB|MB|GB|KiB|MiB|GiB)$/i.exec(text.trim());
  if (match === null) throw new Error(`--big-size needs a size such as 2GB or 256MB, got "${text}"`);
  const unit = { "": 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 }[match[2].toLowerCase()];
  return Math.round(Number(match[1]) * unit);
}

const BIG = parseSize(values["big-size"]);
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const BIN = fileURLToPath(new URL("../cache-server/bin/rbuild-cache-server.js", import.meta.url));
const SMALL = Buffer.from("a small object, like most of a build's outputs and most cache artifacts\n");
const CHUNK = 1024 * 1024;

const blake3 = (feed) => {
  const hasher = new Blake3Hasher();
  feed((piece) => hasher.update(piece));
  return hasher.digest("hex");
};
const sha256 = (feed) => {
  const hasher = createHash("sha256");
  feed((piece) => hasher.update(piece));
  return hasher.digest("hex");
};

/**
 * The protocols, one row each. `path(name, digestOf)` is where an object lives: `digestOf` gives the
 * digest a content-addressed protocol names it by (the server verifies it), `name` is a short
 * distinct label the others use as their key.
 */
const PROTOCOLS = [
  { id: "rbuild", name: "rbuild/v1 (cas/blake3)", path: (_name, digestOf) => `/rbuild/v1/cas/blake3/${digestOf(blake3)}` },
  { id: "turbo", name: "turbo v8 (/v8/artifacts)", path: (name) => `/v8/artifacts/${createHash("sha256").update(name).digest("hex").slice(0, 16)}?slug=bench` },
  { id: "bazel", name: "Bazel HTTP (/cas/sha256)", path: (_name, digestOf) => `/cas/${digestOf(sha256)}` },
  { id: "nx", name: "Nx (/v1/cache)", path: (name) => `/v1/cache/${BigInt(`0x${createHash("sha256").update(name).digest("hex").slice(0, 15)}`)}` },
].filter((p) => values.protocols === undefined || values.protocols.split(",").includes(p.id));

/** The big object's pieces, the same every time: generated, hashed and sent without holding it. */
function* bigPieces() {
  for (let sent = 0; sent < BIG; sent += CHUNK) yield Buffer.alloc(Math.min(CHUNK, BIG - sent), (sent / CHUNK) % 251);
}
const feedBig = (update) => {
  for (const piece of bigPieces()) update(piece);
};
const feedSmall = (update) => update(SMALL);

const status = (pid, field) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;

async function startServer(dir) {
  const maxSize = Math.max(10e9, BIG * 5); // A blob over a quarter of --max-size is refused.
  const server = spawn(process.execPath, [BIN, "--dir", dir, "--port", "0", "--max-size", String(maxSize)], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise((resolve, reject) => {
    server.once("exit", (code) => reject(new Error(`the server exited (${code}) before listening`)));
    server.stdout.on("data", (chunk) => {
      const match = /listening on (\S+)/.exec(chunk.toString());
      if (match) resolve(match[1]);
    });
  });
  return { server, url };
}

async function measure(protocol) {
  const dir = mkdtempSync(join(tmpdir(), "rbuild-bench-server-load-"));
  const { server, url } = await startServer(dir);
  try {
    const smallUrl = `${url}${protocol.path("small", (digest) => digest(feedSmall))}`;
    const seeded = await fetch(smallUrl, { method: "PUT", body: SMALL });
    await seeded.arrayBuffer();
    if (seeded.status === 404) return { protocol, todo: true };
    if (seeded.status >= 300) throw new Error(`${protocol.name}: PUT of the small object answered ${seeded.status}`);
    const rssStart = status(server.pid, "VmRSS");

    // 1. The big object, in and out.
    const bigUrl = `${url}${protocol.path("big", (digest) => digest(feedBig))}`;
    let started = performance.now();
    const body = Readable.toWeb(Readable.from(bigPieces()));
    const put = await fetch(bigUrl, { method: "PUT", body, duplex: "half", headers: { "content-length": String(BIG), "content-type": "application/octet-stream" } });
    const putText = await put.text();
    const putSeconds = (performance.now() - started) / 1000;
    if (put.status >= 300) throw new Error(`${protocol.name}: PUT of the big object answered ${put.status} ${putText.slice(0, 200)}`);
    started = performance.now();
    const got = await fetch(bigUrl);
    if (got.status !== 200) throw new Error(`${protocol.name}: GET of the big object answered ${got.status}`);
    let received = 0;
    for await (const piece of got.body) received += piece.length;
    const getSeconds = (performance.now() - started) / 1000;
    if (received !== BIG) throw new Error(`${protocol.name}: GET of the big object returned ${received} bytes, want ${BIG}`);
    const rssBig = status(server.pid, "VmHWM");

    // 2. Small-object GETs.
    const load = await autocannon({ url: smallUrl, connections: CONNECTIONS, duration: SECONDS });
    if (load.non2xx > 0 || load.errors > 0) throw new Error(`${protocol.name}: ${load.non2xx} non-2xx answers and ${load.errors} errors under load`);
    const rssLoad = status(server.pid, "VmHWM");
    return { protocol, load, putSeconds, getSeconds, rssStart, rssBig, rssLoad };
  } finally {
    server.kill("SIGTERM");
    await new Promise((resolve) => (server.exitCode !== null ? resolve() : server.once("exit", resolve)));
    rmSync(dir, { recursive: true, force: true });
  }
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
const loadBefore = loadavg()[0].toFixed(1);
const rows = [];
for (const protocol of PROTOCOLS) rows.push(await measure(protocol));

const mib = BIG / 2 ** 20;
console.log(`${machine}; load average ${loadBefore} at the start, ${loadavg()[0].toFixed(1)} at the end`);
console.log(`small-object GETs: ${CONNECTIONS} connections, ${SECONDS} s each; big object: ${BIG} bytes (${mib.toFixed(0)} MiB)\n`);
console.log("| protocol | small GETs/s | p50 ms | p99 ms | big PUT MiB/s | big GET MiB/s | RSS at start MB | peak RSS after big MB | peak RSS after GETs MB |");
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const row of rows) {
  if (row.todo) {
    console.log(`| ${row.protocol.name} | not on this server yet (PUT answered 404) | | | | | | | |`);
    continue;
  }
  const { load } = row;
  console.log(
    `| ${row.protocol.name} | ${Math.round(load.requests.average)} | ${load.latency.p50} | ${load.latency.p99} | ${(mib / row.putSeconds).toFixed(0)} | ${(mib / row.getSeconds).toFixed(0)} | ${row.rssStart.toFixed(0)} | ${row.rssBig.toFixed(0)} | ${row.rssLoad.toFixed(0)} |`,
  );
}
