/**
 * One storage model under every protocol (key-spaces.ts): content stored once
 * by its digest, a key space per protocol and digest function, one LRU, one
 * /metrics with a protocol label. Real server, real files, fetch as the client.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { digestBytes } from "@rbuild/hash";
import { serverPerTest } from "./test-support/server-per-test.js";

const each = serverPerTest("rbuild-storage-");

const sha256 = (bytes: string | Buffer): string => createHash("sha256").update(bytes).digest("hex");

async function request(path: string, init: RequestInit = {}): Promise<{ status: number; body: string }> {
  const response = await fetch(`${each.server!.url}${path}`, init);
  return { status: response.status, body: await response.text() };
}

const put = async (path: string, body: string): Promise<number> => (await request(path, { method: "PUT", body })).status;
const get = async (path: string): Promise<number> => (await request(path)).status;

/** Every file of the store but its index and temp dir, as relative paths, sorted. */
function storedFiles(): string[] {
  return readdirSync(each.dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(each.dir.length + 1))
    .filter((path) => !path.startsWith("index.sqlite") && !path.startsWith("tmp/"))
    .sort();
}

/** Waits until the clock has moved on, so that accesses before and after are ordered for the LRU. */
async function nextMillisecond(): Promise<void> {
  const now = Date.now();
  while (Date.now() <= now) await new Promise((resolve) => setTimeout(resolve, 1));
}

describe("one storage model", () => {
  test("25.3: the same bytes from a Bazel CAS PUT, a Bazel AC value and a turbo artifact are one file on disk", async () => {
    await each.start();
    const bytes = "the same output, three protocols\n";
    const digest = sha256(bytes);
    const acKey = "ab".repeat(32);
    expect(await put(`/cas/${digest}`, bytes)).toBe(200);
    expect(await put(`/ac/${acKey}`, bytes)).toBe(200);
    expect((await request("/v8/artifacts/0123456789abcdef?slug=t", { method: "PUT", body: bytes })).status).toBe(202);

    const files = storedFiles();
    expect(files.filter((path) => path.startsWith("cas/"))).toEqual([`cas/sha256/${digest.slice(0, 2)}/${digest}`]);
    expect(files.map((path) => path.split("/").slice(0, 2).join("/"))).toEqual(["ac/bazel-sha256", "ac/turbo", "cas/sha256"]);
    expect(files).toContain(`ac/bazel-sha256/ab/${acKey}`);
    for (const path of [`/cas/${digest}`, `/ac/${acKey}`, "/v8/artifacts/0123456789abcdef?slug=t"]) {
      expect([path, await request(path)]).toEqual([path, { status: 200, body: bytes }]);
    }
  });

  test("25.3: key spaces do not mix: rbuild and Bazel AC keys with the same hex, BLAKE3 and SHA-256 names", async () => {
    await each.start();
    const key = "5e".repeat(32);
    const blob = "rbuild's layer";
    const blake3 = digestBytes(blob);
    expect(await put(`/rbuild/v1/cas/blake3/${blake3}`, blob)).toBe(200);
    const entry = JSON.stringify({ blobs: [blake3], exitCode: 0 });
    expect(await put(`/rbuild/v1/ac/${key}`, entry)).toBe(200);
    expect(await get(`/ac/${key}`)).toBe(404);
    expect(await put(`/ac/${key}`, "ccache's value")).toBe(200);
    expect(await request(`/rbuild/v1/ac/${key}`)).toEqual({ status: 200, body: entry });
    expect(await request(`/ac/${key}`)).toEqual({ status: 200, body: "ccache's value" });
    // Bazel's AC below a .../blake3 instance is a third space.
    expect(await get(`/team/blake3/ac/${key}`)).toBe(404);

    // A BLAKE3 name is not a SHA-256 name: the default (SHA-256) CAS neither has it nor takes those bytes under it.
    expect(await get(`/cas/${blake3}`)).toBe(404);
    expect(await put(`/cas/${blake3}`, blob)).toBe(400);
    // Below an instance named .../blake3, Bazel's CAS is the BLAKE3 content space, where rbuild's blob is.
    expect(await request(`/team/blake3/cas/${blake3}`)).toEqual({ status: 200, body: blob });
    const other = "from bazel --digest_function=blake3";
    expect(await put(`/team/blake3/cas/${sha256(other)}`, other)).toBe(400);
    expect(await put(`/team/blake3/cas/${digestBytes(other)}`, other)).toBe(200);
    expect(await request(`/rbuild/v1/cas/blake3/${digestBytes(other)}`)).toEqual({ status: 200, body: other });
    expect(await get(`/cas/${sha256(other)}`)).toBe(404);
  });

  test("25.3: one LRU under --max-size across protocols: the least recently used goes, whichever protocol stored it", async () => {
    // 4000 bytes; a blob may take a quarter of it (1000).
    await each.start({ maxSize: 4000 });
    const filler = (c: string) => c.repeat(900);
    const bazelBlob = filler("b");
    expect(await put(`/cas/${sha256(bazelBlob)}`, bazelBlob)).toBe(200);
    await nextMillisecond();
    expect((await request("/v8/artifacts/00000000000000aa?slug=t", { method: "PUT", body: filler("t") })).status).toBe(202);
    await nextMillisecond();
    const rbuildBlob = filler("r");
    expect(await put(`/rbuild/v1/cas/blake3/${digestBytes(rbuildBlob)}`, rbuildBlob)).toBe(200);
    await nextMillisecond();
    expect(await get(`/cas/${sha256(bazelBlob)}`)).toBe(200); // Used again: now newer than turbo's artifact.
    await nextMillisecond();
    expect(each.server!.store.evictions).toBe(0);

    expect(await put(`/ac/${"7".repeat(64)}`, filler("v"))).toBe(200);
    await nextMillisecond();
    expect(await put(`/ac/${"8".repeat(64)}`, filler("w"))).toBe(200);
    // turbo's artifact (its blob, and its entry with it) was the least recently used; the rest fits.
    expect(await get("/v8/artifacts/00000000000000aa?slug=t")).toBe(404);
    expect(await get(`/rbuild/v1/cas/blake3/${digestBytes(rbuildBlob)}`)).toBe(200);
    expect(await get(`/cas/${sha256(bazelBlob)}`)).toBe(200);
    expect(await request(`/ac/${"7".repeat(64)}`)).toEqual({ status: 200, body: filler("v") });
    expect(await request(`/ac/${"8".repeat(64)}`)).toEqual({ status: 200, body: filler("w") });
    expect(each.server!.store.evictions).toBe(2);
    expect(each.server!.store.totalBytes).toBeLessThanOrEqual(4000);
  });

  test("25.3: /metrics counts requests, hits and misses with a protocol label", async () => {
    await each.start();
    const bytes = "counted";
    await put(`/cas/${sha256(bytes)}`, bytes);
    await get(`/cas/${sha256(bytes)}`);
    await get(`/cas/${sha256("absent")}`);
    await get(`/x/ac/${"0".repeat(64)}`);
    await get("/v8/artifacts/00000000000000bb");
    await get(`/rbuild/v1/cas/blake3/${digestBytes("absent")}`);
    const text = (await request("/metrics")).body;
    const lines = (name: string) => text.split("\n").filter((line) => line.startsWith(name));
    expect(lines("rbuild_cache_hits_total")).toEqual([
      'rbuild_cache_hits_total{protocol="rbuild",kind="cas"} 0',
      'rbuild_cache_hits_total{protocol="rbuild",kind="ac"} 0',
      'rbuild_cache_hits_total{protocol="turbo",kind="artifact"} 0',
      'rbuild_cache_hits_total{protocol="nx",kind="artifact"} 0',
      'rbuild_cache_hits_total{protocol="bazel",kind="cas"} 1',
      'rbuild_cache_hits_total{protocol="bazel",kind="ac"} 0',
    ]);
    expect(lines("rbuild_cache_misses_total")).toEqual([
      'rbuild_cache_misses_total{protocol="rbuild",kind="cas"} 1',
      'rbuild_cache_misses_total{protocol="rbuild",kind="ac"} 0',
      'rbuild_cache_misses_total{protocol="turbo",kind="artifact"} 1',
      'rbuild_cache_misses_total{protocol="nx",kind="artifact"} 0',
      'rbuild_cache_misses_total{protocol="bazel",kind="cas"} 1',
      'rbuild_cache_misses_total{protocol="bazel",kind="ac"} 1',
    ]);
    expect(lines("rbuild_cache_requests_total")).toEqual([
      'rbuild_cache_requests_total{protocol="bazel",method="GET",route="bazel-ac",code="404"} 1',
      'rbuild_cache_requests_total{protocol="bazel",method="GET",route="bazel-cas",code="200"} 1',
      'rbuild_cache_requests_total{protocol="bazel",method="GET",route="bazel-cas",code="404"} 1',
      'rbuild_cache_requests_total{protocol="bazel",method="PUT",route="bazel-cas",code="200"} 1',
      'rbuild_cache_requests_total{protocol="rbuild",method="GET",route="cas",code="404"} 1',
      'rbuild_cache_requests_total{protocol="turbo",method="GET",route="turbo",code="404"} 1',
    ]);
  });

  test("25.3: an unreadable index is rebuilt from the files of every key space", async () => {
    await each.start();
    const blob = "rbuild's blob";
    expect(await put(`/rbuild/v1/cas/blake3/${digestBytes(blob)}`, blob)).toBe(200);
    expect(await put(`/rbuild/v1/ac/${"1".repeat(64)}`, JSON.stringify({ blobs: [digestBytes(blob)] }))).toBe(200);
    expect(await put(`/ac/${"1".repeat(64)}`, "bazel's value")).toBe(200);
    expect(await put(`/i/blake3/ac/${"1".repeat(64)}`, "bazel's BLAKE3 value")).toBe(200);
    expect((await request("/v8/artifacts/00000000000000cc", { method: "PUT", body: "turbo's artifact" })).status).toBe(202);
    const total = each.server!.store.totalBytes;
    await each.stop();
    for (const suffix of ["-wal", "-shm"]) rmSync(join(each.dir, `index.sqlite${suffix}`), { force: true });
    writeFileSync(join(each.dir, "index.sqlite"), "not an index ".repeat(50));

    await each.start();
    expect(each.server!.store.totalBytes).toBe(total);
    expect(await request(`/rbuild/v1/ac/${"1".repeat(64)}`)).toEqual({ status: 200, body: JSON.stringify({ blobs: [digestBytes(blob)] }) });
    expect(await request(`/ac/${"1".repeat(64)}`)).toEqual({ status: 200, body: "bazel's value" });
    expect(await request(`/i/blake3/ac/${"1".repeat(64)}`)).toEqual({ status: 200, body: "bazel's BLAKE3 value" });
    expect(await request("/v8/artifacts/00000000000000cc")).toEqual({ status: 200, body: "turbo's artifact" });
  });

  test("25.3: a store of the layout before key spaces keeps its blobs and drops its old entries", async () => {
    const blob = "kept across the upgrade";
    const digest = digestBytes(blob);
    mkdirSync(join(each.dir, "cas", "blake3", digest.slice(0, 2)), { recursive: true });
    writeFileSync(join(each.dir, "cas", "blake3", digest.slice(0, 2), digest), blob);
    const key = "e".repeat(64);
    mkdirSync(join(each.dir, "ac", "ee"), { recursive: true });
    writeFileSync(join(each.dir, "ac", "ee", key), JSON.stringify({ blobs: [digest] }));
    await each.start();
    expect(await request(`/rbuild/v1/cas/blake3/${digest}`)).toEqual({ status: 200, body: blob });
    expect(await get(`/rbuild/v1/ac/${key}`)).toBe(404);
    expect(storedFiles()).toEqual([`cas/blake3/${digest.slice(0, 2)}/${digest}`]);
    expect(each.server!.store.totalBytes).toBe(blob.length);
  });
});
