import { describe, expect, test } from "vitest";
import type { RunningServer } from "./server.js";
import { serverPerTest } from "./test-support/server-per-test.js";

const each = serverPerTest("rbuild-leases-");

const holder = (id: string) => ({ id, host: "host-a", build: "b1", task: `deploy-${id}` });

async function call(s: RunningServer, path: string, body?: unknown, token = "w"): Promise<[number, unknown]> {
  const response = await fetch(`${s.url}/rbuild/v1/leases${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // A text answer: compared as text.
  }
  return [response.status, value];
}

/** The listing with ages and expiries left out (they depend on the clock). */
async function listing(s: RunningServer): Promise<unknown> {
  const [status, body] = (await call(s, "")) as [number, { pools: { pool: string; size: number; holders: Record<string, unknown>[] }[] }];
  return [status, body.pools.map((p) => ({ ...p, holders: p.holders.map(({ ageMs: _a, expiresInMs: _e, ...h }) => h) }))];
}

async function startWithTokens(): Promise<RunningServer> {
  return each.start({ tokens: new Map([["w", "write"], ["r", "read"]]) });
}

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("condition not met within 30 s");
}

describe("leases", () => {
  test("26.4: acquire grants up to the pool's size, then 409 with the holders; release frees one; the listing shows them", async () => {
    const s = await startWithTokens();
    expect((await call(s, "/staging:acquire", { size: 2, holder: holder("one"), ttlMs: 30_000 }))[0]).toBe(200);
    expect((await call(s, "/staging:acquire", { size: 2, holder: holder("two"), ttlMs: 30_000 }))[0]).toBe(200);
    const [status, refused] = (await call(s, "/staging:acquire", { size: 2, holder: holder("three"), ttlMs: 30_000 })) as [number, { granted: boolean; holders: { id: string }[] }];
    expect([status, refused.granted, refused.holders.map((h) => h.id)]).toEqual([409, false, ["one", "two"]]);
    // Asking again as a holder renews, and is no second holder.
    expect((await call(s, "/staging:acquire", { size: 2, holder: holder("one"), ttlMs: 30_000 }))[0]).toBe(200);
    expect(await listing(s)).toEqual([
      200,
      [{ pool: "staging", size: 2, holders: [{ id: "one", host: "host-a", build: "b1", task: "deploy-one" }, { id: "two", host: "host-a", build: "b1", task: "deploy-two" }] }],
    ]);
    expect(await call(s, "/staging:release", { holder: "one" })).toEqual([200, { released: true }]);
    expect(await call(s, "/staging:release", { holder: "one" })).toEqual([200, { released: false }]);
    expect((await call(s, "/staging:acquire", { size: 2, holder: holder("three"), ttlMs: 30_000 }))[0]).toBe(200);
    expect(await call(s, "/staging:heartbeat", { holder: "three", ttlMs: 30_000 })).toEqual([200, { held: true }]);
    expect(await call(s, "/staging:heartbeat", { holder: "one", ttlMs: 30_000 })).toEqual([404, { held: false }]);
  });

  test("26.4: a read token gets 403 on every lease endpoint, no token 401", async () => {
    const s = await startWithTokens();
    const reasons = [
      await call(s, "", undefined, "r"),
      await call(s, "/staging:acquire", { size: 1, holder: holder("x"), ttlMs: 30_000 }, "r"),
      await call(s, "/staging:heartbeat", { holder: "x", ttlMs: 30_000 }, "r"),
      await call(s, "/staging:release", { holder: "x" }, "r"),
      await call(s, "", undefined, "nope"),
    ];
    const refused = "leases need a token that may write; this one may only read\n";
    expect(reasons).toEqual([[403, refused], [403, refused], [403, refused], [403, refused], [401, "unauthorized\n"]]);
  });

  test("26.4: a holder that stops heartbeating is dropped after its TTL, and another takes the lease", async () => {
    const s = await startWithTokens();
    expect((await call(s, "/farm:acquire", { size: 1, holder: holder("dead"), ttlMs: 300 }))[0]).toBe(200);
    expect((await call(s, "/farm:acquire", { size: 1, holder: holder("next"), ttlMs: 30_000 }))[0]).toBe(409);
    await waitFor(async () => (await call(s, "/farm:acquire", { size: 1, holder: holder("next"), ttlMs: 30_000 }))[0] === 200);
    expect(await listing(s)).toEqual([200, [{ pool: "farm", size: 1, holders: [{ id: "next", host: "host-a", build: "b1", task: "deploy-next" }] }]]);
  });

  test("26.4: leases survive a restart of the server on the same directory", async () => {
    const s = await startWithTokens();
    expect((await call(s, "/staging:acquire", { size: 1, holder: holder("kept"), ttlMs: 60_000 }))[0]).toBe(200);
    await each.stop();
    const again = await startWithTokens();
    expect(await listing(again)).toEqual([200, [{ pool: "staging", size: 1, holders: [{ id: "kept", host: "host-a", build: "b1", task: "deploy-kept" }] }]]);
    expect((await call(again, "/staging:acquire", { size: 1, holder: holder("other"), ttlMs: 60_000 }))[0]).toBe(409);
  });

  test("26.4: malformed requests are 400 with what is expected; other methods 405", async () => {
    const s = await startWithTokens();
    expect([
      await call(s, "/staging:acquire", { size: 0, holder: holder("x"), ttlMs: 30_000 }),
      await call(s, "/staging:acquire", { size: 1, holder: { id: "x" }, ttlMs: 30_000 }),
      await call(s, "/staging:acquire", { size: 1, holder: holder("x"), ttlMs: 5 }),
      await call(s, "/staging:release", {}),
      [(await fetch(`${s.url}/rbuild/v1/leases/staging:acquire`, { headers: { authorization: "Bearer w" } })).status, "GET"],
    ]).toEqual([
      [400, '"size" must be a positive whole number\n'],
      [400, '"holder" must be {"id", "host", "build", "task"}, each a string of 1 to 500 characters\n'],
      [400, '"ttlMs" must be a whole number of milliseconds from 100 to 3600000\n'],
      [400, '"holder" must be the id the lease was taken with\n'],
      [405, "GET"],
    ]);
  });
});
