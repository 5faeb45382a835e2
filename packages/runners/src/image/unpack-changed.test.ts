/**
 * An image that changed between the key's computing and its unpacking (27.2): the store names an
 * image by the digest the key was computed with, so what it keeps under that name must be that image.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { identifyImage, type ImageSource } from "./image-source.js";
import { imageDirectory, unpackImage } from "./unpack.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "rbuild-unpack-changed-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function identified(path: string): ImageSource {
  const found = identifyImage(path);
  if (!found.ok) throw new Error(found.message);
  return found.image;
}

function unpackProblem(store: string, image: ImageSource): string {
  try {
    unpackImage(store, image);
    return "unpacked";
  } catch (error) {
    return (error as Error).message;
  }
}

test("27.2: a root filesystem directory changed after its digest was taken is refused at unpacking, and nothing is kept under the old digest", () => {
  const root = join(dir, "root");
  mkdirSync(join(root, "etc"), { recursive: true });
  writeFileSync(join(root, "etc", "marker"), "v1\n");
  const image = identified(root);
  writeFileSync(join(root, "etc", "marker"), "v2, written while the build ran\n");
  const store = join(dir, "store");
  expect(unpackProblem(store, image)).toBe(
    `the image ${root} changed while rbuild unpacked it (it is now ${identified(root).digest}; the task's key was computed with ${image.digest}). Nothing was kept: run the build again once the image is no longer being written.`,
  );
  expect(existsSync(imageDirectory(store, image.digest))).toBe(false);
  expect(readdirSync(join(store, "images"))).toEqual([]);
  // Unchanged, it unpacks.
  expect(unpackProblem(store, identified(root))).toBe("unpacked");
});

test("27.2: a docker-save tarball rewritten after its digest was taken is refused at unpacking", () => {
  const root = join(dir, "layer");
  mkdirSync(root);
  writeFileSync(join(root, "marker"), "v1\n");
  const archive = join(dir, "image.tar");
  const pack = (marker: string): void => {
    writeFileSync(join(root, "marker"), marker);
    execFileSync("tar", ["-cf", join(dir, "layer.tar"), "-C", root, "marker"]);
    writeFileSync(join(dir, "config.json"), JSON.stringify({ config: { Env: ["A=1"] }, rootfs: { type: "layers", diff_ids: [] } }));
    writeFileSync(join(dir, "manifest.json"), JSON.stringify([{ Config: "config.json", RepoTags: ["t:1"], Layers: ["layer.tar"] }]));
    execFileSync("tar", ["-cf", archive, "-C", dir, "manifest.json", "config.json", "layer.tar"]);
  };
  pack("v1\n");
  const image = identified(archive);
  pack("v2, saved again while the build ran\n");
  const store = join(dir, "store");
  expect(unpackProblem(store, image)).toBe(
    `the image ${archive} changed while rbuild unpacked it (it is now ${identified(archive).digest}; the task's key was computed with ${image.digest}). Nothing was kept: run the build again once the image is no longer being written.`,
  );
  expect(existsSync(imageDirectory(store, image.digest))).toBe(false);
});
