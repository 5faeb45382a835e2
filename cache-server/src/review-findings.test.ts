/**
 * Regression tests for defects found reviewing the day's merged work (review3):
 * each test is named after the issue item whose code it covers. The store is
 * used directly, with its clock given, so that the LRU's order is the test's.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, expect, test } from "vitest";
import { digestBytes } from "@rbuild/hash";
import { DiskStore } from "./disk-store.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "rbuild-review3-store-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test("25.3: an entry stored now keeps the old blobs it names from being the least recently used", async () => {
  let now = 1;
  const store = new DiskStore({ dir, maxSize: 350, now: () => now });
  try {
    const blob = async (fill: string): Promise<string> => {
      const bytes = Buffer.from(fill.repeat(100));
      const digest = digestBytes(bytes);
      expect(await store.putBlob("cas/blake3", digest, Readable.from([bytes]), 1000)).toBe("stored");
      return digest;
    };
    const reused = await blob("a"); // t 1: an output that every build since has produced again.
    now = 2;
    const stale = await blob("b"); // t 2: used by nothing since.
    now = 3;
    // A client asks which blobs are missing (the reused one is not, so it is not sent) and stores the entry.
    expect(store.missing("cas/blake3", [reused])).toEqual([]);
    const key = "e".repeat(64);
    const entry = Buffer.from(JSON.stringify({ blobs: [reused] }));
    expect(store.putAction("ac/rbuild", key, entry, [reused])).toBe("stored");
    now = 4;
    const fresh = await blob("c"); // Over --max-size: one blob goes, the least recently used.
    expect({ entry: store.getAction("ac/rbuild", key)?.toString(), blobs: [reused, stale, fresh].map((d) => store.has("cas/blake3", d)) }).toEqual({
      entry: entry.toString(),
      blobs: [true, false, true],
    });
  } finally {
    store.close();
  }
});

test("25.3: an entry file the index does not know (a crash between writing it and indexing it) is a miss, never served without its blobs", async () => {
  const blob = Buffer.from("x".repeat(100));
  const digest = digestBytes(blob);
  const key = "f".repeat(64);
  {
    const store = new DiskStore({ dir, maxSize: 10_000, now: () => 1 });
    expect(await store.putBlob("cas/blake3", digest, Readable.from([blob]), 1000)).toBe("stored");
    store.close();
  }
  // What putAction leaves when the process dies after the entry's rename, before its rows: the file alone.
  mkdirSync(join(dir, "ac", "rbuild", key.slice(0, 2)), { recursive: true });
  writeFileSync(join(dir, "ac", "rbuild", key.slice(0, 2), key), JSON.stringify({ blobs: [digest] }));
  let now = 1;
  const store = new DiskStore({ dir, maxSize: 150, now: () => now });
  try {
    now = 2;
    const other = Buffer.from("y".repeat(100));
    expect(await store.putBlob("cas/blake3", digestBytes(other), Readable.from([other]), 1000)).toBe("stored"); // Evicts the older blob.
    expect({ blob: store.has("cas/blake3", digest), entry: store.getAction("ac/rbuild", key) }).toEqual({ blob: false, entry: undefined });
  } finally {
    store.close();
  }
});
