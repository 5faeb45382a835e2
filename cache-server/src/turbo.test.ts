/**
 * turbo's remote cache API (v8) on the real server over loopback, with the
 * requests turbo makes (see ../../shared/reference/remote-cache-protocols.md §2).
 */
import { describe, expect, test } from "vitest";
import type { ServerOptions } from "./server.js";
import { serverPerTest } from "./test-support/server-per-test.js";

const each = serverPerTest("rbuild-turbo-");
const start = (options?: Partial<ServerOptions>) => each.start(options);

/** A request as turbo sends it: bearer token, its user agent, the team in the query. */
async function turbo(path: string, init: RequestInit & { token?: string } = {}): Promise<{ status: number; headers: Headers; body: string }> {
  const { token = "secret", ...rest } = init;
  const response = await fetch(`${each.server!.url}${path}`, {
    ...rest,
    headers: { authorization: `Bearer ${token}`, "user-agent": "turbo 2.11.11 rustc linux x86_64", ...(rest.headers as Record<string, string>) },
  });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

const ARTIFACT = Buffer.from("\x28\xb5\x2f\xfd not really zstd, the server does not look");

describe("the Turborepo v8 API", () => {
  test("PUT stores an artifact; GET and HEAD return it with its duration and tag; a miss is 404", async () => {
    await start();
    expect((await turbo("/v8/artifacts/a45c1a3eaddad21e?slug=team-a")).status).toBe(404);
    const stored = await turbo("/v8/artifacts/a45c1a3eaddad21e?slug=team-a", {
      method: "PUT",
      body: ARTIFACT,
      headers: { "content-type": "application/octet-stream", "x-artifact-duration": "5120", "x-artifact-tag": "c2lnbmF0dXJl" },
    });
    expect([stored.status, JSON.parse(stored.body)]).toEqual([202, { urls: ["team-a/a45c1a3eaddad21e"] }]);

    const got = await fetch(`${each.server!.url}/v8/artifacts/a45c1a3eaddad21e?slug=team-a`, { headers: { authorization: "Bearer x" } });
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer())).toEqual(ARTIFACT);
    expect([got.headers.get("content-type"), got.headers.get("x-artifact-duration"), got.headers.get("x-artifact-tag")]).toEqual([
      "application/octet-stream",
      "5120",
      "c2lnbmF0dXJl",
    ]);
    const head = await turbo("/v8/artifacts/a45c1a3eaddad21e?slug=team-a", { method: "HEAD" });
    expect([head.status, head.headers.get("content-length"), head.body]).toEqual([200, String(ARTIFACT.length), ""]);

    // Teams do not see each other's artifacts; `teamId` and `team` name teams as `slug` does.
    expect((await turbo("/v8/artifacts/a45c1a3eaddad21e?slug=team-b")).status).toBe(404);
    expect((await turbo("/v8/artifacts/a45c1a3eaddad21e?teamId=team-a")).status).toBe(200);
    expect((await turbo("/v8/artifacts/a45c1a3eaddad21e")).status).toBe(404);
  });

  test("a re-PUT replaces the artifact; an artifact without a tag is served without one", async () => {
    await start();
    await turbo("/v8/artifacts/0123456789abcdef", { method: "PUT", body: "one", headers: { "x-artifact-tag": "dGFn" } });
    await turbo("/v8/artifacts/0123456789abcdef", { method: "PUT", body: "two", headers: { "x-artifact-duration": "7" } });
    const got = await turbo("/v8/artifacts/0123456789abcdef");
    expect([got.body, got.headers.get("x-artifact-duration"), got.headers.get("x-artifact-tag")]).toEqual(["two", "7", null]);
  });

  test("the query, events and status endpoints", async () => {
    await start();
    await turbo("/v8/artifacts/aaaaaaaaaaaaaaaa?slug=t", { method: "PUT", body: "12345", headers: { "x-artifact-duration": "42", "x-artifact-tag": "dGFn" } });
    const query = await turbo("/v8/artifacts?slug=t", { method: "POST", body: JSON.stringify({ hashes: ["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"] }) });
    expect([query.status, JSON.parse(query.body)]).toEqual([200, { aaaaaaaaaaaaaaaa: { size: 5, taskDurationMs: 42, tag: "dGFn" }, bbbbbbbbbbbbbbbb: null }]);
    const bad = await turbo("/v8/artifacts?slug=t", { method: "POST", body: '{"hashes": "nope"}' });
    expect([bad.status, JSON.parse(bad.body).error.code]).toEqual([400, "bad_request"]);

    const events = [{ sessionId: "s", source: "REMOTE", event: "HIT", hash: "aaaaaaaaaaaaaaaa", duration: 42 }];
    expect((await turbo("/v8/artifacts/events?slug=t", { method: "POST", body: JSON.stringify(events) })).status).toBe(200);
    const status = await turbo("/v8/artifacts/status");
    expect([status.status, JSON.parse(status.body)]).toEqual([200, { status: "enabled" }]);
    // Behind a path prefix, as a reverse proxy may mount it.
    expect((await turbo("/cache/v8/artifacts/aaaaaaaaaaaaaaaa?slug=t")).status).toBe(200);
  });

  test("tokens: none or a wrong one is 401, a read token may not PUT (403), with Vercel-shaped errors", async () => {
    await start({ tokens: new Map([["reader", "read"], ["writer", "write"]]) });
    const anonymous = await fetch(`${each.server!.url}/v8/artifacts/aaaaaaaaaaaaaaaa`);
    expect([anonymous.status, ((await anonymous.json()) as { error: { code: string } }).error.code]).toEqual([401, "unauthorized"]);
    expect((await turbo("/v8/artifacts/aaaaaaaaaaaaaaaa", { token: "wrong" })).status).toBe(401);
    const readOnly = await turbo("/v8/artifacts/aaaaaaaaaaaaaaaa", { method: "PUT", body: "x", token: "reader" });
    expect([readOnly.status, JSON.parse(readOnly.body).error.code]).toEqual([403, "forbidden"]);
    expect((await turbo("/v8/artifacts/aaaaaaaaaaaaaaaa", { method: "PUT", body: "x", token: "writer" })).status).toBe(202);
    expect((await turbo("/v8/artifacts/aaaaaaaaaaaaaaaa", { token: "reader" })).body).toBe("x");
  });

  test("bad input is refused and stores nothing", async () => {
    await start({ maxBlobSize: 8 });
    const large = await turbo("/v8/artifacts/aaaaaaaaaaaaaaaa", { method: "PUT", body: "123456789" });
    expect([large.status, JSON.parse(large.body).error.code]).toEqual([413, "too_large"]);
    const duration = await turbo("/v8/artifacts/aaaaaaaaaaaaaaaa", { method: "PUT", body: "1", headers: { "x-artifact-duration": "soon" } });
    expect(duration.status).toBe(400);
    const tag = await turbo("/v8/artifacts/aaaaaaaaaaaaaaaa", { method: "PUT", body: "1", headers: { "x-artifact-tag": "t".repeat(601) } });
    expect(tag.status).toBe(400);
    expect((await turbo("/v8/artifacts/not%2Fa%2Fhash", { method: "PUT", body: "1" })).status).toBe(400);
    expect((await turbo("/v8/artifacts/aaaaaaaaaaaaaaaa")).status).toBe(404);
    expect((await turbo("/v8/artifacts/aaaaaaaaaaaaaaaa", { method: "DELETE" })).status).toBe(405);
  });

  test("artifacts share the size bound and LRU eviction with rbuild's entries", async () => {
    const s = await start({ maxSize: 1000 });
    for (let i = 0; i < 5; i++) {
      await turbo(`/v8/artifacts/${String(i).repeat(16)}`, { method: "PUT", body: Buffer.alloc(200, i) });
      s.store.flush();
    }
    const present = [];
    for (let i = 0; i < 5; i++) present.push((await turbo(`/v8/artifacts/${String(i).repeat(16)}`, { method: "HEAD" })).status);
    expect(present.filter((code) => code === 200).length).toBeLessThanOrEqual(3);
    expect(present[4]).toBe(200);
  });
});
