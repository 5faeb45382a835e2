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
 * config: os, architecture, rootfs and one history entry per layer. Every
 * JSON document is written with sorted keys, so the same stack always makes
 * the same layout (and manifest digest).
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

/** Writes `layers` (bottom first) as an image layout in `dir` (new or empty); returns the manifest's descriptor. */
export function writeOciLayout(dir: string, layers: readonly LayoutLayer[], ref: string): Descriptor {
  const blobs = join(dir, "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  const written = layers.map((layer) => ({ ...copyBlob(blobs, layer.source), createdBy: layer.createdBy }));
  const config = writeJson(blobs, MEDIA.config, {
    architecture: ARCHITECTURES[process.arch] ?? process.arch,
    os: "linux",
    config: {},
    rootfs: { type: "layers", diff_ids: written.map((l) => l.digest) },
    history: written.map((l) => ({ created_by: l.createdBy, created: "1970-01-01T00:00:00Z" })),
  });
  const manifest = writeJson(blobs, MEDIA.manifest, {
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config,
    layers: written.map((l) => ({ mediaType: MEDIA.layer, digest: l.digest, size: l.size })),
  });
  writeFileSync(join(dir, "oci-layout"), sortedJson({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(
    join(dir, "index.json"),
    sortedJson({ schemaVersion: 2, mediaType: MEDIA.index, manifests: [{ ...manifest, annotations: { "org.opencontainers.image.ref.name": ref } }] }),
  );
  return manifest;
}
