import { mkdtempSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Digest } from "@rbuild/hash";
import { readHistory } from "./history.js";
import { EVIDENCE_OUTPUTS, EVIDENCE_RUNS, SCHEMA_VERSION } from "./schema.js";
import { noteAnsweredBuild } from "./answered-builds.js";
import { Store, type RunRow } from "./store.js";

let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-history-")));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const run = (task: string, status: RunRow["status"], durationMs: number, outputsDigest: string | null = "d"): RunRow => ({
  task,
  key: "k",
  status,
  cache: status === "cached" ? "local" : null,
  pure: true,
  durationMs,
  exitCode: 0,
  reasons: [],
  error: null,
  outputsDigest,
  layer: null,
});

/** A run with no evidence recorded (one found up to date, or from before the index had any). */
const none = { restoreMs: null, changedInputs: [], outputs: null };

describe("readHistory", () => {
  test("23.4: each task's recent runs newest first, bounded, read without writing to the index", () => {
    const store = Store.open({ dir });
    for (const [ms, status] of [[10, "ran"], [11, "cached"], [12, "ran"], [13, "failed"]] as const) {
      store.finishBuild(store.beginBuild(["a"]), true, [run("a", status, ms), run("b", "ran", ms * 10)]);
    }
    store.close();
    // SQLite itself may add the -wal and -shm files any reader of a WAL database shares; rbuild writes nothing.
    const files = () => readdirSync(dir).filter((name) => !/-(wal|shm)$/.test(name)).sort();
    const before = files();
    const stamp = statSync(join(dir, "stamp")).mtimeMs;

    const history = readHistory(dir, 3);
    expect(history.because).toBeUndefined();
    expect([...history.tasks.keys()].sort()).toEqual(["a", "b"]);
    expect(history.tasks.get("a")).toEqual({
      runs: [
        { build: 4, status: "failed", cache: null, durationMs: 13, key: "k", outputsDigest: "d", ...none },
        { build: 3, status: "ran", cache: null, durationMs: 12, key: "k", outputsDigest: "d", ...none },
        { build: 2, status: "cached", cache: "local", durationMs: 11, key: "k", outputsDigest: "d", ...none },
      ],
      actionDurationsMs: [],
    });
    expect(files()).toEqual(before);
    expect(statSync(join(dir, "stamp")).mtimeMs).toBe(stamp);
  });

  test("23.4: builds answered from a stamp and not folded in yet count as restored copies, newest first, as the Store folds them", () => {
    const store = Store.open({ dir });
    const build = store.beginBuild(["a"]);
    store.finishBuild(build, true, [run("a", "ran", 40), { ...run("all", "ran", 0), key: null }]);
    store.close();
    noteAnsweredBuild(dir, { from: build, started: 1, finished: 2, targets: ["a"] });
    noteAnsweredBuild(dir, { from: build, started: 3, finished: 4, targets: ["a"] });
    const pending = readHistory(dir);
    expect(pending.tasks.get("a")?.runs.map((r) => [r.build, r.status, r.cache, r.durationMs])).toEqual([
      [-1, "cached", "local", 0],
      [-1, "cached", "local", 0],
      [1, "ran", null, 40],
    ]);
    expect(pending.tasks.get("all")?.runs.map((r) => [r.status, r.cache])).toEqual([["cached", null], ["cached", null], ["ran", null]]);
    // Once a Store has folded them, the same runs under their numbers.
    Store.open({ dir }).close();
    const folded = readHistory(dir);
    expect(folded.tasks.get("a")?.runs.map((r) => [r.build, r.status, r.cache, r.durationMs])).toEqual([
      [3, "cached", "local", 0],
      [2, "cached", "local", 0],
      [1, "ran", null, 40],
    ]);
  });

  test("23.4: each run's evidence (restore time, changed inputs, output digests) is read back with it, and kept for the last EVIDENCE_RUNS runs of each task", () => {
    const store = Store.open({ dir });
    const file = (path: string, digest: string) => ({ path, type: "file" as const, mode: 0o644, size: 1, digest: digest as Digest });
    const many = Array.from({ length: EVIDENCE_OUTPUTS + 1 }, (_, i) => file(`out/${i}`, "x"));
    store.finishBuild(store.beginBuild(["a"]), true, [
      { ...run("a", "ran", 30), evidence: { restoreMs: null, changedInputs: ["src/b.ts", "src/a.ts"], outputs: [file("out/a.js", "d1"), { path: "out/l", type: "symlink", target: "a.js" }, { path: "out", type: "dir", mode: 0o755 }] } },
      { ...run("big", "ran", 5), evidence: { restoreMs: null, changedInputs: [], outputs: many } },
    ]);
    store.finishBuild(store.beginBuild(["a"]), true, [{ ...run("a", "cached", 50), evidence: { restoreMs: 50, changedInputs: ["src/a.ts"], outputs: [file("out/a.js", "d2")] } }, run("big", "cached", 1)]);
    store.close();
    expect(readHistory(dir).tasks.get("a")!.runs).toEqual([
      { build: 2, status: "cached", cache: "local", durationMs: 50, key: "k", outputsDigest: "d", restoreMs: 50, changedInputs: ["src/a.ts"], outputs: { "out/a.js": "d2" } },
      { build: 1, status: "ran", cache: null, durationMs: 30, key: "k", outputsDigest: "d", restoreMs: null, changedInputs: ["src/b.ts", "src/a.ts"], outputs: { "out/a.js": "d1", "out/l": "symlink:a.js", out: "dir" } },
    ]);
    // Past EVIDENCE_OUTPUTS outputs their digests are not kept; a run found up to date has no evidence.
    expect(readHistory(dir).tasks.get("big")!.runs.map((r) => r.outputs)).toEqual([null, null]);

    const again = Store.open({ dir });
    for (let i = 0; i < EVIDENCE_RUNS + 5; i++) {
      again.finishBuild(again.beginBuild(["a"]), true, [{ ...run("a", "ran", i), evidence: { restoreMs: null, changedInputs: [`src/${i}.ts`], outputs: null } }]);
    }
    again.close();
    const db = new Database(join(dir, "index.sqlite"), { readonly: true });
    const kept = db.prepare("SELECT task, count(*), min(build), max(build) FROM run_evidence GROUP BY task ORDER BY task").raw().all();
    db.close();
    expect(kept).toEqual([["a", EVIDENCE_RUNS, 2 + 5 + 1, 2 + EVIDENCE_RUNS + 5], ["big", 1, 1, 1]]);
  });

  test("23.4: no index is an empty history, and nothing is created", () => {
    expect(readHistory(join(dir, "none"))).toEqual({ tasks: new Map() });
    expect(readdirSync(dir)).toEqual([]);
  });

  test("23.4: an index of another version, or not a database, is an empty history that says why", () => {
    const db = new Database(join(dir, "index.sqlite"));
    db.pragma("user_version = 3");
    db.close();
    expect(readHistory(dir)).toEqual({ tasks: new Map(), because: `the cache index has schema version 3, this rbuild reads ${SCHEMA_VERSION}` });
    writeFileSync(join(dir, "index.sqlite"), "not a database at all, just text long enough to be a header......");
    const damaged = readHistory(dir);
    expect(damaged.tasks).toEqual(new Map());
    expect(damaged.because).toMatch(/^the cache index .*index\.sqlite could not be read \(.+\)$/);
  });
});
