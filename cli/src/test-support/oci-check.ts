/**
 * An exported OCI image layout, checked without rbuild's code (oci-layout.ts
 * writes it; this reads it as another tool would): every blob the index,
 * manifest and config name has the sha256 digest and size its descriptor
 * says, and each layer's diff_id is the digest of its uncompressed tar. The
 * layers are unpacked in order with the system's tar, whiteouts applied.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface CheckedLayout {
  manifest: { schemaVersion: number; mediaType: string; config: Descriptor; layers: Descriptor[] };
  manifestDigest: string;
  config: { os: string; architecture: string; config?: Record<string, unknown>; rootfs: { type: string; diff_ids: string[] }; history: { created_by?: string; empty_layer?: boolean }[] };
  /** Each layer's uncompressed tar, bottom first. */
  tars: Buffer[];
}

const sha256 = (bytes: Buffer): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/** The blob a descriptor names; throws unless its bytes have the digest and size the descriptor says. */
function blob(layout: string, d: Descriptor): Buffer {
  const bytes = readFileSync(join(layout, "blobs", "sha256", d.digest.replace(/^sha256:/, "")));
  if (sha256(bytes) !== d.digest || bytes.length !== d.size) throw new Error(`blob ${d.digest}: has digest ${sha256(bytes)} and size ${bytes.length}, its descriptor says ${d.size}`);
  return bytes;
}

/** Checks the layout at `layout` (see above); throws on the first thing that does not verify. */
export function checkLayout(layout: string): CheckedLayout {
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as { manifests: Descriptor[] };
  if (index.manifests.length !== 1) throw new Error(`index.json has ${index.manifests.length} manifests`);
  const manifest = JSON.parse(blob(layout, index.manifests[0]!).toString("utf8")) as CheckedLayout["manifest"];
  const config = JSON.parse(blob(layout, manifest.config).toString("utf8")) as CheckedLayout["config"];
  const tars = manifest.layers.map((d) => {
    const bytes = blob(layout, d);
    return d.mediaType.endsWith("+gzip") ? gunzipSync(bytes) : bytes;
  });
  const diffIds = tars.map(sha256);
  if (JSON.stringify(diffIds) !== JSON.stringify(config.rootfs.diff_ids)) throw new Error(`diff_ids ${JSON.stringify(config.rootfs.diff_ids)} are not the layers' ${JSON.stringify(diffIds)}`);
  const layered = config.history.filter((h) => h.empty_layer !== true).length;
  if (layered !== tars.length) throw new Error(`the config's history has ${layered} entries with layers, the image ${tars.length} layers`);
  return { manifest, manifestDigest: index.manifests[0]!.digest, config, tars };
}

/** Unpacks `tars` in order into `dir` with the system's tar; a `.wh.NAME` removes NAME from the layers below. */
export function unpackLayers(tars: readonly Buffer[], dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const tar of tars) {
    const done = spawnSync("tar", ["-x", "-f", "-", "-C", dir, "--no-same-owner"], { input: tar });
    if (done.status !== 0) throw new Error(`tar -x failed: ${done.stderr.toString()}`);
    const whiteouts = (at: string): void => {
      for (const name of readdirSync(at)) {
        const path = join(at, name);
        if (name.startsWith(".wh.")) {
          rmSync(join(at, name.slice(4)), { recursive: true, force: true });
          rmSync(path, { force: true });
        } else if (lstatSync(path).isDirectory()) whiteouts(path);
      }
    };
    whiteouts(dir);
  }
}

/** Every path below `dir` with what it is (`file:<sha256>`, `link:<target>`, `dir`), sorted: two trees compared whole. */
export function treeListing(dir: string, prefix = ""): string[] {
  const rows: string[] = [];
  for (const name of readdirSync(join(dir, prefix)).sort()) {
    const path = prefix === "" ? name : `${prefix}/${name}`;
    const stats = lstatSync(join(dir, path));
    if (stats.isSymbolicLink()) rows.push(`${path} link ${readlinkSync(join(dir, path))}`);
    else if (stats.isDirectory()) rows.push(`${path} dir`, ...treeListing(dir, path));
    else rows.push(`${path} file ${(stats.mode & 0o777).toString(8)} ${sha256(readFileSync(join(dir, path)))}`);
  }
  return rows;
}
