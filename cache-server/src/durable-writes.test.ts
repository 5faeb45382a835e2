/**
 * What the server writes is on disk before its name is: a blob (and an entry)
 * is fsynced before it is renamed into place, so a power cut never leaves a
 * digest's name on a short file. A power cut cannot be had in a test; what
 * can be seen is the order of the server's own system calls, under strace,
 * and that the stored bytes are whole.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { expect, onTestFinished, test } from "vitest";
import { digestBytes } from "@rbuild/hash";

const BIN = fileURLToPath(new URL("../bin/rbuild-cache-server.js", import.meta.url));
const traced = spawnSync("strace", ["-f", "-o", "/dev/null", "true"]).status === 0;

/** For each temp file the server renamed into place: whether it fsynced that file (by its descriptor) between opening it and closing it. */
function syncedBeforeRename(log: string): { target: string; synced: boolean }[] {
  const lines = log.split("\n").map((line) => line.replace(/^\d+\s+/, ""));
  const renames: { target: string; synced: boolean }[] = [];
  lines.forEach((line, at) => {
    const rename = /^rename(?:at2?)?\((?:AT_FDCWD, )?"([^"]+\/tmp\/[^"]+)", (?:AT_FDCWD, )?"([^"]+)"/.exec(line);
    if (rename === null) return;
    const [, temp, target] = rename;
    const opened = lines.findLastIndex((l, i) => i < at && l.startsWith("openat(") && l.includes(`"${temp}"`));
    const fd = /= (\d+)$/.exec(lines[opened] ?? "")?.[1];
    const closed = lines.findIndex((l, i) => i > opened && l.startsWith(`close(${fd})`));
    const synced = fd !== undefined && closed !== -1 && closed < at && lines.slice(opened, closed).some((l) => l.startsWith(`fsync(${fd})`) || l.startsWith(`fdatasync(${fd})`));
    renames.push({ target: target!.slice(target!.lastIndexOf("/") + 1), synced });
  });
  return renames;
}

test.skipIf(!traced)("H.4: a blob and an entry are fsynced before they are renamed into place, and the stored bytes are whole", async () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-durable-")));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, "strace.log");
  const server = execa("strace", ["-f", "-qq", "-e", "trace=openat,close,fsync,fdatasync,rename,renameat,renameat2", "-o", log, process.execPath, BIN, "--dir", join(dir, "store"), "--port", "0"], {
    reject: false,
    stdin: "ignore",
  });
  onTestFinished(() => void server.kill("SIGKILL"));
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    server.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      const listening = /listening on (\S+)\n/.exec(out);
      if (listening !== null) resolve(listening[1]!);
    });
    void server.then((result) => reject(new Error(`the server ended: ${result.stderr}`)));
  });

  // A blob of 4 MiB sent in 64 KiB chunks: many writes, each of which a power cut could leave out.
  const blob = Buffer.alloc(4 * 1024 * 1024);
  for (let i = 0; i < blob.length; i++) blob[i] = (i * 31 + (i >> 12)) & 0xff;
  const digest = digestBytes(blob);
  const chunks = Array.from({ length: blob.length / 65536 }, (_, i) => blob.subarray(i * 65536, (i + 1) * 65536));
  const body = Readable.toWeb(Readable.from(chunks)) as ReadableStream<Uint8Array>;
  const put = await fetch(`${url}/rbuild/v1/cas/blake3/${digest}`, { method: "PUT", body, duplex: "half" } as RequestInit);
  expect([put.status, await put.text()]).toEqual([200, "stored\n"]);
  const key = "b".repeat(64);
  const entry = JSON.stringify({ blobs: [digest], exitCode: 0 });
  const stored = await fetch(`${url}/rbuild/v1/ac/${key}`, { method: "PUT", body: entry });
  expect([stored.status, await stored.text()]).toEqual([200, "stored\n"]);

  const got = await fetch(`${url}/rbuild/v1/cas/blake3/${digest}`);
  const bytes = Buffer.from(await got.arrayBuffer());
  expect([got.status, bytes.length, digestBytes(bytes)]).toEqual([200, blob.length, digest]);
  const file = readFileSync(join(dir, "store", "cas", "blake3", digest.slice(0, 2), digest));
  expect([file.length, file.equals(blob)]).toEqual([blob.length, true]);

  // Stopped as an operator stops it (strace passes no signal on, so the server itself, strace's child).
  const [pid] = readFileSync(`/proc/${server.pid}/task/${server.pid}/children`, "utf8").trim().split(" ").map(Number);
  process.kill(pid!, "SIGTERM");
  await server;
  expect(syncedBeforeRename(readFileSync(log, "utf8"))).toEqual([
    { target: digest, synced: true },
    { target: key, synced: true },
  ]);
}, 120_000);
