/**
 * The Bazel HTTP cache protocol on the real server over loopback, with the
 * requests Bazel and ccache make (../../shared/reference/remote-cache-protocols.md §1, §7).
 */
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { serverPerTest } from "./test-support/server-per-test.js";

const each = serverPerTest("rbuild-bazel-");

const sha256 = (bytes: string | Buffer): string => createHash("sha256").update(bytes).digest("hex");

interface Answer {
  readonly status: number;
  readonly length: string | null;
  readonly body: string;
}

async function request(path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(`${each.server!.url}${path}`, init);
  return { status: response.status, length: response.headers.get("content-length"), body: await response.text() };
}

/** Every file below a directory of the store, as relative paths, sorted. */
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

const BLOB = "bazel output bytes\n";

describe("the Bazel HTTP cache protocol", () => {
  test("25.1: PUT answers 200, GET and HEAD return the blob with its length, a miss is 404", async () => {
    await each.start();
    const digest = sha256(BLOB);
    expect(await request(`/cas/${digest}`)).toEqual({ status: 404, length: "10", body: "not found\n" });
    expect(await request(`/cas/${digest}`, { method: "PUT", body: BLOB })).toEqual({ status: 200, length: "7", body: "stored\n" });
    expect(await request(`/cas/${digest}`)).toEqual({ status: 200, length: String(BLOB.length), body: BLOB });
    expect(await request(`/cas/${digest}`, { method: "HEAD" })).toEqual({ status: 200, length: String(BLOB.length), body: "" });
    // Bazel PUTs every output without asking first: a second PUT of the same blob is 200 too.
    expect((await request(`/cas/${digest}`, { method: "PUT", body: BLOB })).status).toBe(200);
    expect((await request(`/ac/${"1".repeat(64)}`)).status).toBe(404);
    expect(await request(`/cas/${digest}`, { method: "DELETE" })).toEqual({ status: 405, length: "21", body: "use GET, HEAD or PUT\n" });
  });

  test("25.1: a CAS upload whose SHA-256 is not its name answers 400 and stores nothing", async () => {
    await each.start();
    const wrong = sha256("something else");
    expect(await request(`/cas/${wrong}`, { method: "PUT", body: BLOB })).toEqual({
      status: 400,
      length: "72",
      body: "the body's SHA-256 digest is not the one in the URL; nothing was stored\n",
    });
    expect((await request(`/cas/${wrong}`)).status).toBe(404);
    expect(filesBelow(join(each.dir, "cas"))).toEqual([]);
    expect(filesBelow(join(each.dir, "tmp"))).toEqual([]);
    expect(each.server!.store.totalBytes).toBe(0);
  });

  test("25.1: AC values are stored as sent, opaque bytes under any 64-hex key, and replaced by a new PUT", async () => {
    await each.start();
    // ccache's key: its 40-hex key padded with its own first 24 hex; its value: not an ActionResult.
    const key = "3b1f0c9d2e8a7f6b5c4d3e2f1a0b9c8d7e6f5a4b" + "3b1f0c9d2e8a7f6b5c4d3e2f";
    const value = Buffer.from([0xcc, 0xac, 0x00, 0x01, 0xff, 0x7b, 0x22, 0x62, 0x6c, 0x6f, 0x62, 0x73]);
    expect((await request(`/ac/${key}`, { method: "PUT", body: value })).status).toBe(200);
    const got = await fetch(`${each.server!.url}/ac/${key}`);
    expect([got.status, got.headers.get("content-length"), Buffer.from(await got.arrayBuffer())]).toEqual([200, String(value.length), value]);
    expect(await request(`/ac/${key}`, { method: "HEAD" })).toEqual({ status: 200, length: String(value.length), body: "" });
    expect((await request(`/ac/${key}`, { method: "PUT", body: "second value" })).status).toBe(200);
    expect(await request(`/ac/${key}`)).toEqual({ status: 200, length: "12", body: "second value" });
  });

  test("25.1: any instance prefix reaches the same blobs and values", async () => {
    await each.start();
    const digest = sha256(BLOB);
    const key = "c".repeat(64);
    expect((await request(`/some/prefix/cas/${digest}`, { method: "PUT", body: BLOB })).status).toBe(200);
    expect((await request(`/a/b/c/ac/${key}`, { method: "PUT", body: "value" })).status).toBe(200);
    for (const prefix of ["", "/some/prefix", "/other", "/a/b/c"]) {
      expect([prefix, await request(`${prefix}/cas/${digest}`)]).toEqual([prefix, { status: 200, length: String(BLOB.length), body: BLOB }]);
      expect([prefix, await request(`${prefix}/ac/${key}`)]).toEqual([prefix, { status: 200, length: "5", body: "value" }]);
    }
    // Not a 64-hex name: not Bazel's route.
    expect((await request(`/cas/${digest.toUpperCase()}`)).status).toBe(404);
    expect((await request(`/cas/${digest.slice(1)}`)).status).toBe(404);
  });

  test("25.1: Bearer and Basic auth (the token as the password, both base64 alphabets); no token 401, a read token writing 403", async () => {
    // This token's Basic credentials differ between the alphabets: standard has '/' and '+', URL-safe '_' and '-'.
    const token = "w>?~>~";
    const standard = Buffer.from(`bazel:${token}`).toString("base64");
    const urlSafe = Buffer.from(`bazel:${token}`).toString("base64url");
    expect([standard, urlSafe]).toEqual(["YmF6ZWw6dz4/fj5+", "YmF6ZWw6dz4_fj5-"]);
    await each.start({ tokens: new Map([[token, "write"], ["reader", "read"]]) });
    const digest = sha256(BLOB);
    const put = (authorization?: string) =>
      request(`/cache/cas/${digest}`, { method: "PUT", body: BLOB, headers: authorization === undefined ? {} : { authorization } });

    expect((await put()).status).toBe(401);
    expect((await put("Bearer nope")).status).toBe(401);
    expect((await request(`/cache/cas/${digest}`)).status).toBe(401);
    expect(await put("Bearer reader")).toEqual({ status: 403, length: "25", body: "this token may only read\n" });
    expect(await put(`Basic ${Buffer.from("x:reader").toString("base64")}`)).toEqual({ status: 403, length: "25", body: "this token may only read\n" });
    expect(filesBelow(join(each.dir, "cas"))).toEqual([]);

    expect((await put(`Basic ${standard}`)).status).toBe(200);
    expect((await put(`Basic ${urlSafe}`)).status).toBe(200);
    expect((await put(`Bearer ${token}`)).status).toBe(200);
    expect((await request(`/cache/cas/${digest}`, { headers: { authorization: "Bearer reader" } })).body).toBe(BLOB);
    expect((await request(`/cache/cas/${digest}`, { headers: { authorization: `Basic ${urlSafe}` } })).body).toBe(BLOB);
  });
});
