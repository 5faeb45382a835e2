import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { digestBytes } from "@rbuild/hash";
import { errorGroups, listBuilds, runDetail, taskRuns } from "./build-history.js";
import { noteAnsweredBuild } from "./answered-builds.js";
import { errorSignature } from "./error-signature.js";
import { HISTORY_BUILDS, RUN_HISTORY_BUILDS, SCHEMA_VERSION } from "./schema.js";
import { Store, type RunRow } from "./store.js";

let dir: string;
const infos: string[] = [];
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-history-")));
  infos.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

let clock = 0;
const open = (): Store => Store.open({ dir, onInfo: (code, message) => infos.push(`${code}: ${message}`), now: () => (clock += 1000) });

const run = (task: string, status: RunRow["status"], more: Partial<RunRow> = {}): RunRow => ({
  task,
  key: status === "failed" ? null : `key-${task}`,
  status,
  cache: status === "cached" ? "local" : null,
  pure: true,
  durationMs: 5,
  exitCode: status === "failed" ? 1 : 0,
  reasons: status === "ran" ? ["no-record"] : [],
  error: status === "failed" ? `Task "${task}" failed: its command exited with code 1.` : null,
  outputsDigest: status === "failed" ? null : "d",
  layer: null,
  ...(status === "failed" ? { tail: [] } : {}),
  ...more,
});

const PLACE = { commit: "a".repeat(40), host: "builder" };

/** The statements that turn an index of this version back into one of version 7 (what 7 -> 8 adds, dropped). */
const DOWN_TO_7 = `DROP TABLE run_images; ALTER TABLE actions DROP COLUMN stack; ALTER TABLE runs DROP COLUMN attempt; DROP INDEX runs_errors;
ALTER TABLE runs DROP COLUMN tail; ALTER TABLE runs DROP COLUMN signature; ALTER TABLE runs DROP COLUMN log;
ALTER TABLE builds DROP COLUMN tasks; ALTER TABLE builds DROP COLUMN interrupted; ALTER TABLE builds DROP COLUMN host; ALTER TABLE builds DROP COLUMN git_commit;`;

describe("the history and the error database", () => {
  test("24.5: builds newest first with outcome, commit and host; a build answered from the freshness record repeats its origin", () => {
    const store = open();
    const first = store.beginBuild(["all"], PLACE);
    store.finishBuild(first, true, [run("a", "ran"), run("all", "ran", { key: null, pure: false })]);
    store.finishBuild(store.beginBuild(["a"], PLACE), false, [run("a", "failed"), run("b", "skipped", { key: null })]);
    store.finishBuild(store.beginBuild(["a"], { commit: null, host: "builder" }), false, [], true);
    store.close();
    noteAnsweredBuild(dir, { from: first, started: 1, finished: 3, targets: ["all"], ...PLACE });
    const again = open();
    again.beginBuild(["c"]);
    expect(listBuilds(again, 10).map(({ started: _s, finished, ...rest }) => ({ ...rest, finished: finished === null ? null : "set" }))).toEqual([
      { id: 5, finished: null, outcome: "unfinished", targets: ["c"], commit: null, host: null, repeated: null, tasks: { ran: 0, cached: 0, failed: 0, skipped: 0, interrupted: 0 } },
      { id: 4, finished: "set", outcome: "ok", targets: ["all"], commit: PLACE.commit, host: "builder", repeated: 1, tasks: { ran: 0, cached: 2, failed: 0, skipped: 0, interrupted: 0 } },
      { id: 3, finished: "set", outcome: "interrupted", targets: ["a"], commit: null, host: "builder", repeated: null, tasks: { ran: 0, cached: 0, failed: 0, skipped: 0, interrupted: 0 } },
      { id: 2, finished: "set", outcome: "failed", targets: ["a"], commit: PLACE.commit, host: "builder", repeated: null, tasks: { ran: 0, cached: 0, failed: 1, skipped: 1, interrupted: 0 } },
      { id: 1, finished: "set", outcome: "ok", targets: ["all"], commit: PLACE.commit, host: "builder", repeated: null, tasks: { ran: 2, cached: 0, failed: 0, skipped: 0, interrupted: 0 } },
    ]);
    expect(listBuilds(again, 2).map((b) => b.id)).toEqual([5, 4]);
    expect(taskRuns(again, "a", 10).map((r) => [r.run, r.build, r.status, r.cache, r.reasons])).toEqual([
      [0, 4, "cached", "local", []],
      [1, 2, "failed", null, []],
      [2, 1, "ran", null, ["no-record"]],
    ]);
    expect(taskRuns(again, "a", 1, 2).map((r) => [r.run, r.build])).toEqual([[2, 1]]);
    again.close();
  });

  test("24.5: failures that differ only in numbers, digests, temp paths and times are one group with a count; the newest one's tail is kept", () => {
    const store = open();
    const failing = (tail: string[], error = 'Task "t" failed: its command exited with code 3.'): RunRow => run("t", "failed", { tail, error, exitCode: 3 });
    store.finishBuild(store.beginBuild(["t"]), false, [failing([`at ${tmpdir()}/rbuild-e2e-Ab12/src/x.ts:3:14 2026-12-01T10:00:00Z`, "digest 0123456789abcdef0123"])]);
    store.finishBuild(store.beginBuild(["t"]), false, [failing(["at /tmp/tmp.Zq81/src/x.ts:40:2 2026-12-02 11:30:05.123", "digest fedcba9876543210fedc"])]);
    store.finishBuild(store.beginBuild(["t"]), false, [failing(["at /tmp/tmp.Zq81/src/other.ts:40:2", "a different failure"])]);
    store.finishBuild(store.beginBuild(["u"]), false, [run("u", "failed", { tail: ["boom"] }), run("t", "failed")]);
    // An interrupt is no failure of the task: the executor gives it no tail.
    const { tail: _none, ...interrupted } = run("t", "failed", { error: 'Task "t" was interrupted.' });
    store.finishBuild(store.beginBuild(["t"]), false, [interrupted], true);
    const groups = errorGroups(store).map(({ firstSeen, lastSeen, ...rest }) => ({ ...rest, seen: [firstSeen, lastSeen] }));
    expect(groups).toEqual([
      { task: "t", signature: 'Task "t" failed: its command exited with code <n>.', count: 1, seen: [groups[0]!.seen[0], groups[0]!.seen[0]], lastBuild: 4, exitCode: 1, error: 'Task "t" failed: its command exited with code 1.', tail: [] },
      { task: "u", signature: 'Task "u" failed: its command exited with code <n>.\nboom', count: 1, seen: [groups[1]!.seen[0], groups[1]!.seen[0]], lastBuild: 4, exitCode: 1, error: 'Task "u" failed: its command exited with code 1.', tail: ["boom"] },
      {
        task: "t",
        signature: 'Task "t" failed: its command exited with code <n>.\nat <tmp>/src/other.ts:<n>:<n>\na different failure',
        count: 1,
        seen: [groups[2]!.seen[0], groups[2]!.seen[0]],
        lastBuild: 3,
        exitCode: 3,
        error: 'Task "t" failed: its command exited with code 3.',
        tail: ["at /tmp/tmp.Zq81/src/other.ts:40:2", "a different failure"],
      },
      {
        task: "t",
        signature: 'Task "t" failed: its command exited with code <n>.\nat <tmp>/src/x.ts:<n>:<n> <time>\ndigest <hex>',
        count: 2,
        seen: [groups[3]!.seen[0], groups[3]!.seen[1]],
        lastBuild: 2,
        exitCode: 3,
        error: 'Task "t" failed: its command exited with code 3.',
        tail: ["at /tmp/tmp.Zq81/src/x.ts:40:2 2026-12-02 11:30:05.123", "digest fedcba9876543210fedc"],
      },
    ]);
    expect(groups[3]!.seen[0]!).toBeLessThan(groups[3]!.seen[1]!);
    expect(errorGroups(store, { task: "u" }).map((g) => g.count)).toEqual([1]);
    const since = errorGroups(store).find((g) => g.lastBuild === 3)!.lastSeen;
    expect(errorGroups(store, { since }).map((g) => g.lastBuild)).toEqual([4, 4, 3]);
    store.close();
  });

  test("24.5: the signature keeps what tells failures apart: words, error codes, file names", () => {
    expect(errorSignature("\x1b[31mfailed\x1b[0m after 45ms (pid 1234)", ["src/a.ts(3,1): error TS2304: Cannot find name 'x'.", "", "  "])).toBe(
      "failed after <n>ms (pid <n>)\nsrc/a.ts(<n>,<n>): error TS2304: Cannot find name 'x'.",
    );
    expect(errorSignature(null, ["at 0x7ffd1234 in deadbeef00 at 10:11:12"])).toBe("at <hex> in <hex> at <time>");
    expect(errorSignature(null, ["x".repeat(3000)]).length).toBe(2000);
  });

  test("24.5: a run's detail: its outputs from its action, its log from its blob or its action, a run whose action was dropped says so", () => {
    const store = open();
    const log = JSON.stringify([["e", "it broke"]]);
    const digest = digestBytes(log);
    store.saveBlobs([store.blobOf(digest, Buffer.from(log))]);
    const manifest = [{ path: "out/a.txt", type: "file" as const, mode: 0o644, size: 1, digest: digestBytes("a") }];
    store.save({ key: "key-t", task: "t", layer: null, manifest, outputsDigest: "d" as never, log: [["o", "made it"]], logBlob: null, exitCode: 0, durationMs: 5 }, []);
    store.finishBuild(store.beginBuild(["t"]), true, [run("t", "ran", { log: digestBytes("small") })]);
    store.finishBuild(store.beginBuild(["t"]), false, [run("t", "failed", { log: digest, tail: ["it broke"] })]);
    const failed = runDetail(store, "t")!;
    expect([failed.status, failed.outputs, failed.logLines]).toEqual(["failed", { state: "none" }, [["e", "it broke"]]]);
    const ran = runDetail(store, "t", 1)!;
    expect([ran.status, ran.outputs, ran.logLines]).toEqual(["ran", { state: "stored", manifest, layer: null, stack: [] }, [["o", "made it"]]]);
    expect(runDetail(store, "t", 2)).toBeUndefined();
    store.dropAction("key-t");
    expect([runDetail(store, "t", 1)!.outputs, runDetail(store, "t", 1)!.logLines]).toEqual([{ state: "gone" }, "gone"]);
    store.close();
  });

  test("24.5: an index of version 7 is migrated in place: its builds, runs and actions stay, and new builds record the new columns", () => {
    const store = open();
    store.save({ key: "key-a", task: "a", layer: null, manifest: [], outputsDigest: "d" as never, log: [], logBlob: null, exitCode: 0, durationMs: 5 }, []);
    store.finishBuild(store.beginBuild(["a"]), true, [run("a", "ran")]);
    store.close();
    const old = new Database(join(dir, "index.sqlite"));
    old.exec(DOWN_TO_7);
    old.pragma("user_version = 7");
    old.close();

    const again = open();
    expect(infos).toEqual([]);
    expect(again.lookup("key-a")?.task).toBe("a");
    again.finishBuild(again.beginBuild(["a"], PLACE), false, [run("a", "failed", { tail: ["x"] })]);
    expect(listBuilds(again, 5).map((b) => [b.id, b.outcome, b.commit])).toEqual([
      [2, "failed", PLACE.commit],
      [1, "ok", null],
    ]);
    expect(taskRuns(again, "a", 5).map((r) => [r.build, r.status])).toEqual([
      [2, "failed"],
      [1, "ran"],
    ]);
    expect(errorGroups(again).map((g) => [g.task, g.count, g.tail])).toEqual([["a", 1, ["x"]]]);
    again.close();
    const check = new Database(join(dir, "index.sqlite"), { readonly: true });
    expect(check.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    check.close();
  });
  test("24.5: past RUN_HISTORY_BUILDS builds only failed runs are kept, and every kept build still says what its tasks did", () => {
    const store = open();
    // Targets of its own would keep it whole: the newest full build of its targets (a freshness record may name it).
    const first = store.beginBuild(["a"], PLACE);
    store.finishBuild(first, false, [run("a", "ran"), run("b", "failed"), run("c", "skipped", { key: null })]);
    for (let i = 0; i < RUN_HISTORY_BUILDS + 3; i++) store.finishBuild(store.beginBuild(["a"], PLACE), true, [run("a", "cached"), run("x", "ran")]);
    const kept = listBuilds(store, HISTORY_BUILDS);
    expect(kept).toHaveLength(RUN_HISTORY_BUILDS + 4);
    expect(kept.at(-1)).toMatchObject({ id: first, outcome: "failed", tasks: { ran: 1, cached: 0, failed: 1, skipped: 1, interrupted: 0 } });
    expect(kept[0]).toMatchObject({ tasks: { ran: 1, cached: 1, failed: 0, skipped: 0, interrupted: 0 } });
    // The old build's failure is still in the error database; its passing runs are gone.
    expect(errorGroups(store, {}).map((group) => [group.task, group.count])).toEqual([["b", 1]]);
    expect(taskRuns(store, "a", 1000).some((r) => r.build === first)).toBe(false);
    expect(taskRuns(store, "b", 10).map((r) => r.build)).toEqual([first]);
    expect(taskRuns(store, "x", 1000)).toHaveLength(RUN_HISTORY_BUILDS);
    store.close();
  });
});
