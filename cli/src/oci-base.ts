/**
 * The base of a container task's exported image (`rbuild export --oci`): the
 * image its run's key was computed with, as the index recorded it (kind,
 * path, digest; @rbuild/store `runImage`), found again at that path (one
 * inside the workspace is recorded relative to its root, so a moved
 * workspace finds it in its new place; an older row's absolute path is
 * taken as it is) and identified again. Only the same image is ever
 * exported under the task's layers: one that has changed or gone since the
 * run is refused, saying what to do. An OCI layout or `docker save` tarball gives its config and its
 * layers as stored (@rbuild/runners `baseImage`); a root filesystem
 * directory is packed as one layer, as rbuild packs outputs (sorted, mtimes
 * and owners zero), so two exports of it are byte-identical.
 */
import { mkdtempSync, readdirSync, lstatSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeRecord } from "@rbuild/planner";
import { baseImage, identifyImage, ImageError } from "@rbuild/runners";
import { imagePathIn, runImage, writeLayer, type RunDetail, type RunImageRecord, type Store } from "@rbuild/store";
import { IMAGE_KINDS as KINDS } from "./image-kinds.js";
import type { LayoutBase } from "./oci-layout.js";

/** A base to write under the task's layers, and what to clean up after; `image` (its path absolute) is undefined for a task that ran in none. */
export type ExportBase = { ok: true; base: LayoutBase; image: RunImageRecord | undefined; cleanup: () => void } | { ok: false; problem: string };

/** The base image of `detail`'s run in the workspace at `root` (see above); `name` names the run in messages. */
export function exportBase(store: Store, detail: RunDetail, name: string, root: string): ExportBase {
  const none: ExportBase = { ok: true, base: { layers: [] }, image: undefined, cleanup: () => {} };
  if (detail.key === null) return none;
  const recorded = runImage(store, detail.key);
  if (recorded === undefined) {
    // A container task's key recorded before the index kept images (or its record is gone): its image is not known.
    const state = store.taskState(detail.task);
    const record = state?.key === detail.key ? decodeRecord(state.record) : undefined;
    if (record?.image === undefined) return none;
    return { ok: false, problem: `cannot export ${name}: it ran in a container image, and the cache does not record which (it was recorded by an older rbuild). Rebuild it with \`rbuild ${detail.task} --force\`, then export again.` };
  }
  const image = { ...recorded, path: imagePathIn(root, recorded.path) };
  const what = `the image it ran in, the ${KINDS[image.kind]} ${image.path} (${image.digest})`;
  const rebuild = `or rebuild the task in the image there now (\`rbuild ${detail.task}\`) and export its new run`;
  const found = identifyImage(image.path);
  if (!found.ok) return { ok: false, problem: `cannot export ${name}: ${what}, cannot be read now: ${found.message} Put that image back at ${image.path}, ${rebuild}.` };
  if (found.image.digest !== image.digest || found.image.kind !== image.kind) {
    const now = found.image.kind === image.kind ? `it has digest ${found.image.digest} now` : `it is a ${KINDS[found.image.kind]} now, digest ${found.image.digest}`;
    return { ok: false, problem: `cannot export ${name}: ${what}, has changed since that run (${now}); its layers would go over another base. Put the image it ran in back at ${image.path}, ${rebuild}.` };
  }
  try {
    if (image.kind === "rootfs") return packRootfs(image);
    const base = baseImage(found.image);
    const layers = base.layers.map((layer, n) => ({ source: layer.bytes, mediaType: layer.mediaType, diffId: layer.diffId, createdBy: `base image layer ${n + 1}` }));
    return { ok: true, base: { layers, config: base.config }, image, cleanup: () => {} };
  } catch (error) {
    if (error instanceof ImageError) return { ok: false, problem: `cannot export ${name}: ${what}, cannot be exported: ${error.message}` };
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM") return { ok: false, problem: `cannot export ${name}: ${what}, cannot be read whole (${(error as Error).message}). Make it readable by this user, then export again.` };
    throw error;
  }
}

/** A root filesystem directory as one layer, written to a temporary file (removed by `cleanup`). */
function packRootfs(image: RunImageRecord): ExportBase {
  const temp = mkdtempSync(join(tmpdir(), "rbuild-export-"));
  const cleanup = (): void => rmSync(temp, { recursive: true, force: true });
  try {
    const written = writeLayer(image.path, treePaths(image.path), () => join(temp, "rootfs.tar"));
    const source = "file" in written ? written.file : written.bytes;
    return { ok: true, base: { layers: [{ source, createdBy: "base image (a root filesystem directory)" }] }, image, cleanup };
  } catch (error) {
    cleanup();
    throw error;
  }
}

/** Every path below `root` (directories too, not following links), relative, sorted by code unit as layers are. */
function treePaths(root: string): string[] {
  const paths: string[] = [];
  const walk = (dir: string, prefix: string): void => {
    for (const name of readdirSync(dir)) {
      const path = prefix === "" ? name : `${prefix}/${name}`;
      paths.push(path);
      if (lstatSync(join(dir, name)).isDirectory()) walk(join(dir, name), path);
    }
  };
  walk(root, "");
  return paths.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
