import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, realpathSync, rmSync, statSync, utimesSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { digestBytes, type Digest } from "@rbuild/hash";
import { collectGarbage } from "./gc.js";
import { manifestDigest } from "./layer.js";
import { HISTORY_BUILDS, RUN_HISTORY_BUILDS, SCHEMA_VERSION } from "./schema.js";
import { noteAnsweredBuild } from "./answered-builds.js";
import { RecentUses, Store, type ActionEntry } from "./store.js";

let dir: string;
const infos: string[] = [];
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-store-")));
  infos.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** What the migration from 7 adds, dropped: an index of this version made one of version 7 (see build-history.test.ts). */
const DOWN_TO_7 = `DROP TABLE run_images; ALTER TABLE actions DROP COLUMN stack; ALTER TABLE runs DROP COLUMN attempt; DROP INDEX runs_errors;
ALTER TABLE runs DROP COLUMN tail; ALTER TABLE runs DROP COLUMN signature; ALTER TABLE runs DROP COLUMN log;
ALTER TABLE builds DROP COLUMN tasks; ALTER TABLE builds DROP COLUMN interrupted; ALTER TABLE builds DROP COLUMN host; ALTER TABLE builds DROP COLUMN git_commit;`;

const open = (now?: () => number) => Store.open({ dir, onInfo: (code, message) => infos.push(`${code}: ${message}`), ...(now ? { now } : {}) });

/** Stores a blob of `bytes` and an action that references it. */
function saveAction(store: Store, key: string, bytes: string): ActionEntry {
  const digest = digestBytes(bytes);
  const temp = store.cas.tempPath();
  writeFileSync(temp, bytes);
  store.cas.commit(temp, digest);
  const entry: ActionEntry = { key, task: key, layer: digest, manifest: [], outputsDigest: manifestDigest([]), log: [["o", "hi"]], logBlob: null, exitCode: 0, durationMs: 5 };
  store.save(entry, [{ digest, size: bytes.length }]);
  return entry;
}

describe("Store", () => {
  test("an action saved is found again after reopening, with its log", () => {
    const store = open();
    const entry = saveAction(store, "k1", "layer bytes");
    store.close();
    const again = open();
    expect(again.lookup("k1")).toEqual(entry);
    expect(again.readLog(entry)).toEqual([["o", "hi"]]);
    expect(again.lookup("k2")).toBeUndefined();
    again.close();
  });

  test("builds answered from a stamp are folded into the history by the next Store, as cached runs", () => {
    const store = open(() => 1000);
    saveAction(store, "k1", "layer bytes");
    const build = store.beginBuild(["t"]);
    const run = { key: "k1", cache: null, pure: true, durationMs: 7, exitCode: 0, reasons: ["no-record"], error: null, outputsDigest: "d", layer: null };
    store.finishBuild(build, true, [{ task: "t", status: "ran", ...run }, { ...run, task: "group", key: null, status: "ran", pure: false }]);
    expect(store.stats()).toMatchObject({ builds: 1, cached: 0, ran: 1 });
    store.close();

    const hours = (n: number) => n * 3600_000;
    noteAnsweredBuild(dir, { from: build, started: hours(2), finished: hours(2) + 10, targets: ["t"] });
    writeFileSync(join(dir, "up-to-date", "builds.jsonl"), "{torn line\n", { flag: "a" });
    noteAnsweredBuild(dir, { from: build, started: hours(2) + 5000, finished: hours(2) + 5010, targets: ["t"] });
    const again = open();
    expect(again.stats()).toMatchObject({ builds: 3, cached: 2, ran: 1 });
    expect(existsSync(join(dir, "up-to-date", "builds.jsonl"))).toBe(false);
    again.close();
    const db = new Database(join(dir, "index.sqlite"), { readonly: true });
    try {
      expect(db.prepare("SELECT task, status, cache, duration_ms FROM runs WHERE build > ? ORDER BY build, task").raw().all(build)).toEqual([
        ["group", "cached", null, 0],
        ["t", "cached", "local", 0],
        ["group", "cached", null, 0],
        ["t", "cached", "local", 0],
      ]);
      // Each counts as a use of the action, for gc's LRU, kept to the hour: the second, 5 s after the first, is not written.
      expect(db.prepare("SELECT last_used FROM actions WHERE key = 'k1'").pluck().get()).toBe(hours(2) + 10);
    } finally {
      db.close();
    }
  });

  test("an action's use is written at most once an hour by a process, across the Stores given its RecentUses", () => {
    const hours = (n: number) => n * 3600_000;
    let now = hours(10);
    // What a resident engine keeps across its builds' stores.
    const recentUses = new RecentUses();
    const openWith = (clock: () => number): Store => Store.open({ dir, now: clock, recentUses });
    const lastUsed = (set?: number): unknown => {
      const db = new Database(join(dir, "index.sqlite"));
      try {
        if (set !== undefined) db.prepare("UPDATE actions SET last_used = ?").run(set);
        return db.prepare("SELECT last_used FROM actions WHERE key = 'k1'").pluck().get();
      } finally {
        db.close();
      }
    };
    const use = (): void => {
      const store = openWith(() => now);
      store.touch("k1");
      store.flush();
      store.close();
    };
    const first = openWith(() => now);
    saveAction(first, "k1", "layer bytes");
    first.flush();
    first.close();
    expect(lastUsed()).toBe(hours(10));
    // Set back behind this process's back: a use within the hour of the one it wrote is not even looked up.
    lastUsed(hours(1));
    now = hours(10) + 60_000;
    use();
    expect(lastUsed()).toBe(hours(1));
    // An hour after the use it wrote, the next one is written.
    now = hours(11) + 1;
    use();
    expect(lastUsed()).toBe(hours(11) + 1);
    // A Store without that memory (a build of its own) writes the use it makes.
    lastUsed(hours(1));
    now = hours(11) + 60_000;
    const alone = open(() => now);
    alone.touch("k1");
    alone.flush();
    alone.close();
    expect(lastUsed()).toBe(hours(11) + 60_000);
  });

  test("the history keeps the last HISTORY_BUILDS builds, and the build a stamp repeats", () => {
    const store = open();
    const run = { task: "a", key: "k", status: "ran", cache: null, pure: true, durationMs: 1, exitCode: 0, reasons: [], error: null, outputsDigest: null, layer: null };
    const stamped = store.beginBuild(["a"]);
    store.finishBuild(stamped, true, [run]);
    for (let i = 0; i < HISTORY_BUILDS + 5; i++) store.finishBuild(store.beginBuild(["b"]), true, []);
    // The newest full build of ["a"] is older than the last HISTORY_BUILDS, yet a stamp may name it.
    expect(store.stats().builds).toBe(HISTORY_BUILDS + 1);
    store.close();
    for (let i = 0; i < HISTORY_BUILDS + 5; i++) noteAnsweredBuild(dir, { from: stamped, started: i, finished: i, targets: ["a"] });
    // The last HISTORY_BUILDS are copies of the stamped build, the last RUN_HISTORY_BUILDS of them with its
    // one run cached; the stamped build and the newest full build of ["b"] stay, being the newest full
    // builds of their targets.
    const again = open();
    expect(again.stats()).toMatchObject({ builds: HISTORY_BUILDS + 2, cached: RUN_HISTORY_BUILDS, ran: 1 });
    again.close();
  });

  test("23.4: a run's evidence goes with the builds the history drops", () => {
    const store = open();
    const run = (task: string) => ({ task, key: "k", status: "ran", cache: null, pure: true, durationMs: 1, exitCode: 0, reasons: [], error: null, outputsDigest: null, layer: null, evidence: { restoreMs: null, changedInputs: [], outputs: null } });
    store.finishBuild(store.beginBuild(["a"]), true, [run("gone")]);
    store.finishBuild(store.beginBuild(["a"]), true, [run("kept")]);
    for (let i = 0; i < HISTORY_BUILDS - 1; i++) store.finishBuild(store.beginBuild(["b"]), true, []);
    store.close();
    const db = new Database(join(dir, "index.sqlite"), { readonly: true });
    expect(db.prepare("SELECT build, task FROM run_evidence").raw().all()).toEqual([[2, "kept"]]);
    db.close();
  });

  test("a stat cache entry and a task state survive a flush and reopen", () => {
    const store = open();
    store.set("src/a.ts", { size: 1, mtimeMs: 2.5, ctimeMs: 3.5, ino: 4, digest: "d".repeat(64) as Digest });
    store.setTaskState("build", { key: "k", record: "[]", ok: true, ranReasons: ["no-record"] });
    store.close();
    const again = open();
    expect(again.get("src/a.ts")).toEqual({ size: 1, mtimeMs: 2.5, ctimeMs: 3.5, ino: 4, digest: "d".repeat(64) });
    expect(again.taskState("build")).toEqual({ key: "k", record: "[]", ok: true, ranReasons: ["no-record"] });
    again.close();
  });

  test("stat cache entries read one by one, then all at once, agree, and see what is set and flushed meanwhile", () => {
    const store = open();
    const state = (i: number) => ({ size: i, mtimeMs: i + 0.5, ctimeMs: i + 0.25, ino: 1000 + i, digest: digestBytes(String(i)) });
    for (let i = 0; i < 1500; i++) store.set(`f${i}`, state(i));
    store.close();
    const again = open();
    again.set("f7", state(7000));
    // The first lookups are queries of one row, the rest come from the whole table read once.
    for (let i = 0; i < 1500; i++) expect(again.get(`f${i}`)).toEqual(i === 7 ? state(7000) : state(i));
    expect(again.get("missing")).toBeUndefined();
    again.set("f1499", state(42));
    again.flush();
    expect(again.get("f1499")).toEqual(state(42));
    again.close();
  });

  test("task states read one by one, then all at once, agree, and see what is flushed meanwhile", () => {
    const store = open();
    const taskState = (i: number) => ({ key: `k${i}`, record: `[${i}]`, ok: i % 2 === 0, ranReasons: [`input-changed: f${i}`] });
    for (let i = 0; i < 800; i++) {
      store.setTaskState(`t${i}`, taskState(i));
    }
    store.close();
    const again = open();
    for (let i = 0; i < 800; i++) {
      if (i === 100) {
        // Written while lookups are still one row at a time, read back after the whole table is.
        again.setTaskState("t799", taskState(-1));
        again.flush();
      }
      expect(again.taskState(`t${i}`)).toEqual(i === 799 ? taskState(-1) : taskState(i));
    }
    expect(again.taskState("none")).toBeUndefined();
    again.close();
  });

  test("tables empty when first read (a fresh workspace) still show what is flushed into them later", () => {
    const store = open();
    const state = { size: 1, mtimeMs: 1.5, ctimeMs: 1.25, ino: 7, digest: digestBytes("x") };
    expect([store.get("f"), store.taskState("t"), store.lookup("k1")]).toEqual([undefined, undefined, undefined]);
    const entry = saveAction(store, "k1", "layer bytes");
    expect(store.lookup("k1")).toEqual(entry); // Before its batch is written, and after.
    store.flush();
    expect(store.lookup("k1")).toEqual(entry);
    store.dropAction("k1");
    expect(store.lookup("k1")).toBeUndefined();
    store.set("f", state);
    store.setTaskState("t", { key: "k", record: "[]", ok: true, ranReasons: [] });
    store.flush();
    expect([store.get("f"), store.taskState("t")?.key]).toEqual([state, "k"]);
    store.close();
  });

  test("heals: an index that is not a database is reset with a warning", () => {
    writeFileSync(join(dir, "index.sqlite"), "this is not sqlite, just some text that fills the header area of the file.....");
    const store = open();
    expect(store.lookup("anything")).toBeUndefined();
    saveAction(store, "k1", "x");
    expect(store.lookup("k1")).toBeDefined();
    store.close();
    expect(infos).toEqual([expect.stringMatching(/^store-reset: the cache index .*index\.sqlite could not be used \(file is not a database\); starting it over, so tasks will run again$/)]);
  });

  test("heals: an index of another schema version is reset", () => {
    const old = new Database(join(dir, "index.sqlite"));
    old.exec("CREATE TABLE actions (key TEXT)");
    old.pragma(`user_version = ${SCHEMA_VERSION + 41}`);
    old.close();
    const store = open();
    expect(infos).toEqual([expect.stringContaining(`it has schema version ${SCHEMA_VERSION + 41}, this rbuild uses ${SCHEMA_VERSION}`)]);
    saveAction(store, "k1", "x");
    expect(store.lookup("k1")?.key).toBe("k1");
    store.close();
  });

  test("an index of version 4 is migrated, not reset: its history index by task goes, its entries stay", () => {
    const store = open();
    const entry = saveAction(store, "k1", "x");
    store.close();
    const old = new Database(join(dir, "index.sqlite"));
    old.exec(`${DOWN_TO_7} CREATE INDEX runs_by_task ON runs(task, build); DROP TABLE run_evidence`);
    old.pragma("user_version = 4");
    old.close();
    const again = open();
    expect(infos).toEqual([]);
    expect(again.lookup("k1")).toEqual(entry);
    again.close();
    const check = new Database(join(dir, "index.sqlite"), { readonly: true });
    expect(check.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    expect(check.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs' ORDER BY name").pluck().all()).toEqual(["runs_by_build", "runs_errors"]);
    check.close();
  });

  test("21.2: an index of version 5 is migrated, not reset: its snapshots table goes (the freshness record has them), its entries stay", () => {
    const store = open();
    const entry = saveAction(store, "k1", "x");
    store.setTaskState("t", { key: "k1", record: "[]", ok: true, ranReasons: [] });
    store.close();
    const old = new Database(join(dir, "index.sqlite"));
    old.exec(`${DOWN_TO_7} CREATE TABLE snapshots (task TEXT PRIMARY KEY, data TEXT NOT NULL) WITHOUT ROWID; INSERT INTO snapshots VALUES ('t', '{}'); DROP TABLE run_evidence;`);
    old.pragma("user_version = 5");
    old.close();
    const again = open();
    expect(infos).toEqual([]);
    expect([again.lookup("k1"), again.taskState("t")?.key]).toEqual([entry, "k1"]);
    again.close();
    const check = new Database(join(dir, "index.sqlite"), { readonly: true });
    expect(check.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    expect(check.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'snapshots'").pluck().all()).toEqual([]);
    check.close();
  });

  test("23.4: an index of version 6 is migrated, not reset: it gains run_evidence, its entries and history stay", () => {
    const store = open();
    const entry = saveAction(store, "k1", "x");
    store.finishBuild(store.beginBuild(["a"]), true, []);
    store.close();
    const old = new Database(join(dir, "index.sqlite"));
    old.exec(`${DOWN_TO_7} DROP TABLE run_evidence`);
    old.pragma("user_version = 6");
    old.close();
    const again = open();
    expect(infos).toEqual([]);
    expect(again.lookup("k1")).toEqual(entry);
    expect(again.stats().builds).toBe(1);
    again.close();
    const check = new Database(join(dir, "index.sqlite"), { readonly: true });
    expect(check.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    expect(check.prepare("SELECT count(*) FROM run_evidence").pluck().get()).toBe(0);
    check.close();
  });

  test("a corrupt blob is detected by its digest and removed", () => {
    const store = open();
    const entry = saveAction(store, "k1", "good bytes");
    writeFileSync(store.cas.path(entry.layer!), "bad bytes!");
    expect(store.cas.verify(entry.layer!)).toBe("corrupt");
    expect(existsSync(store.cas.path(entry.layer!))).toBe(false);
    expect(store.cas.verify(entry.layer!)).toBe("missing");
    store.close();
  });

  test("gc drops the least recently used actions first, then their blobs", () => {
    let now = 1_000;
    const store = open(() => now);
    saveAction(store, "old", "a".repeat(100));
    now = 2_000;
    saveAction(store, "new", "b".repeat(100));
    now = 3_000;
    store.lookup("old"); // Used again: now the most recent.
    const result = collectGarbage(store, { maxBytes: 150, now });
    expect(result).toMatchObject({ actionsRemoved: 1, blobsRemoved: 1, bytesFreed: 100, bytesLeft: 100 });
    expect([store.lookup("old")?.key, store.lookup("new")]).toEqual(["old", undefined]);
    store.close();
  });

  test("an inline blob is read before and after its batch is written, checked, and goes with its action in gc", () => {
    let now = 1_000;
    const store = open(() => now);
    const bytes = Buffer.from("a small layer");
    const digest = digestBytes(bytes);
    const entry: ActionEntry = { key: "k", task: "t", layer: digest, manifest: [], outputsDigest: manifestDigest([]), log: [], logBlob: null, exitCode: 0, durationMs: 1 };
    store.save(entry, [{ digest, size: bytes.length, bytes }]);
    expect(store.readLayer(digest)).toEqual({ check: "ok", layer: bytes }); // Still pending.
    store.flush();
    expect(store.readLayer(digest)).toEqual({ check: "ok", layer: bytes });
    expect([store.blobSize(digest), store.blobSource(digest)]).toEqual([bytes.length, bytes]);
    expect(existsSync(store.cas.path(digest))).toBe(false); // Never a file.
    store.close();

    const db = new Database(join(dir, "index.sqlite"));
    db.prepare("UPDATE inline_blobs SET data = ? WHERE digest = ?").run(Buffer.from("rotten"), digest);
    db.close();
    const again = open(() => now);
    expect(again.readBlob(digest)).toEqual({ check: "corrupt" });
    expect(again.readLayer(digest)).toEqual({ check: "missing" }); // Removed when found corrupt.

    // Stored again, then collected: the bytes go with the blob's row.
    again.saveBlobs([{ digest, size: bytes.length, bytes }]);
    expect(again.readBlob(digest)).toEqual({ check: "ok", bytes });
    now = 40 * 24 * 60 * 60 * 1000;
    expect(collectGarbage(again, { maxAgeDays: 7, now }).blobsRemoved).toBe(1);
    expect(again.blobSize(digest)).toBeUndefined();
    again.close();
  });

  test("gc by age, and of orphan blob files no row names", () => {
    let now = 1_000;
    const store = open(() => now);
    saveAction(store, "ancient", "a");
    // A blob file no row names, as a crash between rename and insert leaves behind.
    const orphan = store.cas.path(digestBytes("orphan"));
    mkdirSync(dirname(orphan), { recursive: true });
    writeFileSync(orphan, "orphan");
    utimesSync(orphan, new Date(2000, 0, 1), new Date(2000, 0, 1));
    now = 10 * 24 * 60 * 60 * 1000;
    const result = collectGarbage(store, { maxAgeDays: 7, now: Date.now() + now });
    expect(result.actionsRemoved).toBe(1);
    expect(existsSync(orphan)).toBe(false);
    expect(readdirSync(store.cas.dir).filter((d) => d !== "tmp").flatMap((d) => readdirSync(join(store.cas.dir, d)))).toEqual([]);
    store.close();
  });

  test("20.9: gc that finds the index damaged starts it over with one warning, and goes on with the new one", () => {
    const store = open();
    saveAction(store, "k1", "a".repeat(100));
    store.close();
    // Damage a page that opening does not read: the root page of the blobs table, which only gc reads.
    const db = new Database(join(dir, "index.sqlite"));
    const { rootpage } = db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'blobs'").get() as { rootpage: number };
    const pageSize = db.pragma("page_size", { simple: true }) as number;
    db.close();
    const fd = openSync(join(dir, "index.sqlite"), "r+");
    writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (rootpage - 1) * pageSize);
    closeSync(fd);

    const damaged = open();
    expect(infos).toEqual([]);
    const result = collectGarbage(damaged, { maxBytes: 1_000_000 });
    // The blob file is an orphan of the new index now, too young to go.
    expect(result).toEqual({ actionsRemoved: 0, blobsRemoved: 0, bytesFreed: 0, bytesLeft: 0, imagesRemoved: 0 });
    expect(damaged.lookup("k1")).toBeUndefined();
    damaged.close();
    expect(infos).toEqual([expect.stringMatching(/^store-reset: the cache index .*index\.sqlite could not be used \(database disk image is malformed\); starting it over, so tasks will run again$/)]);
  });
});
