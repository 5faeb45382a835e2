/** A container image's layers and config as the base of an export (issue 27.4): gzip layers kept with their diff_ids, damage refused. */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, expect, test } from "vitest";
import { baseImage } from "./base-image.js";
import { identifyImage, type ImageSource } from "./image-source.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "rbuild-base-image-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sha256 = (bytes: Buffer | string): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
/** A one-file tar archive (ustar, as the layers rbuild reads). */
function tarOf(name: string, text: string): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0);
  header.write("0000644\0", 100);
  header.write("0000000\0", 108);
  header.write("0000000\0", 116);
  header.write(`${Buffer.byteLength(text).toString(8).padStart(11, "0")}\0`, 124);
  header.write("00000000000\0", 136);
  header.write("0", 156);
  header.write("ustar\u000000", 257);
  header.write("        ", 148);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  const body = Buffer.alloc(Math.ceil(Buffer.byteLength(text) / 512) * 512);
  body.write(text);
  return Buffer.concat([header, body, Buffer.alloc(1024)]);
}

/** An OCI layout of `layers` (as stored, with media types) whose config states `diffIds`. */
function layout(layers: { bytes: Buffer; mediaType: string }[], diffIds: string[]): ImageSource {
  const blobs = join(dir, "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  const blob = (bytes: Buffer | string, mediaType: string) => {
    writeFileSync(join(blobs, sha256(bytes).slice(7)), bytes);
    return { mediaType, digest: sha256(bytes), size: Buffer.byteLength(bytes) };
  };
  const config = blob(JSON.stringify({ os: "linux", architecture: "amd64", config: { Env: ["A=1"] }, rootfs: { type: "layers", diff_ids: diffIds } }), "application/vnd.oci.image.config.v1+json");
  const manifest = blob(JSON.stringify({ schemaVersion: 2, config, layers: layers.map((l) => blob(l.bytes, l.mediaType)) }), "application/vnd.oci.image.manifest.v1+json");
  writeFileSync(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [manifest] }));
  const found = identifyImage(dir);
  if (!found.ok) throw new Error(found.message);
  return found.image;
}

test("27.4: a gzip layer is kept as stored, its diff_id the digest of its tar; an uncompressed one's is its own digest", () => {
  const plain = tarOf("a", "one\n");
  const tar = tarOf("b", "two\n");
  const gz = gzipSync(tar);
  const image = layout([{ bytes: plain, mediaType: "application/vnd.oci.image.layer.v1.tar" }, { bytes: gz, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip" }], [sha256(plain), sha256(tar)]);
  const base = baseImage(image);
  expect(base.layers).toEqual([
    { bytes: plain, mediaType: "application/vnd.oci.image.layer.v1.tar", diffId: sha256(plain) },
    { bytes: gz, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", diffId: sha256(tar) },
  ]);
  expect(base.config).toEqual({ os: "linux", architecture: "amd64", config: { Env: ["A=1"] }, rootfs: { type: "layers", diff_ids: [sha256(plain), sha256(tar)] } });
});

test("27.4: a config whose diff_ids are not its layers', and a zstd layer, are refused saying what to do", () => {
  const tar = tarOf("a", "one\n");
  const wrong = `sha256:${"0".repeat(64)}`;
  expect(() => baseImage(layout([{ bytes: tar, mediaType: "application/vnd.oci.image.layer.v1.tar" }], [wrong]))).toThrow(
    `${dir}: its config's rootfs.diff_ids (["${wrong}"]) are not its layers' digests (["${sha256(tar)}"]). The image is damaged: build or fetch it again.`,
  );
  rmSync(dir, { recursive: true });
  const zstd = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(16)]);
  expect(() => baseImage(layout([{ bytes: zstd, mediaType: "application/vnd.oci.image.layer.v1.tar+zstd" }], [sha256(zstd)]))).toThrow(
    `${dir}: its layer 1 is zstd-compressed, which rbuild cannot read. Copy the image uncompressed or gzip-compressed (\`skopeo copy --dest-compress-format gzip\`).`,
  );
});
