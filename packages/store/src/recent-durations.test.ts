import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { readRecentDurations, RECENT_BUILDS } from "./recent-durations.js";
import { Store, type RunRow } from "./store.js";

let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-durations-")));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const run = (task: string, status: RunRow["status"], durationMs: number): RunRow => ({
  task,
  key: "k",
  status,
  cache: status === "cached" ? "local" : null,
  pure: true,
  durationMs,
  exitCode: 0,
  reasons: [],
  error: null,
  outputsDigest: "d",
  layer: null,
});

test("24.1: each task's newest run that ran (else its newest restore) gives its duration, from the newest builds only; none without an index", () => {
  expect(readRecentDurations(dir)).toEqual(new Map());
  const store = Store.open({ dir });
  store.finishBuild(store.beginBuild(["all"]), true, [run("old", "ran", 5)]);
  for (let i = 0; i < RECENT_BUILDS; i++) store.finishBuild(store.beginBuild(["all"]), true, [run("a", "ran", 100 + i)]);
  store.finishBuild(store.beginBuild(["all"]), true, [run("d", "cached", 9)]);
  store.finishBuild(store.beginBuild(["all"]), false, [run("a", "cached", 7), run("b", "failed", 300), run("c", "skipped", 0), run("d", "cached", 8)]);
  store.close();
  // "a" ran in the builds before its restore; "d" only ever came from the cache; "old" ran only before
  // the newest RECENT_BUILDS builds; "c" was only skipped.
  expect(readRecentDurations(dir)).toEqual(new Map([["a", 100 + RECENT_BUILDS - 1], ["b", 300], ["d", 8]]));
});

test("24.1: an index that cannot be read is no durations, not an error", () => {
  writeFileSync(join(dir, "index.sqlite"), "not a database");
  expect(readRecentDurations(dir)).toEqual(new Map());
});
