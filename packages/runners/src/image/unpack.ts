/**
 * Unpacking an image into the store, once: `<dir>/images/<hex>/rootfs`,
 * named by the image's digest (image-source.ts), shared by every task and
 * build that uses it. It is written in a temporary directory beside it and
 * renamed into place, so a directory there is always whole; two builds that
 * unpack the same image at once both finish, and one copy is kept.
 *
 * Layers are applied in order, as the OCI image spec says: in each layer,
 * its whiteouts first (`.wh.NAME` removes NAME from the layers below,
 * `.wh..wh..opq` empties its directory of them), then its entries. A path
 * that is absolute or climbs with `..` refuses the image; so does a hard
 * link to such a path, or a symbolic link whose relative target climbs above
 * the root. Symbolic links already unpacked are followed inside the root
 * filesystem (an absolute target from its top), never out of it. Owners are
 * not kept (files belong to whoever runs rbuild), nor device files.
 */
import { chmodSync, cpSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import { digestNow, ImageError, imageContents, type ImageSource } from "./image-source.js";
import { readTar, TarError, type TarEntry } from "./tar-reader.js";

/** An image unpacked: its root filesystem, and the environment its config sets. */
export interface Unpacked {
  readonly rootfs: string;
  readonly env: Readonly<Record<string, string>>;
}

/** The store's directory for an image (`<dir>/images/<hex>`). */
export function imageDirectory(storeDir: string, digest: string): string {
  return join(storeDir, "images", digest.replace(/^sha256:/, ""));
}

/**
 * Marks a use of the image: gc keeps an image used lately even before a result built in it is
 * stored (@rbuild/store gc-images.ts). The container runner marks one again while a task runs in it.
 */
export function touchImage(storeDir: string, digest: string): void {
  try {
    const now = new Date();
    utimesSync(imageDirectory(storeDir, digest), now, now);
  } catch {
    // Not ours to touch (a shared cache): gc's record of the result keeps it. Or gone: nothing to keep.
  }
}

/** The image's root filesystem in the store under `storeDir`, unpacked now unless it is there. Throws ImageError for an image it refuses. */
export function unpackImage(storeDir: string, image: ImageSource): Unpacked {
  const dir = imageDirectory(storeDir, image.digest);
  const envFile = join(dir, "env.json");
  if (existsSync(envFile)) {
    touchImage(storeDir, image.digest);
    return { rootfs: join(dir, "rootfs"), env: readEnv(envFile) };
  }
  mkdirSync(join(storeDir, "images"), { recursive: true });
  const temp = mkdtempSync(join(storeDir, "images", ".unpack-"));
  try {
    const rootfs = join(temp, "rootfs");
    const contents = imageContents(image);
    if (image.kind === "rootfs") cpSync(image.path, rootfs, { recursive: true, verbatimSymlinks: true });
    else {
      mkdirSync(rootfs);
      contents.layers.forEach((layer, n) => applyLayer(rootfs, layer, `layer ${n + 1} of ${image.path}`));
    }
    // The store keeps it under the digest the task's key was computed with: it must still be that image
    // (a directory or tarball written while the build ran is refused, not kept under the old name).
    const now = digestNow(image, image.kind === "rootfs" ? rootfs : undefined);
    if (now !== image.digest) {
      throw new ImageError(`the image ${image.path} changed while rbuild unpacked it (it is now ${now}; the task's key was computed with ${image.digest}). Nothing was kept: run the build again once the image is no longer being written.`);
    }
    const env = Object.fromEntries(contents.env.map((item) => [item.slice(0, item.indexOf("=") === -1 ? item.length : item.indexOf("=")), item.includes("=") ? item.slice(item.indexOf("=") + 1) : ""]));
    writeFileSync(join(temp, "env.json"), JSON.stringify(env));
    if (!moveInto(temp, dir) && !existsSync(envFile)) {
      // No env.json: what a removal that died midway left (a build's copy has one from the start). It goes, and this copy takes its place.
      const broken = mkdtempSync(join(storeDir, "images", ".unpack-"));
      try {
        renameSync(dir, join(broken, "old"));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
      rmSync(broken, { recursive: true, force: true });
      moveInto(temp, dir);
    }
    return { rootfs: join(dir, "rootfs"), env };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** Renames `temp` to `dir`; false when `dir` is there already (another build unpacked it meanwhile: theirs is the same). */
function moveInto(temp: string, dir: string): boolean {
  try {
    renameSync(temp, dir);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
    return false;
  }
}

function readEnv(file: string): Record<string, string> {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
  } catch {
    return {};
  }
}

/** `path` from an archive as a relative path inside the root, or why it is refused. */
function safePath(path: string, what: string): string {
  const trimmed = path.replace(/^(\.\/)+/, "").replace(/\/+$/, "");
  if (path.startsWith("/") || trimmed.split("/").includes("..")) throw new ImageError(`${what} holds the path ${JSON.stringify(path)}, which leads out of the root filesystem: rbuild refuses such an image. Rebuild it with relative paths.`);
  return posix.normalize(trimmed === "" ? "." : trimmed);
}

/** The host path of relative `path` in `rootfs`, following the links of its parents inside the root (never out of it). */
function resolveParent(rootfs: string, path: string): string {
  const parts = posix.dirname(path) === "." ? [] : posix.dirname(path).split("/");
  let resolved: string[] = [];
  let hops = 0;
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === "." || part === "") continue;
    if (part === "..") {
      resolved.pop();
      continue;
    }
    const host = join(rootfs, ...resolved, part);
    const stats = lstatSync(host, { throwIfNoEntry: false });
    if (stats?.isSymbolicLink() === true) {
      if (++hops > 40) throw new ImageError(`a link loop at ${[...resolved, part].join("/")} in the image`);
      const target = readlinkSync(host);
      if (target.startsWith("/")) resolved = [];
      parts.unshift(...target.split("/"));
      continue;
    }
    if (stats === undefined) mkdirSync(host);
    resolved.push(part);
  }
  return join(rootfs, ...resolved, posix.basename(path));
}

function applyLayer(rootfs: string, layer: Buffer, what: string): void {
  let entries: TarEntry[];
  try {
    entries = readTar(layer);
  } catch (error) {
    if (!(error instanceof TarError)) throw error;
    throw new ImageError(`${what} is not a tar archive (${error.message}): the image is damaged, build or fetch it again.`);
  }
  const checked = entries.map((entry) => ({ entry, path: safePath(entry.path, what) }));
  // Whiteouts remove what the layers below hold: first, whatever the order in the archive.
  for (const { path } of checked) {
    const name = posix.basename(path);
    if (!name.startsWith(".wh.")) continue;
    const host = resolveParent(rootfs, path);
    const dir = join(host, "..");
    if (name === ".wh..wh..opq") {
      for (const child of existsSync(dir) ? readdirSync(dir) : []) rmSync(join(dir, child), { recursive: true, force: true });
    } else rmSync(join(dir, name.slice(".wh.".length)), { recursive: true, force: true });
  }
  for (const { entry, path } of checked) {
    if (path === "." || posix.basename(path).startsWith(".wh.")) continue;
    const host = resolveParent(rootfs, path);
    const existing = lstatSync(host, { throwIfNoEntry: false });
    if (existing !== undefined && !(existing.isDirectory() && entry.type === "directory")) rmSync(host, { recursive: true, force: true });
    switch (entry.type) {
      case "directory":
        mkdirSync(host, { recursive: true });
        chmodSync(host, entry.mode | 0o700);
        break;
      case "file":
        writeFileSync(host, entry.data, { mode: entry.mode });
        chmodSync(host, entry.mode);
        break;
      case "symlink":
        if (!entry.linkTarget.startsWith("/") && climbsOut(posix.dirname(path), entry.linkTarget)) {
          throw new ImageError(`${what} holds a link ${path} -> ${entry.linkTarget}, which leads out of the root filesystem: rbuild refuses such an image.`);
        }
        symlinkSync(entry.linkTarget, host);
        break;
      case "hardlink":
        linkSync(resolveParent(rootfs, safePath(entry.linkTarget, what)), host);
        break;
      case "other":
        break; // Devices and fifos: a sandbox has its own /dev.
    }
  }
}

/** Whether `target`, relative to directory `from` (both inside the root), climbs above the root. */
function climbsOut(from: string, target: string): boolean {
  let depth = from === "." ? 0 : from.split("/").length;
  for (const part of target.split("/")) {
    if (part === "..") depth--;
    else if (part !== "." && part !== "") depth++;
    if (depth < 0) return true;
  }
  return false;
}
