import { rmSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import { connect } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { describe, expect, test } from "vitest";
import { digestBytes } from "@rbuild/hash";
import type { RunningServer, ServerOptions } from "./server.js";
import { serverPerTest } from "./test-support/server-per-test.js";

const each = serverPerTest("rbuild-server-");
const start = (options?: Partial<ServerOptions>) => each.start(options);

const cas = (s: RunningServer, digest: string) => `${s.url}/rbuild/v1/cas/blake3/${digest}`;
const ac = (s: RunningServer, key: string) => `${s.url}/rbuild/v1/ac/${key}`;
const KEY = "a".repeat(64);

/** The status of a request, after reading its body (an unread body keeps the connection busy). */
async function status(url: string, init?: RequestInit): Promise<number> {
  const response = await fetch(url, init);
  await response.arrayBuffer();
  return response.status;
}

async function put(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<number> {
  return status(url, { method: "PUT", body, headers });
}

describe("rbuild-cache-server", () => {
  test("a blob PUT under its digest is served back; a miss is 404; PUT is idempotent", async () => {
    const s = await start();
    const digest = digestBytes("hello blob");
    expect((await status(cas(s, digest)))).toBe(404);
    expect(await put(cas(s, digest), "hello blob")).toBe(200);
    expect(await put(cas(s, digest), "hello blob")).toBe(200);
    const got = await fetch(cas(s, digest));
    expect([got.status, await got.text()]).toEqual([200, "hello blob"]);
    const head = await fetch(cas(s, digest), { method: "HEAD" });
    expect([head.status, head.headers.get("content-length")]).toEqual([200, "10"]);
  });

  test("a blob whose bytes do not match its digest is refused with 400 and not stored", async () => {
    const s = await start();
    const digest = digestBytes("the real bytes");
    const response = await fetch(cas(s, digest), { method: "PUT", body: "other bytes" });
    expect([response.status, await response.text()]).toEqual([400, "the body's BLAKE3 digest is not the one in the URL; nothing was stored\n"]);
    expect((await status(cas(s, digest)))).toBe(404);
  });

  test("an action entry needs its blobs first, and disappears when a blob does", async () => {
    const s = await start();
    const blob = digestBytes("layer");
    const entry = JSON.stringify({ blobs: [blob], exitCode: 0 });
    const refused = await fetch(ac(s, KEY), { method: "PUT", body: entry });
    expect([refused.status, await refused.text()]).toEqual([400, `upload these blobs first: ${blob}\n`]);
    expect(await put(cas(s, blob), "layer")).toBe(200);
    expect(await put(ac(s, KEY), entry)).toBe(200);
    const got = await fetch(ac(s, KEY));
    expect([got.status, await got.json()]).toEqual([200, { blobs: [blob], exitCode: 0 }]);
    rmSync(s.store.path("cas/blake3", blob));
    expect((await status(ac(s, KEY)))).toBe(404);
    expect(await put(ac(s, KEY), "not json")).toBe(400);
  });

  test("the batch call says which blobs are missing", async () => {
    const s = await start();
    const have = digestBytes("have");
    await put(cas(s, have), "have");
    const lacking = digestBytes("lacking");
    const response = await fetch(`${s.url}/rbuild/v1/cas/blake3:missing`, { method: "POST", body: JSON.stringify({ digests: [have, lacking] }) });
    expect(await response.json()).toEqual({ missing: [lacking] });
    expect((await status(`${s.url}/rbuild/v1/cas/blake3:missing`, { method: "POST", body: "{}" }))).toBe(400);
  });

  test("ac:get answers many keys in one request, small blobs inline; bad queries are 400, too many keys 413, GET 405", async () => {
    const s = await start({ tokens: new Map([["r", "read"], ["w", "write"]]) });
    const w = { authorization: "Bearer w" };
    const blob = digestBytes("layer bytes");
    await put(cas(s, blob), "layer bytes", w);
    const entry = JSON.stringify({ blobs: [blob], exitCode: 0 });
    await put(ac(s, KEY), entry, w);
    const url = `${s.url}/rbuild/v1/ac:get`;
    const query = (body: unknown, token = "r") => fetch(url, { method: "POST", body: JSON.stringify(body), headers: { authorization: `Bearer ${token}` } });
    const missingKey = "b".repeat(64);
    const answer = (await (await query({ keys: [KEY, missingKey], inlineMax: 65536 })).json()) as { entries: Record<string, { entry: string; inline: Record<string, string> }> };
    expect(Object.keys(answer.entries)).toEqual([KEY]);
    expect(Buffer.from(answer.entries[KEY]!.entry, "base64").toString()).toBe(entry);
    expect(Buffer.from(answer.entries[KEY]!.inline[blob]!, "base64").toString()).toBe("layer bytes");
    // Without inlineMax (or one smaller than the blob) blobs stay out; the client fetches them.
    const bare = (await (await query({ keys: [KEY], inlineMax: 5 })).json()) as { entries: Record<string, { inline: object }> };
    expect(bare.entries[KEY]!.inline).toEqual({});
    expect((await query({ keys: ["nope"] })).status).toBe(400);
    const tooMany = await query({ keys: Array(1001).fill(KEY) });
    expect([tooMany.status, await tooMany.text()]).toEqual([413, "too many names: at most 1000 per request; split the query\n"]);
    expect((await query({ keys: [KEY] }, "bad")).status).toBe(401);
    expect(await status(url, { headers: { authorization: "Bearer r" } })).toBe(405);
    const text = await (await fetch(`${s.url}/metrics`, { headers: { authorization: "Bearer r" } })).text();
    expect(text).toContain('rbuild_cache_requests_total{protocol="rbuild",method="POST",route="ac-get",code="200"} 2\n');
    expect(text).toContain('rbuild_cache_misses_total{protocol="rbuild",kind="ac"} 1\n');
  });

  test("20.13: an ac:get answer stays under its bound, entries included; what did not fit is listed to ask again", async () => {
    const s = await start();
    const keys = Array.from({ length: 20 }, (_, i) => digestBytes(`key ${i}`));
    // 20 entries of 900 KB each: 24 MB of answer, were it unbounded.
    for (const [i, key] of keys.entries()) expect(await put(ac(s, key), JSON.stringify({ blobs: [], pad: String(i).padEnd(900_000, "x") }))).toBe(200);
    const url = `${s.url}/rbuild/v1/ac:get`;
    const ask = async (asked: string[]) => {
      const text = await (await fetch(url, { method: "POST", body: JSON.stringify({ keys: asked, inlineMax: 65536 }) })).text();
      return { size: text.length, ...(JSON.parse(text) as { entries: Record<string, { entry: string }>; later: string[] }) };
    };
    let asked: string[] = keys;
    const answered: string[] = [];
    while (asked.length > 0) {
      const { size, entries, later } = await ask(asked);
      expect(size).toBeLessThanOrEqual(8 * 1024 * 1024);
      expect(Object.keys(entries).length).toBeGreaterThan(0);
      expect([...Object.keys(entries), ...later].sort()).toEqual([...asked].sort());
      for (const [key, { entry }] of Object.entries(entries)) {
        expect((JSON.parse(Buffer.from(entry, "base64").toString()) as { pad: string }).pad.length).toBe(900_000);
        answered.push(key);
      }
      asked = later;
    }
    expect(answered.sort()).toEqual([...keys].sort());

    // The answer streams: a client that does not read it holds up nobody else.
    const { port } = new URL(s.url);
    const body = JSON.stringify({ keys });
    const stalled = connect(Number(port), "127.0.0.1");
    stalled.write(`POST /rbuild/v1/ac:get HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    stalled.pause();
    expect(await status(`${s.url}/healthz`)).toBe(200);
    stalled.destroy();
  });

  test("a prefix before /rbuild/v1 is accepted, so a base URL may have a path", async () => {
    const s = await start();
    const digest = digestBytes("prefixed");
    expect(await put(`${s.url}/team/one/rbuild/v1/cas/blake3/${digest}`, "prefixed")).toBe(200);
    expect((await status(cas(s, digest)))).toBe(200);
  });

  test("tokens: 401 without or with a bad one, 403 for a read token writing, Bearer or Basic", async () => {
    const s = await start({ tokens: new Map([["r-token", "read"], ["w-token", "write"]]) });
    const digest = digestBytes("secret");
    expect(await put(cas(s, digest), "secret")).toBe(401);
    expect(await put(cas(s, digest), "secret", { authorization: "Bearer wrong" })).toBe(401);
    expect(await put(cas(s, digest), "secret", { authorization: "Bearer r-token" })).toBe(403);
    expect(await put(cas(s, digest), "secret", { authorization: "Bearer w-token" })).toBe(200);
    expect((await status(cas(s, digest)))).toBe(401);
    expect((await status(cas(s, digest), { headers: { authorization: "Bearer r-token" } }))).toBe(200);
    const basic = `Basic ${Buffer.from("user:r-token").toString("base64")}`;
    expect((await status(cas(s, digest), { headers: { authorization: basic } }))).toBe(200);
    expect((await status(`${s.url}/healthz`))).toBe(200);
    expect((await status(`${s.url}/metrics`))).toBe(401);
  });

  test("20.14: a request whose body will not be read is answered, then its connection is closed", async () => {
    const s = await start({ tokens: new Map([["w", "write"]]), maxBlobSize: 1000 });
    const { port } = new URL(s.url);
    const digest = digestBytes("x");
    // Each sends its headers and part of a large body, then waits: the server must answer and hang up
    // rather than wait for the rest (1,000 such connections used to exhaust its descriptors).
    const cases: [string, string, string][] = [
      [`PUT /rbuild/v1/cas/blake3/${digest}`, "", "HTTP/1.1 401 Unauthorized"],
      [`PUT /rbuild/v1/cas/blake3/${digest}`, "authorization: Bearer w\r\n", "HTTP/1.1 413 Payload Too Large"],
      [`POST /rbuild/v1/ac:get`, "", "HTTP/1.1 401 Unauthorized"],
      [`PUT /v8/artifacts/abc?slug=t`, "", "HTTP/1.1 401 Unauthorized"],
    ];
    for (const [request, headers, statusLine] of cases) {
      const socket = connect(Number(port), "127.0.0.1");
      socket.write(`${request} HTTP/1.1\r\nhost: x\r\n${headers}content-length: 10000000\r\n\r\n${"y".repeat(1000)}`);
      let answer = "";
      socket.on("data", (chunk: Buffer) => (answer += chunk.toString()));
      await new Promise<void>((resolve, reject) => {
        socket.on("close", () => resolve());
        socket.on("error", reject);
      });
      expect(answer.split("\r\n")[0]).toBe(statusLine);
      expect(answer.toLowerCase()).toContain("\r\nconnection: close\r\n");
    }
    expect(await status(`${s.url}/healthz`)).toBe(200);
  });

  test("20.14: slow headers are cut at their deadline, a flood of them holds no more than maxConnections, and real clients get in at once", async () => {
    const s = await start({ headersTimeoutMs: 300, maxConnections: 8, maxConnectionsPerPeer: 8 });
    const { port } = new URL(s.url);
    // Each slow client first completes one request (so the server holds its connection), then starts
    // another and sends one header line after another, never the blank line that ends them. Six fill
    // the share of the cap kept for connections waiting for headers (3/4 of 8).
    const slow = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const socket = connect(Number(port), "127.0.0.1");
        socket.on("error", () => undefined);
        let answer = "";
        socket.on("data", (chunk: Buffer) => (answer += chunk.toString()));
        const closed = once(socket, "close");
        socket.write("GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n");
        while (!answer.endsWith("\r\n\r\nok\n")) await once(socket, "data");
        socket.write("GET /healthz HTTP/1.1\r\nhost: x\r\n");
        return { socket, closed };
      }),
    );
    const drip = setInterval(() => {
      for (const { socket } of slow) if (!socket.destroyed) socket.write("x-slow: 1\r\n");
    }, 50);
    try {
      // The server is full: a real client still gets in, the oldest slow one giving way (connection-gate.ts)...
      expect(await status(`${s.url}/healthz`)).toBe(200);
      // ...and the slow ones are cut at their headers deadline, dripping or not.
      await Promise.all(slow.map(({ closed }) => closed));
    } finally {
      clearInterval(drip);
    }
    expect(await status(`${s.url}/healthz`)).toBe(200);
  });

  test("uploads over --max-blob-size get 413, declared or streamed", async () => {
    const s = await start({ maxBlobSize: 10 });
    const big = "x".repeat(11);
    expect(await put(cas(s, digestBytes(big)), big)).toBe(413);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const response = await fetch(cas(s, digestBytes(big)), { method: "PUT", body: stream, duplex: "half" } as RequestInit);
    expect(response.status).toBe(413);
    expect((await fetch(cas(s, digestBytes(big)))).status).toBe(404);
  });

  test("least recently used eviction keeps the store under --max-size, entries before their blobs", async () => {
    const s = await start({ maxSize: 250 });
    const blobs = ["a", "b", "c"].map((c) => c.repeat(60));
    await put(cas(s, digestBytes(blobs[0]!)), blobs[0]!);
    await put(ac(s, KEY), JSON.stringify({ blobs: [digestBytes(blobs[0]!)] }));
    await put(cas(s, digestBytes(blobs[1]!)), blobs[1]!);
    await put(cas(s, digestBytes(blobs[2]!)), blobs[2]!);
    expect(s.store.totalBytes).toBeLessThanOrEqual(250);
    // Storing the entry used its blob (review3, 25.3): the two are the oldest, of one time, and an entry goes before a blob.
    expect((await status(ac(s, KEY)))).toBe(404);
    expect((await fetch(cas(s, digestBytes(blobs[0]!)))).status).toBe(200);
    expect((await fetch(cas(s, digestBytes(blobs[2]!)))).status).toBe(200);
    expect(await (await fetch(`${s.url}/metrics`)).text()).toMatch(/^rbuild_cache_evictions_total [1-9]\d*$/m);
  });

  test("20.15: a blob larger than a quarter of --max-size is refused with 413 before anything is evicted, declared or streamed", async () => {
    const s = await start({ maxSize: 400 });
    const kept = "k".repeat(100);
    expect(await put(cas(s, digestBytes(kept)), kept)).toBe(200); // Exactly a quarter: kept.
    await put(ac(s, KEY), JSON.stringify({ blobs: [digestBytes(kept)] }));
    // Just under --max-size: storing it would evict every other entry.
    const huge = "h".repeat(399);
    const declared = await fetch(cas(s, digestBytes(huge)), { method: "PUT", body: huge });
    expect([declared.status, await declared.text()]).toEqual([
      413,
      "too large: this server keeps blobs of at most 100 bytes, 1/4 of its --max-size (400); raise --max-size to store larger ones\n",
    ]);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(huge));
        controller.close();
      },
    });
    const streamed = await fetch(cas(s, digestBytes(huge)), { method: "PUT", body: stream, duplex: "half" } as RequestInit);
    expect(streamed.status).toBe(413);
    await streamed.arrayBuffer();
    expect(await status(cas(s, digestBytes(huge)))).toBe(404);
    expect(await (await fetch(cas(s, digestBytes(kept)))).text()).toBe(kept);
    expect(await status(ac(s, KEY))).toBe(200);
    expect(s.store.evictions).toBe(0);
  });

  test("concurrent PUTs of one blob all succeed and it is readable after each", async () => {
    const s = await start();
    const body = "y".repeat(200_000);
    const digest = digestBytes(body);
    const statuses = await Promise.all(Array.from({ length: 8 }, () => put(cas(s, digest), body)));
    expect(statuses).toEqual(Array(8).fill(200));
    expect(await (await fetch(cas(s, digest))).text()).toBe(body);
  });

  test("metrics count requests, hits, misses and bytes", async () => {
    const s = await start();
    const digest = digestBytes("m");
    await put(cas(s, digest), "m");
    await fetch(cas(s, digest));
    await fetch(cas(s, digestBytes("none")));
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(text).toContain('rbuild_cache_hits_total{protocol="rbuild",kind="cas"} 1\n');
    expect(text).toContain('rbuild_cache_misses_total{protocol="rbuild",kind="cas"} 1\n');
    expect(text).toContain("rbuild_cache_bytes_in_total 1\n");
    expect(text).toContain('rbuild_cache_requests_total{protocol="rbuild",method="PUT",route="cas",code="200"} 1\n');
  });

  test("an unreadable index is rebuilt from the files, entries included", async () => {
    let s = await start();
    const blob = digestBytes("kept");
    await put(cas(s, blob), "kept");
    await put(ac(s, KEY), JSON.stringify({ blobs: [blob] }));
    await each.stop();
    for (const suffix of ["-wal", "-shm"]) rmSync(join(each.dir, `index.sqlite${suffix}`), { force: true });
    writeFileSync(join(each.dir, "index.sqlite"), "garbage ".repeat(100));
    s = await start();
    expect(s.store.totalBytes).toBeGreaterThan(0);
    expect((await status(ac(s, KEY)))).toBe(200);
  });
});

describe("the rbuild-cache-server command", () => {
  const BIN = fileURLToPath(new URL("../bin/rbuild-cache-server.js", import.meta.url));

  test("prints where it listens, serves, and exits 0 on SIGTERM", async () => {
    const child = execa(process.execPath, [BIN, "--dir", each.dir, "--port", "0", "--max-size", "5MB"], { reject: false });
    const url = await new Promise<string>((resolve) => {
      child.stdout?.on("data", (chunk: Buffer) => {
        const match = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(chunk.toString());
        if (match !== null) resolve(match[1]!);
      });
    });
    expect((await status(`${url}/healthz`))).toBe(200);
    child.kill("SIGTERM");
    expect((await child).exitCode).toBe(0);
  });

  test("bad flags exit 2 and say what to do", async () => {
    const result = await execa(process.execPath, [BIN, "--dir", each.dir, "--max-size", "lots"], { reject: false });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.split("\n")[0]).toBe('rbuild-cache-server: --max-size needs a size such as 500MB or 50GB, got "lots"');
    writeFileSync(join(each.dir, "tokens"), "abc admin\n");
    const tokens = await execa(process.execPath, [BIN, "--dir", each.dir, "--tokens", join(each.dir, "tokens")], { reject: false });
    expect(tokens.stderr.split("\n")[0]).toBe(`rbuild-cache-server: --tokens: ${join(each.dir, "tokens")}:1: expected "<token> read" or "<token> write", got "abc admin"`);
  });
});
