/**
 * A container task's image as the base of an exported OCI image (`rbuild
 * export --oci`): its config as the image has it, and its layers as they are
 * stored (an OCI layout's blobs byte for byte, so their digests are kept; a
 * `docker save` tarball's layer tars), each with its media type and
 * `rootfs.diff_ids` entry (the digest of the uncompressed tar). A layer is
 * uncompressed or gzip; the diff_ids the config states must be the layers'
 * own, or the image is refused as damaged. A root filesystem directory has
 * no layers to keep: the exporter packs one from it.
 */
import { gunzipSync } from "node:zlib";
import { dockerImage, ImageError, ociImage, sha256, type ImageSource } from "./image-source.js";

export const LAYER_MEDIA = {
  tar: "application/vnd.oci.image.layer.v1.tar",
  gzip: "application/vnd.oci.image.layer.v1.tar+gzip",
} as const;

/** A base image's layer: its bytes as stored, its media type and its diff_id. */
export interface BaseLayer {
  readonly bytes: Buffer;
  readonly mediaType: string;
  readonly diffId: string;
}

/** A base image: its config (a JSON object) and its layers, bottom first. */
export interface BaseImage {
  readonly config: Readonly<Record<string, unknown>>;
  readonly layers: readonly BaseLayer[];
}

const isGzip = (bytes: Buffer): boolean => bytes[0] === 0x1f && bytes[1] === 0x8b;
const isZstd = (bytes: Buffer): boolean => bytes.readUInt32LE(0) === 0xfd2fb528;

/** The base of an OCI layout or `docker save` tarball image (see above). Throws ImageError for one it cannot keep. */
export function baseImage(image: ImageSource): BaseImage {
  if (image.kind === "rootfs") throw new Error(`bug: baseImage of the root filesystem directory ${image.path}`);
  const read = image.kind === "oci-layout" ? ociImage(image.path) : dockerImage(image.path);
  const config = read.config;
  if (config === null || typeof config !== "object" || Array.isArray(config)) throw new ImageError(`${image.path}: its config is not a JSON object. The image is damaged: build or fetch it again.`);
  const layers = read.layers.map((layer, n): BaseLayer => {
    const bytes = Buffer.isBuffer(layer) ? layer : layer.bytes;
    if (bytes.length >= 4 && isZstd(bytes)) {
      throw new ImageError(`${image.path}: its layer ${n + 1} is zstd-compressed, which rbuild cannot read. Copy the image uncompressed or gzip-compressed (\`skopeo copy --dest-compress-format gzip\`).`);
    }
    if (isGzip(bytes)) {
      let tar: Buffer;
      try {
        tar = gunzipSync(bytes);
      } catch (error) {
        throw new ImageError(`${image.path}: its layer ${n + 1} is not valid gzip (${(error as Error).message}). The image is damaged: build or fetch it again.`);
      }
      return { bytes, mediaType: LAYER_MEDIA.gzip, diffId: sha256(tar) };
    }
    return { bytes, mediaType: LAYER_MEDIA.tar, diffId: sha256(bytes) };
  });
  const stated = (config as { rootfs?: { diff_ids?: unknown } }).rootfs?.diff_ids;
  const own = layers.map((layer) => layer.diffId);
  if (stated !== undefined && JSON.stringify(stated) !== JSON.stringify(own)) {
    throw new ImageError(`${image.path}: its config's rootfs.diff_ids (${JSON.stringify(stated)}) are not its layers' digests (${JSON.stringify(own)}). The image is damaged: build or fetch it again.`);
  }
  return { config: config as Record<string, unknown>, layers };
}
