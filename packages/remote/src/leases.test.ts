import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, onTestFinished, test } from "vitest";
import { startCacheServer, type RunningServer } from "rbuild-cache-server";
import { HttpLeases } from "./leases.js";

let dir: string;
let server: RunningServer;
beforeEach(async () => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-leases-client-")));
  server = await startCacheServer({ dir, port: 0, maxSize: 1e9, tokens: new Map([["r", "read"], ["w", "write"]]) });
});
afterEach(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

function client(token: string, url = server.url): HttpLeases {
  const leases = new HttpLeases({ url, token });
  onTestFinished(() => leases.close());
  return leases;
}

const holder = (task: string) => ({ id: `h/${task}`, host: "h", build: "1-abcdef", task });

describe("the lease client against the real server", () => {
  test("26.4: acquire, a refusal naming the holders, heartbeat, release and the listing", async () => {
    const leases = client("w");
    expect(await leases.acquire("pool/with:odd name", 1, holder("one"), 30_000)).toEqual({ granted: true });
    const refused = await leases.acquire("pool/with:odd name", 1, holder("two"), 30_000);
    expect(refused.granted ? [] : refused.holders.map(({ ageMs: _a, expiresInMs: _e, ...h }) => h)).toEqual([{ id: "h/one", host: "h", build: "1-abcdef", task: "one" }]);
    expect(await leases.heartbeat("pool/with:odd name", "h/one", 30_000)).toBe(true);
    expect(await leases.heartbeat("pool/with:odd name", "h/two", 30_000)).toBe(false);
    expect((await leases.list()).map((p) => [p.pool, p.size, p.holders.map((h) => h.id)])).toEqual([["pool/with:odd name", 1, ["h/one"]]]);
    expect(await leases.release("pool/with:odd name", "h/one")).toBe(true);
    expect(await leases.release("pool/with:odd name", "h/one")).toBe(false);
    expect(await leases.list()).toEqual([]);
  });

  test("26.4: a read token, and a server without leases, are errors that say what to do", async () => {
    await expect(client("r").acquire("p", 1, holder("x"), 30_000)).rejects.toThrow('taking a lease on pool "p": 403 forbidden (leases need a token that may write; this one may only read)');
    const old = createServer((_req, res) => res.writeHead(404).end("not found\n"));
    await new Promise<void>((resolve) => old.listen(0, "127.0.0.1", resolve));
    onTestFinished(() => new Promise<void>((resolve) => old.close(() => resolve())));
    const url = `http://127.0.0.1:${(old.address() as AddressInfo).port}`;
    await expect(client("w", url).list()).rejects.toThrow(`listing leases: HTTP 404: the server at ${url} has no leases (an rbuild-cache-server older than shared pools?)`);
  });
});
