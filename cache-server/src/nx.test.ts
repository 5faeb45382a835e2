/**
 * Nx's self-hosted cache API on the real server over loopback, with the
 * requests nx 24 makes (see ../../shared/reference/remote-cache-protocols.md
 * §3 and §7): Bearer token, `Content-Type: application/octet-stream`, a
 * Content-Length on PUT, decimal hashes.
 */
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import type { ServerOptions } from "./server.js";
import { serverPerTest } from "./test-support/server-per-test.js";

const each = serverPerTest("rbuild-nx-");
const start = (options?: Partial<ServerOptions>) => each.start(options);

interface Answer {
  status: number;
  type: string | null;
  body: string;
}

/** A request as nx sends it. */
async function nx(path: string, init: { method?: string; body?: string | Buffer; token?: string | null } = {}): Promise<Answer> {
  const { token = "secret", method = "GET", body } = init;
  const headers: Record<string, string> = { "content-type": "application/octet-stream" };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (method === "GET") headers.accept = "application/octet-stream";
  const response = await fetch(`${each.server!.url}${path}`, { method, headers, body });
  return { status: response.status, type: response.headers.get("content-type"), body: await response.text() };
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** Not really a gzip'd tar: the server never looks inside. */
const ARTIFACT = Buffer.from("\x1f\x8b\x08\x00 terminalOutput code dist/index.js");
const HASH = "13859412553870392104";

describe("Nx's self-hosted cache API", () => {
  test("25.2: GET misses with 404, PUT stores with exactly 200, GET returns the bytes, a second PUT is 409", async () => {
    await start();
    expect(await nx(`/v1/cache/${HASH}`)).toEqual({ status: 404, type: "text/plain", body: "not found\n" });
    expect(await nx(`/v1/cache/${HASH}`, { method: "PUT", body: ARTIFACT })).toEqual({ status: 200, type: "text/plain", body: "stored\n" });

    const got = await fetch(`${each.server!.url}/v1/cache/${HASH}`, { headers: { authorization: "Bearer secret" } });
    expect([got.status, got.headers.get("content-type"), got.headers.get("content-length")]).toEqual([200, "application/octet-stream", String(ARTIFACT.length)]);
    expect(Buffer.from(await got.arrayBuffer())).toEqual(ARTIFACT);

    // Write-once: the first artifact stays.
    expect(await nx(`/v1/cache/${HASH}`, { method: "PUT", body: "other bytes" })).toEqual({
      status: 409,
      type: "text/plain",
      body: "Cannot override an existing record\n",
    });
    expect((await nx(`/v1/cache/${HASH}`)).body).toBe(ARTIFACT.toString());
  });

  test("25.2: below a path prefix; other methods are 405 and bad hashes 400", async () => {
    await start();
    expect((await nx(`/team-a/nx/v1/cache/${HASH}`, { method: "PUT", body: ARTIFACT })).status).toBe(200);
    expect((await nx(`/team-a/nx/v1/cache/${HASH}`)).body).toBe(ARTIFACT.toString());
    // The prefix is only where the API is mounted: the hash names one artifact.
    expect((await nx(`/v1/cache/${HASH}`)).status).toBe(200);
    expect(await nx(`/v1/cache/${HASH}`, { method: "DELETE" })).toEqual({ status: 405, type: "text/plain", body: "use GET or PUT\n" });
    expect((await nx("/v1/cache/not%20a%20hash", { method: "PUT", body: "x" })).status).toBe(400);
    expect((await nx("/v1/cache/", { method: "PUT", body: "x" })).status).toBe(400);
  });

  test("25.2: tokens: none or an unknown one is 401 in exactly text/plain (nx shows only such a 401), a read token may GET but not PUT (403), a write token stores", async () => {
    await start({ tokens: new Map([["reader", "read"], ["writer", "write"]]) });
    const unauthorized = { status: 401, type: "text/plain", body: "a valid token is needed: set NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN\n" };
    expect(await nx(`/v1/cache/${HASH}`, { token: null })).toEqual(unauthorized);
    expect(await nx(`/v1/cache/${HASH}`, { token: "wrong" })).toEqual(unauthorized);
    expect(await nx(`/v1/cache/${HASH}`, { method: "PUT", body: ARTIFACT, token: null })).toEqual(unauthorized);
    expect(await nx(`/v1/cache/${HASH}`, { method: "PUT", body: ARTIFACT, token: "reader" })).toEqual({
      status: 403,
      type: "text/plain",
      body: "this token may only read the cache\n",
    });
    expect((await nx(`/v1/cache/${HASH}`, { token: "reader" })).status).toBe(404);
    expect((await nx(`/v1/cache/${HASH}`, { method: "PUT", body: ARTIFACT, token: "writer" })).status).toBe(200);
    expect(await nx(`/v1/cache/${HASH}`, { token: "reader" })).toEqual({ status: 200, type: "application/octet-stream", body: ARTIFACT.toString() });
  });

  test("25.2: a read token's refused upload is read to the end, so nx reads the 403 on a connection that stays open", async () => {
    await start({ tokens: new Map([["reader", "read"]]) });
    // Large enough not to sit in the socket buffers whole when the server answers.
    const body = Buffer.alloc(8 * 1024 * 1024, 7);
    const answer = await new Promise<[number, string | undefined]>((resolve, reject) => {
      const headers = { authorization: "Bearer reader", "content-type": "application/octet-stream", "content-length": body.length };
      const req = request(`${each.server!.url}/v1/cache/${HASH}`, { method: "PUT", headers }, (res) => {
        res.resume();
        resolve([res.statusCode ?? 0, res.headers.connection]);
      });
      req.on("error", reject);
      req.end(body);
    });
    // Cut short, the answer would say `Connection: close` (see answer.ts).
    expect(answer).toEqual([403, "keep-alive"]);
  });

  test("25.2: too large is 413 and stores nothing; a PUT without Content-Length is 411", async () => {
    await start({ maxBlobSize: 8 });
    expect(await nx(`/v1/cache/${HASH}`, { method: "PUT", body: "123456789" })).toEqual({
      status: 413,
      type: "text/plain",
      body: "too large: this server keeps artifacts of at most 8 bytes\n",
    });
    expect((await nx(`/v1/cache/${HASH}`)).status).toBe(404);

    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(`${each.server!.url}/v1/cache/${HASH}`, { method: "PUT", headers: { authorization: "Bearer secret" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.write("1234");
      req.end();
    });
    expect(chunked).toBe(411);
    expect((await nx(`/v1/cache/${HASH}`)).status).toBe(404);
  });

  test("25.2: Nx's hashes have a key space of their own (the same name under turbo's API is another artifact), its content is shared", async () => {
    await start();
    await nx(`/v1/cache/1234567890123456`, { method: "PUT", body: "nx" });
    const turbo = await fetch(`${each.server!.url}/v8/artifacts/1234567890123456`, { headers: { authorization: "Bearer x" } });
    expect(turbo.status).toBe(404);
    await fetch(`${each.server!.url}/v8/artifacts/1234567890123456`, { method: "PUT", body: "turbo", headers: { authorization: "Bearer x" } });
    expect((await nx(`/v1/cache/1234567890123456`)).body).toBe("nx");

    // The content is SHA-256 content like turbo's: the same bytes from both are one blob.
    await nx("/v1/cache/99", { method: "PUT", body: "turbo" });
    const blobs = readdirSync(join(each.dir, "cas", "sha256"), { recursive: true }).filter((p) => String(p).length > 3);
    expect(blobs.map(String).sort()).toEqual([sha256("nx"), sha256("turbo")].map((d) => join(d.slice(0, 2), d)).sort());
  });

  test("25.2: artifacts share --max-size and its LRU; an evicted one is a miss and may be stored again (no 409)", async () => {
    const s = await start({ maxSize: 1000 });
    for (let i = 0; i < 5; i++) {
      expect((await nx(`/v1/cache/${i}`, { method: "PUT", body: Buffer.alloc(200, i) })).status).toBe(200);
      s.store.flush();
    }
    const present = [];
    for (let i = 0; i < 5; i++) present.push((await nx(`/v1/cache/${i}`)).status);
    // Which went first depends on the clock's resolution; the newest stays.
    expect(present[4]).toBe(200);
    const evicted = present.indexOf(404);
    expect(evicted).toBeGreaterThanOrEqual(0);
    expect((await nx(`/v1/cache/${evicted}`, { method: "PUT", body: Buffer.alloc(200, evicted) })).status).toBe(200);
    expect((await nx(`/v1/cache/${evicted}`)).body).toBe(Buffer.alloc(200, evicted).toString());
  });

  test("25.2: /metrics counts Nx's requests, hits and misses under protocol nx", async () => {
    await start();
    await nx(`/v1/cache/${HASH}`);
    await nx(`/v1/cache/${HASH}`, { method: "PUT", body: ARTIFACT });
    await nx(`/v1/cache/${HASH}`, { method: "PUT", body: ARTIFACT });
    await nx(`/v1/cache/${HASH}`);
    const text = await (await fetch(`${each.server!.url}/metrics`)).text();
    const nxLines = text.split("\n").filter((line) => line.includes('protocol="nx"'));
    expect(nxLines).toEqual([
      'rbuild_cache_requests_total{protocol="nx",method="GET",route="nx",code="200"} 1',
      'rbuild_cache_requests_total{protocol="nx",method="GET",route="nx",code="404"} 1',
      'rbuild_cache_requests_total{protocol="nx",method="PUT",route="nx",code="200"} 1',
      'rbuild_cache_requests_total{protocol="nx",method="PUT",route="nx",code="409"} 1',
      'rbuild_cache_hits_total{protocol="nx",kind="artifact"} 1',
      'rbuild_cache_misses_total{protocol="nx",kind="artifact"} 1',
    ]);
  });
});
