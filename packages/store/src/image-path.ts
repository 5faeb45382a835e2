/**
 * How `run_images.path` (schema.ts, version 11) names a container task's
 * image: inside the workspace, by its path relative to the workspace root
 * (`images/busybox`, as the Buildfile names it), so that a workspace moved or
 * copied elsewhere (`cp -a`, a CI cache restored at another path) finds its
 * image again at the same place in it; outside the workspace (reached some
 * other way than the Buildfile's relative path), by its absolute path. Rows
 * written before this rule hold absolute paths, and are read as they are.
 */
import { isAbsolute, relative, resolve } from "node:path";

/** The form `run_images.path` records the image at absolute `path` in, for the workspace at `root`. */
export function recordedImagePath(root: string, path: string): string {
  const inside = relative(root, path);
  return inside === "" || inside === ".." || inside.startsWith("../") || isAbsolute(inside) ? path : inside;
}

/** The absolute path of an image as `run_images.path` records it (either form), for the workspace at `root`. */
export function imagePathIn(root: string, recorded: string): string {
  return resolve(root, recorded);
}

/** The image's path as the Buildfile names it (relative to `root`) when it is inside the workspace; else absolute. */
export function imagePathShown(root: string, recorded: string): string {
  return recordedImagePath(root, imagePathIn(root, recorded));
}
