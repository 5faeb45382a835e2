import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, onTestFinished, test } from "vitest";
import { startCacheServer, type RunningServer } from "rbuild-cache-server";
import { digestBytes } from "@rbuild/hash";
import { BestEffort } from "./best-effort.js";
import { HttpRemoteCache } from "./http-remote.js";
import { MAX_ANSWER_BYTES, MAX_BLOB_BYTES, MAX_ENTRY_BYTES, RemoteError } from "./remote-cache.js";
import { refusedUrl, startFaultServer, type Fault, type FaultServer } from "./test-support/fault-server.js";

/** A fault-injecting server for the running test, stopped when it finishes. */
async function faultServer(fault: Fault): Promise<FaultServer> {
  const server = await startFaultServer(fault);
  onTestFinished(() => server.stop());
  return server;
}

let dir: string;
let server: RunningServer | undefined;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-remote-")));
});
afterEach(async () => {
  await server?.stop();
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}

describe("HttpRemoteCache against rbuild-cache-server", () => {
  test("a read-only token reads but cannot write; a bad token is unauthorised", async () => {
    server = await startCacheServer({ dir: join(dir, "server"), port: 0, maxSize: 1e9, tokens: new Map([["r", "read"], ["w", "write"]]) });
    const digest = digestBytes("x");
    await new HttpRemoteCache({ url: server.url, token: "w" }).putBlob(digest, file("x", "x"));
    const reader = new HttpRemoteCache({ url: server.url, token: "r" });
    expect(await reader.getBlob(digest, join(dir, "got"), 1)).toBe("ok");
    await expect(reader.putBlob(digest, join(dir, "x"))).rejects.toMatchObject({ problem: "forbidden" });
    await expect(new HttpRemoteCache({ url: server.url, token: "nope" }).getEntry("c".repeat(64))).rejects.toMatchObject({ problem: "unauthorized" });
  });
});

describe("HttpRemoteCache against rbuild-cache-server's bounded answers", () => {
  test("20.13: asks again for the keys an answer left for later, until all are answered", async () => {
    server = await startCacheServer({ dir: join(dir, "server"), port: 0, maxSize: 1e9 });
    const remote = new HttpRemoteCache({ url: server.url });
    // 20 entries of 900 KB: more than one bounded answer holds.
    const keys = Array.from({ length: 20 }, (_, i) => digestBytes(`key ${i}`));
    for (const [i, key] of keys.entries()) await remote.putEntry(key, Buffer.from(JSON.stringify({ blobs: [], pad: String(i).padEnd(900_000, "x") })));
    const found = await remote.getEntries([...keys, "f".repeat(64)]);
    expect([...found.keys()].sort()).toEqual([...keys].sort());
    expect((JSON.parse(found.get(keys[7]!)!.entry.toString()) as { pad: string }).pad).toBe("7".padEnd(900_000, "x"));
    await remote.close();
  });
});

// The conformance suite (conformance.test.ts) covers what every implementation must do; these are the
// ways a misbehaving server may make the client fail: errors and misses, never wrong bytes or a hang.
describe("HttpRemoteCache against a misbehaving server", () => {
  test.each<[Fault, string]>([
    ["503", "status"],
    ["stall", "timeout"],
    ["truncated", "unreachable"],
  ])("%s is a RemoteError (%s), never a hang or a crash", async (fault, problem) => {
    const bad = await faultServer(fault);
    const remote = new HttpRemoteCache({ url: bad.url, timeoutMs: 300 });
    const error = await remote.getBlob(digestBytes("x"), join(dir, "out"), 1000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).problem).toBe(problem);
    expect(existsSync(join(dir, "out"))).toBe(false);
  });

  test("wrong bytes are reported as corrupt and never written", async () => {
    const bad = await faultServer("wrong-bytes");
    const remote = new HttpRemoteCache({ url: bad.url });
    expect(await remote.getBlob(digestBytes("wanted"), join(dir, "out"), 6)).toBe("corrupt");
    expect(existsSync(join(dir, "out"))).toBe(false);
  });

  test("a server without the batch lookup is asked key by key, from then on", async () => {
    const old = await faultServer("no-batch");
    const remote = new HttpRemoteCache({ url: old.url });
    const keys = ["1".repeat(64), "2".repeat(64)];
    expect([...(await remote.getEntries(keys)).keys()].sort()).toEqual(keys);
    await remote.getEntries([keys[0]!]);
    expect(old.requests.filter((r) => r.startsWith("POST"))).toEqual(["POST /rbuild/v1/ac:get"]);
    expect(old.requests.filter((r) => r.startsWith("GET")).length).toBe(3);
  });

  test("an answer to the batch lookup that is not JSON is a RemoteError, never a crash", async () => {
    const bad = await faultServer("garbage-entry");
    const error = await new HttpRemoteCache({ url: bad.url }).getEntries(["1".repeat(64)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).message).toBe("reading 1 entries: the answer is not JSON");
  });

  test("20.12: stops reading a blob at the size the entry declares, and answers at their cap", async () => {
    const bad = await faultServer("endless");
    const remote = new HttpRemoteCache({ url: bad.url });
    const blob = "seventeen bytes!!";
    expect(await remote.getBlob(digestBytes(blob), join(dir, "out"), blob.length)).toBe("corrupt");
    expect(existsSync(join(dir, "out"))).toBe(false);
    const key = "1".repeat(64);
    const batch = await remote.getEntries([key]).catch((e: unknown) => e);
    expect(batch).toBeInstanceOf(RemoteError);
    expect((batch as RemoteError).message).toBe(`reading 1 entries: the answer is larger than ${MAX_ANSWER_BYTES} bytes, more than any this rbuild asks for`);
    const single = await remote.getEntry(key).catch((e: unknown) => e);
    expect((single as RemoteError).message).toBe(`reading entry 111111111111: the answer is larger than ${MAX_ENTRY_BYTES} bytes, more than any this rbuild asks for`);
    await remote.close();
    // The client hung up on each: none of the three 64 MiB answers was read to its end.
    expect(await Promise.all(bad.finished)).toEqual([false, false, false]);
  });

  test("20.12: a server that drips its answer is cut at the whole exchange's deadline, a timeout", async () => {
    const bad = await faultServer("drip");
    // A byte every 50 ms never trips undici's 300 ms between chunks; the deadline for the whole is
    // the same 300 ms plus the time its bytes (the blob's 1000 and an error text's 4 KiB) take at 1 MiB/s.
    const remote = new HttpRemoteCache({ url: bad.url, timeoutMs: 300 });
    const error = await remote.getBlob(digestBytes("x"), join(dir, "out"), 1000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect([(error as RemoteError).problem, (error as RemoteError).message]).toEqual([
      "timeout",
      `reading blob ${digestBytes("x").slice(0, 12)}: not done within 0.305 s (a remote slower than 1 MiB/s is not waited for)`,
    ]);
    expect(readdirSync(dir)).toEqual([]); // Nor its temp file.
    expect(await Promise.all(bad.finished)).toEqual([false]);
    await remote.close();
  });

  test("20.12: the build's interrupt stops an exchange in flight at once, refuses new ones, and close does not wait", async () => {
    const bad = await faultServer("drip");
    const interrupt = new AbortController();
    const remote = new HttpRemoteCache({ url: bad.url, signal: interrupt.signal });
    const pending = remote.getEntries(["1".repeat(64)]).catch((e: unknown) => e);
    await bad.received;
    interrupt.abort();
    const error = await pending;
    expect([(error as RemoteError).problem, (error as RemoteError).message]).toEqual(["interrupted", "reading 1 entries: the build was interrupted"]);
    expect(await Promise.all(bad.finished)).toEqual([false]);
    await expect(remote.getEntry("2".repeat(64))).rejects.toMatchObject({ problem: "interrupted" });
    expect(bad.requests).toEqual(["POST /rbuild/v1/ac:get"]);
    await remote.close();
  });

  test("20.12: a blob whose entry declares more than MAX_BLOB_BYTES is refused before a byte is read", async () => {
    const bad = await faultServer("endless");
    const remote = new HttpRemoteCache({ url: bad.url });
    const size = 3 * 1024 ** 3;
    const error = await remote.getBlob(digestBytes("x"), join(dir, "out"), size).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).message).toBe(
      `reading blob ${digestBytes("x").slice(0, 12)}: it is ${size} bytes, more than the ${MAX_BLOB_BYTES} (1 GiB) rbuild reads or shares through a remote`,
    );
    expect(bad.requests).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
    await remote.close();
  });

  test("20.13: a server that puts every key off until later is an error, never a loop", async () => {
    const bad = await faultServer("defers-everything");
    const error = await new HttpRemoteCache({ url: bad.url }).getEntries(["1".repeat(64), "2".repeat(64)]).catch((e: unknown) => e);
    expect((error as RemoteError).message).toBe("reading 2 entries: the server answered none of them");
    expect(bad.requests).toEqual(["POST /rbuild/v1/ac:get"]);
  });

  test("a refused connection is unreachable", async () => {
    const remote = new HttpRemoteCache({ url: await refusedUrl() });
    await expect(remote.getEntry("d".repeat(64))).rejects.toMatchObject({ problem: "unreachable" });
  });
});

describe("BestEffort", () => {
  test("turns failures into fallbacks, warns once, and switches off after repeated failures", async () => {
    const warnings: string[] = [];
    const best = new BestEffort({ warn: (m) => warnings.push(m), maxFailures: 3 });
    const failing = () => Promise.reject(new RemoteError("unreachable", "connect ECONNREFUSED"));
    expect(await best.attempt("reading entry", failing, "miss")).toBe("miss");
    expect(await best.attempt("reading entry", failing, "miss")).toBe("miss");
    expect(best.enabled).toBe(true);
    expect(await best.attempt("reading entry", failing, "miss")).toBe("miss");
    expect(best.enabled).toBe(false);
    let called = false;
    expect(await best.attempt("reading entry", async () => ((called = true), "hit"), "miss")).toBe("miss");
    expect(called).toBe(false);
    expect(warnings).toEqual([
      "remote cache: reading entry failed: connect ECONNREFUSED; going on with the local cache",
      "remote cache: switched off for the rest of this build after 3 failures",
    ]);
  });

  test("20.12: an interrupted exchange is the fallback, neither warned about nor counted", async () => {
    const warnings: string[] = [];
    const best = new BestEffort({ warn: (m) => warnings.push(m), maxFailures: 1 });
    expect(await best.attempt("reading entry", () => Promise.reject(new RemoteError("interrupted", "reading entry: the build was interrupted")), "miss")).toBe("miss");
    expect([best.enabled, warnings]).toEqual([true, []]);
  });

  test("an unauthorised remote is switched off at once", async () => {
    const warnings: string[] = [];
    const best = new BestEffort({ warn: (m) => warnings.push(m) });
    await best.attempt("reading entry", () => Promise.reject(new RemoteError("unauthorized", "reading entry: 401 unauthorized (check --token or RBUILD_TOKEN)")), undefined);
    expect(best.enabled).toBe(false);
    expect(warnings).toHaveLength(2);
  });
});
