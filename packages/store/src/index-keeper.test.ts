import { mkdtempSync, realpathSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { digestBytes } from "@rbuild/hash";
import { IndexKeeper } from "./index-keeper.js";
import { manifestDigest } from "./layer.js";
import { openIndex } from "./open-index.js";
import { HISTORY_BUILDS } from "./schema.js";
import { Store } from "./store.js";

let dir: string;
/** This test's keeper: the stores it opens are given it, as the daemon's engine gives its builds' stores. */
let keeper: IndexKeeper;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-keeper-")));
  keeper = new IndexKeeper();
});
afterEach(() => {
  keeper.stop();
  rmSync(dir, { recursive: true, force: true });
});

const indexPath = (): string => join(dir, "index.sqlite");

/** Saves `count` actions with inline layers of a few hundred bytes each, and closes the store. */
function fill(count: number, prefix: string): void {
  const store = Store.open({ dir, keeper });
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

/**
 * Commits 300 actions while a reader holds the index open (so no store's close
 * checkpoints it), and waits up to `withinMs` for the index file itself, not
 * its WAL, to grow by them: only a checkpoint writes it. Returns whether it
 * did, and the reader's count of actions whose key matches `like`.
 */
async function commitWhileHeldOpen(withinMs: number, like = "%"): Promise<{ checkpointed: boolean; actions: unknown }> {
  fill(1, "warm");
  const reader = new Database(indexPath(), { readonly: true });
  try {
    reader.prepare("SELECT count(*) FROM actions").get();
    const before = statSync(indexPath()).size;
    fill(300, "k");
    let checkpointed = false;
    for (let waited = 0; !checkpointed && waited < withinMs; waited += 20) {
      checkpointed = statSync(indexPath()).size > before + 64 * 1024;
      if (!checkpointed) await sleep(20);
    }
    return { checkpointed, actions: reader.prepare("SELECT count(*) FROM actions WHERE key LIKE ?").pluck().get(like) };
  } finally {
    reader.close();
  }
}

describe("index keeper", () => {
  test("without one, a store's commits stay in the WAL while another connection is open", async () => {
    expect(await commitWhileHeldOpen(500)).toEqual({ checkpointed: false, actions: 301 });
  });

  test("checkpoints what stores commit, off their thread, and their connections leave checkpoints to it", async () => {
    const autoCheckpoint = (name: string): unknown => {
      const db = openIndex(join(dir, name), () => {}, keeper.running);
      const pages = db.pragma("wal_autocheckpoint", { simple: true });
      db.close();
      return pages;
    };
    expect(keeper.running).toBe(false);
    expect(autoCheckpoint("plain.sqlite")).toBe(1000);
    keeper.start();
    expect(keeper.running).toBe(true);
    expect(autoCheckpoint("kept.sqlite")).toBe(0);

    expect(await commitWhileHeldOpen(5000)).toEqual({ checkpointed: true, actions: 301 });
  });

  test("prunes the history that the stores of its process leave to it", async () => {
    keeper.start();
    const store = Store.open({ dir, keeper });
    const run = { task: "a", key: "k", status: "ran", cache: null, pure: true, durationMs: 1, exitCode: 0, reasons: [], error: null, outputsDigest: null, layer: null };
    for (let i = 0; i < HISTORY_BUILDS + 5; i++) store.finishBuild(store.beginBuild(["b"]), true, [run]);
    store.close();
    const count = (): unknown => {
      const db = new Database(indexPath(), { readonly: true });
      try {
        return db.prepare("SELECT count(*) FROM builds").pluck().get();
      } finally {
        db.close();
      }
    };
    let builds = count();
    for (let waited = 0; builds !== HISTORY_BUILDS && waited < 5000; waited += 20) {
      await sleep(20);
      builds = count();
    }
    expect(builds).toBe(HISTORY_BUILDS);
  });

  test("follows an index that was deleted and created again", async () => {
    keeper.start();
    fill(1, "first");
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${indexPath()}${suffix}`, { force: true });
    expect(await commitWhileHeldOpen(5000, "first%")).toEqual({ checkpointed: true, actions: 0 });
  });
});
