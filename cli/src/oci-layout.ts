/**
 * An OCI image layout (image-spec image-layout.md) of a task's layer stack:
 *
 *   DIR/oci-layout          {"imageLayoutVersion": "1.0.0"}
 *   DIR/index.json          one manifest, named by `org.opencontainers.image.ref.name`
 *   DIR/blobs/sha256/<hex>  each layer, the config and the manifest
 *
 * Layers are written as rbuild stores them, uncompressed tars (media type
 * `application/vnd.oci.image.layer.v1.tar`): already valid OCI layers
 * (ustar, whiteouts `.wh.<name>`), so each layer's digest is also its
 * `rootfs.diff_ids` entry. No gzip: the bytes stay the ones the cache holds,
 * and a registry push can compress them. The config is the minimal image
 * config: os, architecture, created, rootfs and one history entry per layer. A
 * container task's image is written below its layers (its base): the base's
 * layers as it stores them (media type and diff_id given), and the base's
 * config, whose fields (env, entrypoint, cmd, working dir, os, architecture)
 * the image keeps, with its rootfs.diff_ids and history extended by the
 * task's layers. Every
 * JSON document is written with sorted keys, so the same stack always makes
 * the same layout (and manifest digest).
 *
 * The config's `created` keeps that true: it is the base image's own
 * `created` when it states one (the task's layers add no date of their own),
 * else the Unix epoch, 1970-01-01T00:00:00Z, as reproducible-build tools
 * write when no date is given (SOURCE_DATE_EPOCH unset). Never the time of
 * the export or of the run: the same task result, exported again or built
 * again to the same bytes, is the same image, byte for byte.
 */
import { createHash } from "node:crypto";
import { closeSync, mkdirSync, openSync, readSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";

export const MEDIA = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar",
} as const;

/** A blob written into the layout. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

/** A layer to write: its bytes, or the path of its blob file, and what made it (for the config's history). */
export interface LayoutLayer {
  readonly source: string | Buffer;
  readonly createdBy: string;
  /** Uncompressed tar unless it says otherwise. */
  readonly mediaType?: string;
  /** Its rootfs.diff_ids entry, the digest of its uncompressed tar: its own digest unless given. */
  readonly diffId?: string;
}

/** The image a layer stack is written over: its layers (bottom first) and its config (none: the minimal one). */
export interface LayoutBase {
  readonly layers: readonly LayoutLayer[];
  readonly config?: Readonly<Record<string, unknown>>;
}

/** Node's architecture names in the OCI (Go) spelling. */
const ARCHITECTURES: Readonly<Record<string, string>> = { x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };

/** A name `org.opencontainers.image.ref.name` accepts (components of alphanumerics and separators), made from a task name. */
export function refName(task: string): string {
  const cleaned = task.replace(/[^A-Za-z0-9._:@+/-]+/g, "-").replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
  return cleaned === "" ? "latest" : cleaned;
}

function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

/** Copies a layer into `blobs/sha256/`, hashing it on the way. */
function copyBlob(blobs: string, source: string | Buffer): { digest: string; size: number } {
  const temp = join(blobs, `.incoming-${process.pid}`);
  const hash = createHash("sha256");
  let size = 0;
  if (typeof source !== "string") {
    hash.update(source);
    writeFileSync(temp, source);
    size = source.length;
  } else {
    const from = openSync(source, "r");
    const to = openSync(temp, "w");
    const chunk = Buffer.allocUnsafe(1024 * 1024);
    try {
      for (let n = readSync(from, chunk, 0, chunk.length, null); n > 0; n = readSync(from, chunk, 0, chunk.length, null)) {
        hash.update(chunk.subarray(0, n));
        writeSync(to, chunk, 0, n);
        size += n;
      }
    } finally {
      closeSync(from);
      closeSync(to);
    }
  }
  const hex = hash.digest("hex");
  renameSync(temp, join(blobs, hex));
  return { digest: `sha256:${hex}`, size };
}

function writeJson(blobs: string, mediaType: string, value: unknown): Descriptor {
  const bytes = Buffer.from(sortedJson(value));
  const hex = createHash("sha256").update(bytes).digest("hex");
  writeFileSync(join(blobs, hex), bytes);
  return { mediaType, digest: `sha256:${hex}`, size: bytes.length };
}

type Written = { digest: string; size: number; layer: LayoutLayer };

const EPOCH = "1970-01-01T00:00:00Z";
const historyOf = (layers: readonly Written[]): object[] => layers.map((l) => ({ created_by: l.layer.createdBy, created: EPOCH }));

/** The image config: the base's (or the minimal one), with rootfs and history for every layer, and `created` (see above). */
function imageConfig(base: readonly Written[], own: readonly Written[], config: Readonly<Record<string, unknown>> | undefined): object {
  const rootfs = { type: "layers", diff_ids: [...base, ...own].map((l) => l.layer.diffId ?? l.digest) };
  const created = typeof config?.created === "string" ? config.created : EPOCH;
  if (config === undefined) return { architecture: ARCHITECTURES[process.arch] ?? process.arch, os: "linux", config: {}, created, rootfs, history: historyOf([...base, ...own]) };
  // The base's history, when it has an entry for each of its layers (entries marked empty_layer have none); else one made here.
  const history = Array.isArray(config.history) ? (config.history as unknown[]) : [];
  const layered = history.filter((h) => (h as { empty_layer?: unknown } | null)?.empty_layer !== true).length;
  return { ...config, created, rootfs, history: [...(layered === base.length ? history : historyOf(base)), ...historyOf(own)] };
}

/** Writes `layers` (bottom first) over `base` as an image layout in `dir` (new or empty); returns the manifest's descriptor. */
export function writeOciLayout(dir: string, layers: readonly LayoutLayer[], ref: string, base: LayoutBase = { layers: [] }): Descriptor {
  const blobs = join(dir, "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  const write = (layer: LayoutLayer): Written => ({ ...copyBlob(blobs, layer.source), layer });
  const under = base.layers.map(write);
  const own = layers.map(write);
  const config = writeJson(blobs, MEDIA.config, imageConfig(under, own, base.config));
  const manifest = writeJson(blobs, MEDIA.manifest, {
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config,
    layers: [...under, ...own].map((l) => ({ mediaType: l.layer.mediaType ?? MEDIA.layer, digest: l.digest, size: l.size })),
  });
  writeFileSync(join(dir, "oci-layout"), sortedJson({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(
    join(dir, "index.json"),
    sortedJson({ schemaVersion: 2, mediaType: MEDIA.index, manifests: [{ ...manifest, annotations: { "org.opencontainers.image.ref.name": ref } }] }),
  );
  return manifest;
}
