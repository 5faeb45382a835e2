/**
 * What a container task's `runner: { image }` names, read: an OCI image
 * layout directory (`oci-layout`, `index.json`, `blobs/sha256/...`), a
 * `docker save` tarball (`manifest.json` and the layer tars it lists), or a
 * root filesystem directory (anything else that is a directory).
 *
 * An image's identity is a digest: the OCI manifest's (the linux manifest
 * for this machine's architecture, or the only one), the tarball's sha256,
 * or for a directory the sha256 of its tree (every path, type, mode, and
 * file contents' digest or link target, sorted; the file digests are
 * @rbuild/hash's, so a caller with a stat cache hands in its own and an
 * unchanged file is not read again). It names the unpacked root
 * filesystem in the store and enters the task's key. Digests a layout
 * states are checked against the bytes they name: a mismatch is an error,
 * never an image.
 */
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync, type Stats } from "node:fs";
import { digestFile } from "@rbuild/hash";
import { join } from "node:path";
import { readTar, TarError } from "./tar-reader.js";

export type ImageKind = "oci-layout" | "docker-archive" | "rootfs";

/** An image found and identified. */
export interface ImageSource {
  readonly kind: ImageKind;
  /** Absolute path of the layout, tarball or directory. */
  readonly path: string;
  /** `sha256:<hex>`: see above. */
  readonly digest: string;
  /** The files (absolute) whose contents the digest was computed from: when their stats are unchanged, so is the image. */
  readonly files: readonly string[];
}

/** What unpacking needs: the layers in order (tar bytes), and the config's environment. */
export interface ImageContents {
  readonly layers: readonly Buffer[];
  /** The config's `Env`, `NAME=value` each. */
  readonly env: readonly string[];
}

export type Identified = { readonly ok: true; readonly image: ImageSource } | { readonly ok: false; readonly message: string };

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** An image that is not what it says, or not an image: the message says what is wrong, and what to do. */
export class ImageError extends Error {}

const FORMATS = "an OCI image layout directory (oci-layout, index.json, blobs/sha256), a `docker save` tarball, or a root filesystem directory";

/** A regular file's digest (@rbuild/hash `digestFile`'s), given its absolute path and lstat. */
export type FileDigester = (file: string, stats: Stats) => string;

/** Finds and identifies the image at absolute `path`; `digest` gives a root filesystem directory's file digests (by default, read). */
export function identifyImage(path: string, digest: FileDigester = (file) => digestFile(file)): Identified {
  try {
    const stats = statSync(path, { throwIfNoEntry: false });
    if (stats === undefined) return { ok: false, message: `its image ${path} does not exist. Build or fetch the image there, or fix \`runner: { image }\` (a path relative to the Buildfile).` };
    if (stats.isDirectory()) {
      if (statSync(join(path, "oci-layout"), { throwIfNoEntry: false }) !== undefined) {
        const { digest, files } = ociManifest(path);
        return { ok: true, image: { kind: "oci-layout", path, digest, files } };
      }
      const tree = treeDigest(path, digest);
      return { ok: true, image: { kind: "rootfs", path, digest: tree.digest, files: tree.files } };
    }
    const bytes = readFileSync(path);
    dockerManifest(archiveFiles(path, bytes), path);
    return { ok: true, image: { kind: "docker-archive", path, digest: sha256(bytes), files: [path] } };
  } catch (error) {
    if (error instanceof ImageError) return { ok: false, message: error.message };
    throw error;
  }
}

/** The layers and environment of an identified image (a root filesystem directory has neither: it is copied). */
export function imageContents(image: ImageSource): ImageContents {
  switch (image.kind) {
    case "oci-layout": {
      const { config, layers } = ociImage(image.path);
      return { layers: layers.map((layer) => layer.bytes), env: configEnv(config as ImageConfig) };
    }
    case "docker-archive": {
      const { config, layers } = dockerImage(image.path);
      return { layers, env: configEnv(config as ImageConfig) };
    }
    case "rootfs":
      return { layers: [], env: [] };
  }
}

/**
 * The digest the image has now, as identifyImage computes it; for a root
 * filesystem directory, of `copy` (its copy in the store) when given. What
 * unpacking checks against the digest a task's key was computed with.
 */
export function digestNow(image: ImageSource, copy?: string): string {
  switch (image.kind) {
    case "oci-layout":
      return ociManifest(image.path).digest;
    case "docker-archive":
      return sha256(readFileSync(image.path));
    case "rootfs":
      return treeDigest(copy ?? image.path, (file) => digestFile(file)).digest;
  }
}

/** A `docker save` tarball's config (parsed) and layers (as stored), each checked against the digest its name states. */
export function dockerImage(path: string): { config: unknown; layers: Buffer[] } {
  const files = archiveFiles(path, readFileSync(path));
  const entry = dockerManifest(files, path);
  const member = (name: string): Buffer => {
    const bytes = files.get(name.replace(/^\.\//, ""));
    if (bytes === undefined) throw new ImageError(`${path}: its manifest.json names ${name}, which the tarball does not hold. Save the image again (\`docker save -o FILE IMAGE\`).`);
    const hex = /(?:^|\/)(?:blobs\/sha256\/)?([0-9a-f]{64})(?:\.json)?$/.exec(name)?.[1];
    if (hex !== undefined && /blobs\/sha256\/|^[0-9a-f]{64}\.json$/.test(name)) checkDigest(bytes, `sha256:${hex}`, name, path);
    return bytes;
  };
  return { config: parseJson(member(entry.Config), entry.Config, path), layers: entry.Layers.map(member) };
}

/** An OCI layout's config (parsed) and layers (as stored, with their media types), each checked against its digest. */
export function ociImage(layout: string): { config: unknown; layers: { bytes: Buffer; mediaType: string | undefined }[] } {
  const { manifest } = ociManifest(layout);
  const config = parseJson(ociBlob(layout, manifest.config), `the config ${manifest.config.digest}`, layout);
  return { config, layers: manifest.layers.map((layer) => ({ bytes: ociBlob(layout, layer), mediaType: layer.mediaType })) };
}

interface Descriptor {
  readonly mediaType?: string;
  readonly digest: string;
  readonly platform?: { readonly os?: string; readonly architecture?: string };
}

interface ImageConfig {
  readonly config?: { readonly Env?: readonly string[] } | null;
}

function configEnv(config: ImageConfig): string[] {
  const env = config.config?.Env;
  return Array.isArray(env) ? env.filter((item): item is string => typeof item === "string") : [];
}

function parseJson(bytes: Buffer, what: string, image: string): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new ImageError(`${image}: ${what} is not JSON. The image is damaged: build or fetch it again.`);
  }
}

function checkDigest(bytes: Buffer, digest: string, what: string, image: string): void {
  const actual = sha256(bytes);
  if (actual !== digest) throw new ImageError(`${image}: ${what} should have digest ${digest} and has ${actual}. The image is damaged or was changed in place: build or fetch it again.`);
}

/** A blob of the layout, checked against its descriptor's digest. */
function ociBlob(layout: string, descriptor: Descriptor): Buffer {
  const match = /^sha256:([0-9a-f]{64})$/.exec(String(descriptor.digest));
  if (match === null) throw new ImageError(`${layout}: the digest ${JSON.stringify(descriptor.digest)} is not a sha256 digest, the only kind rbuild reads.`);
  const file = join(layout, "blobs", "sha256", match[1]!);
  let bytes;
  try {
    bytes = readFileSync(file);
  } catch {
    throw new ImageError(`${layout}: the blob ${descriptor.digest} is missing (no ${file}). Copy the whole layout again.`);
  }
  checkDigest(bytes, descriptor.digest, `the blob ${file}`, layout);
  return bytes;
}

/** The platform names this machine's architecture has in OCI indexes. */
function hostArchitecture(): string {
  return process.arch === "x64" ? "amd64" : process.arch === "ia32" ? "386" : process.arch;
}

/** The image manifest the layout's index.json leads to (through nested indexes), with its digest. */
function ociManifest(layout: string): { digest: string; files: string[]; manifest: { config: Descriptor; layers: Descriptor[] } } {
  const indexFile = join(layout, "index.json");
  let index;
  try {
    index = readFileSync(indexFile);
  } catch {
    throw new ImageError(`${layout} has an oci-layout file but no index.json: it is not a whole OCI image layout. Copy or export it again.`);
  }
  const files = [indexFile];
  let manifests = (parseJson(index, "index.json", layout) as { manifests?: Descriptor[] }).manifests ?? [];
  for (let depth = 0; depth < 8; depth++) {
    const chosen = choose(manifests, layout);
    const bytes = ociBlob(layout, chosen);
    files.push(join(layout, "blobs", "sha256", chosen.digest.slice("sha256:".length)));
    const parsed = parseJson(bytes, `the manifest ${chosen.digest}`, layout) as { manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
    if (Array.isArray(parsed.manifests)) {
      manifests = parsed.manifests;
      continue;
    }
    if (parsed.config === undefined || !Array.isArray(parsed.layers)) throw new ImageError(`${layout}: the manifest ${chosen.digest} has no config or no layers: it is not an image manifest.`);
    return { digest: chosen.digest, files, manifest: { config: parsed.config, layers: parsed.layers } };
  }
  throw new ImageError(`${layout}: its indexes nest deeper than 8: not an image rbuild can read.`);
}

function choose(manifests: readonly Descriptor[], layout: string): Descriptor {
  if (manifests.length === 1) return manifests[0]!;
  const arch = hostArchitecture();
  const chosen = manifests.find((m) => m.platform?.os === "linux" && m.platform.architecture === arch);
  if (chosen !== undefined) return chosen;
  const have = manifests.map((m) => `${m.platform?.os ?? "?"}/${m.platform?.architecture ?? "?"}`).join(", ");
  throw new ImageError(`${layout}: its index has ${manifests.length === 0 ? "no manifest" : `no linux/${arch} manifest (it has ${have})`}. Use an image built for linux/${arch}.`);
}

/** The members of a tarball, by path. */
function archiveFiles(path: string, bytes: Buffer): Map<string, Buffer> {
  let entries;
  try {
    entries = readTar(bytes);
  } catch (error) {
    if (!(error instanceof TarError)) throw error;
    throw new ImageError(`its image ${path} is not a recognised format (${error.message}): it must be ${FORMATS}.`);
  }
  return new Map(entries.filter((entry) => entry.type === "file").map((entry) => [entry.path.replace(/^\.\//, ""), entry.data]));
}

function dockerManifest(files: ReadonlyMap<string, Buffer>, path: string): { Config: string; Layers: string[] } {
  const manifest = files.get("manifest.json");
  if (manifest === undefined) throw new ImageError(`its image ${path} is a tarball without manifest.json, so not a recognised format: it must be ${FORMATS}.`);
  const entries = parseJson(manifest, "manifest.json", path) as { Config?: unknown; Layers?: unknown }[];
  if (!Array.isArray(entries) || entries.length !== 1) throw new ImageError(`${path}: its manifest.json should list one image, and lists ${Array.isArray(entries) ? entries.length : "none"}. Save one image (\`docker save -o FILE IMAGE\`).`);
  const entry = entries[0]!;
  if (typeof entry.Config !== "string" || !Array.isArray(entry.Layers)) throw new ImageError(`${path}: its manifest.json has no Config or Layers: not a \`docker save\` tarball.`);
  return { Config: entry.Config, Layers: entry.Layers.map(String) };
}

/** The digest of a directory's tree (see above), and the files it read. */
function treeDigest(root: string, digest: FileDigester): { digest: string; files: string[] } {
  const hash = createHash("sha256");
  const files: string[] = [root];
  const walk = (dir: string, prefix: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const path = prefix === "" ? name : `${prefix}/${name}`;
      const stats = lstatSync(full);
      const mode = (stats.mode & 0o7777).toString(8);
      if (stats.isDirectory()) {
        files.push(full);
        hash.update(`d\0${path}\0${mode}\n`);
        walk(full, path);
      } else if (stats.isSymbolicLink()) hash.update(`l\0${path}\0${readlinkSync(full)}\n`);
      else if (stats.isFile()) {
        files.push(full);
        hash.update(`f\0${path}\0${mode}\0${digest(full, stats)}\n`);
      }
    }
  };
  walk(root, "");
  return { digest: `sha256:${hash.digest("hex")}`, files };
}
