/** How `run_images.path` names an image (image-path.ts; issue 27.4 leftovers, item 3). */
import { expect, test } from "vitest";
import { imagePathIn, imagePathShown, recordedImagePath } from "./image-path.js";

test("27.4: an image inside the workspace is recorded relative to its root; one outside it (or the root itself) by its absolute path", () => {
  expect(["/w/images/busybox", "/w/a/b.tar", "/w/..images/x", "/other/images/busybox", "/w", "/", "/wx/images"].map((path) => recordedImagePath("/w", path))).toEqual([
    "images/busybox",
    "a/b.tar",
    "..images/x",
    "/other/images/busybox",
    "/w",
    "/",
    "/wx/images",
  ]);
});

test("27.4: a recorded path, relative (now) or absolute (older rows), is read as the absolute path in the workspace, and shown as the Buildfile names it", () => {
  expect(["images/busybox", "/w/images/busybox", "/other/images/busybox"].map((recorded) => imagePathIn("/moved", recorded))).toEqual([
    "/moved/images/busybox",
    "/w/images/busybox",
    "/other/images/busybox",
  ]);
  expect(["images/busybox", "/w/images/busybox", "/other/images/busybox"].map((recorded) => imagePathShown("/w", recorded))).toEqual([
    "images/busybox",
    "images/busybox",
    "/other/images/busybox",
  ]);
});
