import { mkdtempSync, realpathSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { digestBytes } from "@rbuild/hash";
import { indexKeeperRunning, startIndexKeeper, stopIndexKeeper } from "./index-keeper.js";
import { manifestDigest } from "./layer.js";
import { openIndex } from "./open-index.js";
import { Store } from "./store.js";

let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-keeper-")));
});
afterEach(() => {
  stopIndexKeeper();
  rmSync(dir, { recursive: true, force: true });
});

const indexPath = (): string => join(dir, "index.sqlite");

/** Saves `count` actions with inline layers of a few hundred bytes each, and closes the store. */
function fill(count: number, prefix: string): void {
  const store = Store.open({ dir });
  for (let i = 0; i < count; i++) {
    const bytes = Buffer.from(`${prefix} ${i} `.repeat(40));
    const digest = digestBytes(bytes);
    store.save(
      { key: `${prefix}${i}`, task: `t${i}`, layer: digest, manifest: [], outputsDigest: manifestDigest([]), log: [], logBlob: null, exitCode: 0, durationMs: 1 },
      [store.blobOf(digest, bytes)],
    );
  }
  store.close();
}

/** Waits until the index file itself (not its WAL) has grown past `bytes`: only a checkpoint writes it. */
async function mainFileReaches(bytes: number, withinMs = 5000): Promise<boolean> {
  for (let waited = 0; waited < withinMs; waited += 20) {
    if (statSync(indexPath()).size > bytes) return true;
    await sleep(20);
  }
  return false;
}

describe("index keeper", () => {
  test("without one, a store's commits stay in the WAL while another connection is open", async () => {
    fill(1, "warm");
    const reader = new Database(indexPath(), { readonly: true });
    reader.prepare("SELECT count(*) FROM actions").get();
    const before = statSync(indexPath()).size;
    fill(300, "k");
    expect(await mainFileReaches(before + 64 * 1024, 500)).toBe(false);
    reader.close();
  });

  test("checkpoints what stores commit, off their thread, and their connections leave checkpoints to it", async () => {
    const autoCheckpoint = (name: string): unknown => {
      const db = openIndex(join(dir, name), () => {});
      const pages = db.pragma("wal_autocheckpoint", { simple: true });
      db.close();
      return pages;
    };
    expect(indexKeeperRunning()).toBe(false);
    expect(autoCheckpoint("plain.sqlite")).toBe(1000);
    startIndexKeeper();
    expect(indexKeeperRunning()).toBe(true);
    expect(autoCheckpoint("kept.sqlite")).toBe(0);

    fill(1, "warm");
    const reader = new Database(indexPath(), { readonly: true });
    reader.prepare("SELECT count(*) FROM actions").get();
    const before = statSync(indexPath()).size;
    fill(300, "k");
    expect(await mainFileReaches(before + 64 * 1024)).toBe(true);
    expect(reader.prepare("SELECT count(*) FROM actions").pluck().get()).toBe(301);
    reader.close();
  });

  test("follows an index that was deleted and created again", async () => {
    startIndexKeeper();
    fill(1, "first");
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${indexPath()}${suffix}`, { force: true });
    fill(1, "warm");
    const reader = new Database(indexPath(), { readonly: true });
    reader.prepare("SELECT count(*) FROM actions").get();
    const before = statSync(indexPath()).size;
    fill(300, "k");
    expect(await mainFileReaches(before + 64 * 1024)).toBe(true);
    expect(reader.prepare("SELECT count(*) FROM actions WHERE key LIKE 'first%'").pluck().get()).toBe(0);
    reader.close();
  });
});
