/** An unpacked image's directory left half there (a gc or unpack that died midway): never used as the image (review4). */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { identifyImage } from "./image-source.js";
import { imageDirectory, unpackImage } from "./unpack.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "rbuild-unpack-damage-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test("R4.1: a store image directory without its env.json (a removal that died midway) is unpacked again, not used half there", () => {
  const source = join(dir, "root");
  mkdirSync(join(source, "etc"), { recursive: true });
  writeFileSync(join(source, "etc", "marker"), "v1\n");
  writeFileSync(join(source, "etc", "other"), "o\n");
  const found = identifyImage(source);
  if (!found.ok) throw new Error(found.message);
  const store = join(dir, "store");
  // What a gc that was killed while removing it leaves: env.json gone, part of the root filesystem gone.
  mkdirSync(join(imageDirectory(store, found.image.digest), "rootfs", "etc"), { recursive: true });
  writeFileSync(join(imageDirectory(store, found.image.digest), "rootfs", "etc", "other"), "o\n");
  const unpacked = unpackImage(store, found.image);
  expect([readdirSync(join(unpacked.rootfs, "etc")).sort(), readFileSync(join(unpacked.rootfs, "etc", "marker"), "utf8")]).toEqual([["marker", "other"], "v1\n"]);
  expect(readdirSync(join(store, "images"))).toEqual([found.image.digest.replace(/^sha256:/, "")]);
});
