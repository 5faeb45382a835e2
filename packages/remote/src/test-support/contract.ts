/**
 * The conformance suite of RemoteCache: every implementation must pass it
 * (the shared directory, the client against the real server), and the client
 * against a misbehaving server must fail in the allowed ways only.
 */
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { digestBytes } from "@rbuild/hash";
import { RemoteError, type RemoteCache } from "../remote-cache.js";

export interface Subject {
  readonly cache: RemoteCache;
  /** Deletes a stored blob behind the cache's back (eviction, disk trouble). */
  readonly loseBlob: (digest: string) => void;
  readonly stop: () => Promise<void>;
}

export function remoteCacheContract(name: string, make: (dir: string) => Promise<Subject>): void {
  describe(`RemoteCache contract: ${name}`, () => {
    let dir: string;
    let subject: Subject;
    beforeEach(async () => {
      dir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-contract-")));
      subject = await make(join(dir, "store"));
    });
    afterEach(async () => {
      await subject.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    const file = (text: string): string => {
      const path = join(dir, `f-${Math.random().toString(36).slice(2)}`);
      writeFileSync(path, text);
      return path;
    };

    test("a blob round-trips, verified; a missing one is 'missing'", async () => {
      const { cache } = subject;
      const digest = digestBytes("blob bytes");
      expect(await cache.getBlob(digest, join(dir, "out"), 10)).toBe("missing");
      await cache.putBlob(digest, file("blob bytes"));
      await cache.putBlob(digest, file("blob bytes")); // Idempotent.
      expect(await cache.getBlob(digest, join(dir, "out"), 10)).toBe("ok");
      expect(readFileSync(join(dir, "out"), "utf8")).toBe("blob bytes");
    });

    test("a blob uploads from its bytes as from a file; wrong bytes are refused", async () => {
      const { cache } = subject;
      const digest = digestBytes("bytes in memory");
      await cache.putBlob(digest, Buffer.from("bytes in memory"));
      expect(await cache.getBlob(digest, join(dir, "from-bytes"), 15)).toBe("ok");
      expect(readFileSync(join(dir, "from-bytes"), "utf8")).toBe("bytes in memory");
      await expect(cache.putBlob(digestBytes("other"), Buffer.from("not other"))).rejects.toBeInstanceOf(RemoteError);
    });

    test("20.12: a blob that is not the size its entry declares is corrupt, and not written", async () => {
      const { cache } = subject;
      const digest = digestBytes("twenty bytes of blob");
      await cache.putBlob(digest, file("twenty bytes of blob"));
      expect(await cache.getBlob(digest, join(dir, "short"), 5)).toBe("corrupt");
      expect(await cache.getBlob(digest, join(dir, "long"), 21)).toBe("corrupt");
      expect([existsSync(join(dir, "short")), existsSync(join(dir, "long"))]).toEqual([false, false]);
      expect(await cache.getBlob(digest, join(dir, "right"), 20)).toBe("ok");
    });

    test("missing() lists exactly the blobs not stored", async () => {
      const { cache } = subject;
      const have = digestBytes("have");
      await cache.putBlob(have, file("have"));
      const lacking = digestBytes("lacking");
      expect(await cache.missing([have, lacking])).toEqual([lacking]);
      expect(await cache.missing([])).toEqual([]);
    });

    test("a blob whose bytes do not match its name is refused and not stored", async () => {
      const { cache } = subject;
      const digest = digestBytes("real");
      await expect(cache.putBlob(digest, file("fake"))).rejects.toBeInstanceOf(RemoteError);
      expect(await cache.missing([digest])).toEqual([digest]);
    });

    test("an entry is stored only after its blobs, and is a miss once a blob is lost", async () => {
      const { cache } = subject;
      const key = "e".repeat(64);
      const blob = digestBytes("layer");
      const entry = Buffer.from(JSON.stringify({ blobs: [blob], note: "x" }));
      expect(await cache.getEntry(key)).toBeUndefined();
      await expect(cache.putEntry(key, entry)).rejects.toBeInstanceOf(RemoteError);
      await cache.putBlob(blob, file("layer"));
      await cache.putEntry(key, entry);
      expect((await cache.getEntry(key))?.toString()).toBe(entry.toString());
      subject.loseBlob(blob);
      expect(await cache.getEntry(key)).toBeUndefined();
    });

    test("getEntries answers many keys at once: hits with their small blobs inline, misses left out", async () => {
      const { cache } = subject;
      const small = digestBytes("small layer");
      const bigBytes = Buffer.alloc(200 * 1024, 7);
      const big = digestBytes(bigBytes);
      const bigPath = join(dir, "big-layer");
      writeFileSync(bigPath, bigBytes);
      await cache.putBlob(small, file("small layer"));
      await cache.putBlob(big, bigPath);
      const one = "1".repeat(64);
      const two = "2".repeat(64);
      const absent = "3".repeat(64);
      await cache.putEntry(one, Buffer.from(JSON.stringify({ blobs: [small] })));
      await cache.putEntry(two, Buffer.from(JSON.stringify({ blobs: [big, small] })));
      const found = await cache.getEntries([one, absent, two]);
      expect([...found.keys()].sort()).toEqual([one, two]);
      expect(JSON.parse(found.get(one)!.entry.toString())).toEqual({ blobs: [small] });
      expect(found.get(one)!.inline.get(small)?.toString()).toBe("small layer");
      // A large blob does not travel inline: the caller fetches it with getBlob.
      expect([...found.get(two)!.inline.keys()]).toEqual([small]);
      expect(await cache.getEntries([])).toEqual(new Map());
      subject.loseBlob(small);
      expect((await cache.getEntries([one, two])).size).toBe(0);
    });

    test("a large blob streams through (8 MiB)", async () => {
      const { cache } = subject;
      const big = Buffer.alloc(8 * 1024 * 1024, 3);
      const path = join(dir, "big");
      writeFileSync(path, big);
      const digest = digestBytes(big);
      await cache.putBlob(digest, path);
      expect(await cache.getBlob(digest, join(dir, "big-out"), big.length)).toBe("ok");
      expect(digestBytes(readFileSync(join(dir, "big-out")))).toBe(digest);
      expect(existsSync(join(dir, "big-out"))).toBe(true);
    });
  });
}
