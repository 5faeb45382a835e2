import { chmodSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { digestBytes, type Digest } from "@rbuild/hash";
import { layerDifference, scanOutputs } from "./diff-layer.js";
import { extractStack } from "./extract-stack.js";
import { collectGarbage } from "./gc.js";
import { manifestDigest, writeLayer, type ManifestEntry } from "./layer.js";
import { Store, type ActionEntry } from "./store.js";

let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-diff-layer-")));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const file = (path: string, text: string, mode = 0o644): ManifestEntry => ({ path, type: "file", mode, size: Buffer.byteLength(text), digest: digestBytes(text) });
const folder = (path: string, mode = 0o755): ManifestEntry => ({ path, type: "dir", mode });

/** The names in a layer's tar, in order. */
function names(bytes: Buffer): string[] {
  const found: string[] = [];
  for (let at = 0; at + 512 <= bytes.length; ) {
    const header = bytes.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    found.push(header.toString("latin1", 0, 100).replace(/\0.*$/s, ""));
    at += 512 + Math.ceil(parseInt(header.toString("latin1", 124, 136).replace(/\0.*$/s, "").trim() || "0", 8) / 512) * 512;
  }
  return found;
}

function tree(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

function layerOf(root: string, paths: string[], whiteouts: string[] = []): Buffer {
  const written = writeLayer(root, paths, () => join(dir, "spill"), 1 << 20, undefined, whiteouts);
  if (!("bytes" in written)) throw new Error("expected an inline layer");
  return written.bytes;
}

describe("transform layers", () => {
  test("27.3: the difference holds what was added or changed, and one whiteout per deleted subtree", () => {
    const before = [folder("t"), file("t/a", "a"), file("t/b", "b"), folder("t/gone"), file("t/gone/x", "x"), folder("t/f"), file("t/f/y", "y"), file("t/m", "m")];
    const after = [folder("t"), file("t/a", "A"), file("t/b", "b"), file("t/f", "now a file"), file("t/m", "m", 0o600), file("t/new", "n")];
    // t/gone goes whole (one whiteout for it and what it held); t/f became a file: its entry replaces the directory, no whiteout below it.
    expect(layerDifference(before, after)).toEqual({ changed: ["t/a", "t/f", "t/m", "t/new"], deleted: ["t/gone"] });
    expect(layerDifference(after, after)).toEqual({ changed: [], deleted: [] });
  });

  test("27.3: whiteouts are empty files named .wh.<name>, in path order with the layer's entries", () => {
    const root = join(dir, "ws");
    tree(root, { "t/a": "A", "t/sub/new": "n" });
    expect(names(layerOf(root, ["t/a", "t/sub/new"], ["t/sub/old", "t/zz", "top"]))).toEqual(["t/a", "t/sub/.wh.old", "t/sub/new", "t/.wh.zz", ".wh.top"].sort());
  });

  test("27.3: a stack restores each entry from the topmost layer that has it; what a layer above deleted is not written", async () => {
    const root = join(dir, "ws");
    tree(root, { "t/a": "a", "t/b": "b", "t/del": "d" });
    symlinkSync("a", join(root, "t/link"));
    const base = layerOf(root, ["t", "t/a", "t/b", "t/del", "t/link"]);
    writeFileSync(join(root, "t/a"), "A");
    chmodSync(join(root, "t/b"), 0o600);
    const top = layerOf(root, ["t/a", "t/b"], ["t/del"]);
    rmSync(join(root, "t/del"));
    const { entries } = scanOutputs(root, ["t", "t/a", "t/b", "t/link"]);

    const into = join(dir, "restored");
    mkdirSync(into);
    expect(await extractStack([base, top], into, entries)).toEqual({ ok: true });
    expect(scanOutputs(into, ["t", "t/a", "t/b", "t/link"]).entries).toEqual(entries);
    expect(readFileSync(join(into, "t/a"), "utf8")).toBe("A");
    expect(() => readFileSync(join(into, "t/del"))).toThrow(/ENOENT/);
    // An entry no layer holds is refused, not invented.
    expect(await extractStack([base, top], join(dir, "other"), [file("t/missing", "?")])).toEqual({ ok: false, problem: "t/missing is in no layer of the stack" });
  });

  test("27.3: an action's stack is kept in the index, and gc keeps every layer a stack names until the stack goes", () => {
    let now = 1_000;
    const store = Store.open({ dir: join(dir, "store"), now: () => now });
    const blob = (text: string): Digest => {
      const digest = digestBytes(text);
      const temp = store.cas.tempPath();
      writeFileSync(temp, text);
      store.cas.commit(temp, digest);
      return digest;
    };
    const [below, own] = [blob("b".repeat(100)), blob("o".repeat(100))];
    const action = (key: string, layer: Digest, stack?: Digest[]): ActionEntry => ({ key, task: key, layer, ...(stack ? { stack } : {}), manifest: [], outputsDigest: manifestDigest([]), log: [], logBlob: null, exitCode: 0, durationMs: 1 });
    store.save(action("base", below), [{ digest: below, size: 100 }]);
    store.flush(); // Written (and last used) at 1,000.
    now = 2_000;
    store.save(action("step", own, [below]), [{ digest: own, size: 100 }]);
    store.close();

    const day = 24 * 60 * 60 * 1000;
    const again = Store.open({ dir: join(dir, "store"), now: () => 1_500 + day });
    // The base's action is older than a day and goes; its layer stays: the step's stack names it.
    expect(collectGarbage(again, { maxAgeDays: 1, now: 1_500 + day })).toMatchObject({ actionsRemoved: 1, blobsRemoved: 0 });
    expect([again.cas.verify(below), again.lookup("base")]).toEqual(["ok", undefined]);
    expect(again.lookup("step")).toEqual(action("step", own, [below]));
    // Once the step goes too (to fit a size), so do both layers: nothing names the one below any more.
    expect(collectGarbage(again, { maxBytes: 150, now: 1_500 + day })).toMatchObject({ actionsRemoved: 1, blobsRemoved: 2, bytesLeft: 0 });
    again.close();
  });

  test("27.3: an index of version 9 is migrated in place: its actions stay, as full layers", () => {
    const store = Store.open({ dir });
    const entry: ActionEntry = { key: "k", task: "t", layer: null, manifest: [], outputsDigest: manifestDigest([]), log: [], logBlob: null, exitCode: 0, durationMs: 1 };
    store.save(entry, []);
    store.close();
    const old = new Database(join(dir, "index.sqlite"));
    old.exec("DROP TABLE run_images; ALTER TABLE actions DROP COLUMN stack;");
    old.pragma("user_version = 9");
    old.close();
    const infos: string[] = [];
    const again = Store.open({ dir, onInfo: (_code, message) => infos.push(message) });
    expect(infos).toEqual([]);
    expect(again.lookup("k")).toEqual(entry);
    again.close();
  });
});
