/** The history's attempts and undos (issue 26): schema 9, one row per attempt, undo rows after a task's runs. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { listBuilds, taskRuns } from "./build-history.js";
import { readHistory } from "./history.js";
import { SCHEMA_VERSION } from "./schema.js";
import { Store, type RunRow } from "./store.js";

let dir: string;
let infos: string[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "rbuild-attempts-"));
  infos = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const open = (): Store => Store.open({ dir, onInfo: (code, message) => infos.push(`${code}: ${message}`) });
const run = (task: string, status: string, more: Partial<RunRow> = {}): RunRow => ({
  task,
  key: null,
  status,
  cache: null,
  pure: false,
  durationMs: 1,
  exitCode: status === "failed" ? 1 : 0,
  reasons: ["impure"],
  error: null,
  outputsDigest: null,
  layer: null,
  ...more,
});

describe("attempts and undos in the history", () => {
  test("26.1: each attempt is a run, newest first, with its attempt number; the build counts the task once", () => {
    const store = open();
    const build = store.beginBuild(["deploy"]);
    store.finishBuild(build, true, [run("deploy", "failed", { attempt: 1, tail: ["x"] }), run("deploy", "failed", { attempt: 2, tail: ["x"] }), run("deploy", "ran", { attempt: 3 }), run("once", "ran")]);
    expect(taskRuns(store, "deploy", 10).map((r) => [r.run, r.status, r.attempt])).toEqual([
      [0, "ran", 3],
      [1, "failed", 2],
      [2, "failed", 1],
    ]);
    expect(taskRuns(store, "once", 10).map((r) => r.attempt)).toEqual([null]);
    expect(listBuilds(store, 1)[0]!.tasks).toEqual({ ran: 2, cached: 0, failed: 0, skipped: 0, interrupted: 0 });
    store.close();
  });

  test("26.2: an undo is a run of its task after the run it undid, counted in no build's tasks and read by no analysis", () => {
    const store = open();
    store.finishBuild(store.beginBuild(["all"]), false, [run("deploy", "ran"), run("check", "failed"), run("deploy", "undo-failed", { reasons: ["undo"], exitCode: 1 })]);
    expect(taskRuns(store, "deploy", 10).map((r) => [r.status, r.reasons])).toEqual([
      ["undo-failed", ["undo"]],
      ["ran", ["impure"]],
    ]);
    expect(listBuilds(store, 1)[0]!.tasks).toEqual({ ran: 1, cached: 0, failed: 1, skipped: 0, interrupted: 0 });
    store.close();
    expect(readHistory(dir).tasks.get("deploy")!.runs.map((r) => r.status)).toEqual(["ran"]);
  });

  test("26.1: an index of version 8 is migrated in place: its runs stay, with no attempt", () => {
    const store = open();
    store.finishBuild(store.beginBuild(["a"]), true, [run("a", "ran")]);
    store.close();
    const old = new Database(join(dir, "index.sqlite"));
    old.exec("DROP TABLE run_images; ALTER TABLE actions DROP COLUMN stack; ALTER TABLE runs DROP COLUMN attempt;");
    old.pragma("user_version = 8");
    old.close();
    const again = open();
    expect(infos).toEqual([]);
    again.finishBuild(again.beginBuild(["a"]), true, [run("a", "ran", { attempt: 2 })]);
    expect(taskRuns(again, "a", 5).map((r) => [r.build, r.attempt])).toEqual([
      [2, 2],
      [1, null],
    ]);
    again.close();
    const check = new Database(join(dir, "index.sqlite"), { readonly: true });
    expect(check.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    check.close();
  });
});
