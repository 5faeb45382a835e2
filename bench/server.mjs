#!/usr/bin/env node
/**
 * rbuild-cache-server under load, on loopback only:
 *   1. small-blob GETs per second and latency (autocannon, 50 connections, 10 s);
 *   2. the server's peak RSS while a 2 GB blob streams in and back out.
 * The server runs as its own process (the real binary), so its RSS is its own.
 *
 *   npm run bench:server                  # 2 GB
 *   npm run bench:server -- --size-mb 256 # a quicker run
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { Blake3Hasher } from "@napi-rs/blake-hash";

const { values } = parseArgs({ options: { "size-mb": { type: "string", default: "2048" }, seconds: { type: "string", default: "10" } } });
const SIZE = Number(values["size-mb"]) * 1024 * 1024;
const BIN = fileURLToPath(new URL("../cache-server/bin/rbuild-cache-server.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "rbuild-bench-server-"));

const server = spawn(process.execPath, [BIN, "--dir", dir, "--port", "0", "--max-size", "10GB"], { stdio: ["ignore", "pipe", "inherit"] });
const url = await new Promise((resolve) => {
  server.stdout.on("data", (chunk) => {
    const match = /listening on (\S+)/.exec(chunk.toString());
    if (match) resolve(match[1]);
  });
});
const peakRss = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))[1]) / 1024;

// 1. Small-blob GETs.
const small = Buffer.from("a small blob, like most of a build's outputs\n");
const hasher = new Blake3Hasher();
hasher.update(small);
const smallDigest = hasher.digest("hex");
await fetch(`${url}/rbuild/v1/cas/blake3/${smallDigest}`, { method: "PUT", body: small });
const load = await autocannon({ url: `${url}/rbuild/v1/cas/blake3/${smallDigest}`, connections: 50, duration: Number(values.seconds) });
const rssAfterLoad = peakRss();

// 2. A large blob, streamed in and out. Its bytes are generated twice: once to hash, once to send.
const CHUNK = 1024 * 1024;
function* chunks() {
  for (let sent = 0; sent < SIZE; sent += CHUNK) {
    const piece = Buffer.alloc(Math.min(CHUNK, SIZE - sent), (sent / CHUNK) % 251);
    yield piece;
  }
}
const bigHasher = new Blake3Hasher();
for (const piece of chunks()) bigHasher.update(piece);
const bigDigest = bigHasher.digest("hex");
let started = performance.now();
const put = await fetch(`${url}/rbuild/v1/cas/blake3/${bigDigest}`, { method: "PUT", body: Readable.toWeb(Readable.from(chunks())), duplex: "half", headers: { "content-length": String(SIZE) } });
const putSeconds = (performance.now() - started) / 1000;
if (put.status !== 200) throw new Error(`PUT of the large blob: ${put.status} ${await put.text()}`);
started = performance.now();
const got = await fetch(`${url}/rbuild/v1/cas/blake3/${bigDigest}`);
let received = 0;
for await (const piece of got.body) received += piece.length;
const getSeconds = (performance.now() - started) / 1000;
if (received !== SIZE) throw new Error(`GET of the large blob returned ${received} bytes, want ${SIZE}`);
const rssPeak = peakRss();

server.kill("SIGTERM");
await new Promise((resolve) => server.on("exit", resolve));
rmSync(dir, { recursive: true, force: true });

const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
console.log(`${machine}
small-blob GETs: ${Math.round(load.requests.average)} req/s average, latency p50 ${load.latency.p50} ms, p99 ${load.latency.p99} ms, errors ${load.errors}, non-2xx ${load.non2xx} (50 connections, ${values.seconds} s)
server peak RSS after the GET load: ${rssAfterLoad.toFixed(0)} MB
${(SIZE / 2 ** 20).toFixed(0)} MiB blob: PUT ${putSeconds.toFixed(1)} s (${(SIZE / 2 ** 20 / putSeconds).toFixed(0)} MiB/s), GET ${getSeconds.toFixed(1)} s (${(SIZE / 2 ** 20 / getSeconds).toFixed(0)} MiB/s); server peak RSS ${rssPeak.toFixed(0)} MB`);
