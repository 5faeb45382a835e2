/** The images container tasks' keys were computed with (schema.ts, `run_images`), for `rbuild export --oci` (issue 27.4). */
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, expect, test } from "vitest";
import { runImage } from "./build-history.js";
import { collectGarbage } from "./gc.js";
import { manifestDigest } from "./layer.js";
import { Store, type ActionEntry, type RunRow } from "./store.js";

let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-run-images-")));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const action = (key: string): ActionEntry => ({ key, task: "t", layer: null, manifest: [], outputsDigest: manifestDigest([]), log: [], logBlob: null, exitCode: 0, durationMs: 1 });
const row = (key: string, image?: RunRow["image"]): RunRow => ({
  task: "t", key, status: "ran", cache: null, pure: true, durationMs: 1, exitCode: 0, reasons: [], error: null, outputsDigest: manifestDigest([]), layer: null, ...(image === undefined ? {} : { image }),
});
const IMAGE = { kind: "rootfs", path: "/w/images/root", digest: `sha256:${"a".repeat(64)}` } as const;

test("27.4: a run's image is recorded by its key; a run without one (answered by the freshness record) leaves it; gc drops it with the key's action", () => {
  const store = Store.open({ dir });
  store.save(action("k1"), []);
  store.finishBuild(store.beginBuild(["t"]), true, [row("k1", IMAGE), row("k2", { ...IMAGE, digest: `sha256:${"b".repeat(64)}` })]);
  store.finishBuild(store.beginBuild(["t"]), true, [row("k1")]);
  expect([runImage(store, "k1"), runImage(store, "k2"), runImage(store, "k3")]).toEqual([IMAGE, { ...IMAGE, digest: `sha256:${"b".repeat(64)}` }, undefined]);
  // k2 has no action (it failed, or gc removed it): nothing to export, nothing to keep.
  collectGarbage(store, {});
  expect([runImage(store, "k1"), runImage(store, "k2")]).toEqual([IMAGE, undefined]);
  store.close();
});

test("27.4: an index of version 10 is migrated in place: its actions stay, and it gains run_images", () => {
  const store = Store.open({ dir });
  store.save(action("k"), []);
  store.close();
  const old = new Database(join(dir, "index.sqlite"));
  old.exec("DROP TABLE run_images;");
  old.pragma("user_version = 10");
  old.close();
  const infos: string[] = [];
  const again = Store.open({ dir, onInfo: (_code, message) => infos.push(message) });
  expect(infos).toEqual([]);
  expect(again.lookup("k")).toEqual(action("k"));
  expect(runImage(again, "k")).toBeUndefined();
  again.finishBuild(again.beginBuild(["t"]), true, [row("k", IMAGE)]);
  expect(runImage(again, "k")).toEqual(IMAGE);
  again.close();
});

test("27.4: gc removes the unpacked images no stored result was built in, once unused for an hour; crash leftovers too", () => {
  const hour = 60 * 60 * 1000;
  const store = Store.open({ dir });
  store.save(action("k1"), []);
  const kept = "a".repeat(64);
  store.finishBuild(store.beginBuild(["t"]), true, [row("k1", { ...IMAGE, digest: `sha256:${kept}` })]);
  const images = join(dir, "images");
  for (const name of [kept, "b".repeat(64), "c".repeat(64), ".unpack-x", "notes"]) mkdirSync(join(images, name, "rootfs"), { recursive: true });
  const now = Date.now();
  // b and the leftover were last used two hours ago; c a minute ago (a build may be running in it).
  for (const name of [kept, "b".repeat(64), ".unpack-x", "notes"]) utimesSync(join(images, name), new Date(now - 2 * hour), new Date(now - 2 * hour));
  expect(collectGarbage(store, { now })).toMatchObject({ imagesRemoved: 1 });
  expect(readdirSync(images).sort()).toEqual([kept, "c".repeat(64), "notes"]);
  store.close();
});
