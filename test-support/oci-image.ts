/**
 * Images for the container runner's tests, built from Debian's
 * busybox-static (`apt-get install busybox-static`): a root filesystem
 * holding /bin/busybox and a link for each of its applets (/bin/sh, ...),
 * packed with the system's tar as an OCI image layout (blobs named by their
 * real sha256 digests, a config, a manifest, index.json) or as a
 * `docker save` tarball (manifest.json and the layer tars).
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export const BUSYBOX = "/bin/busybox";

function sha256Hex(bytes: Buffer | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Writes a busybox root filesystem at `dir`, with `files` (path: text) over it; returns `dir`. */
export function busyboxRootfs(dir: string, files: Record<string, string> = {}): string {
  mkdirSync(join(dir, "bin"), { recursive: true });
  copyFileSync(BUSYBOX, join(dir, "bin", "busybox"));
  const listed = spawnSync(BUSYBOX, ["--list"], { encoding: "utf8" });
  if (listed.status !== 0) throw new Error(`${BUSYBOX} --list failed: ${listed.stderr}`);
  for (const applet of listed.stdout.split("\n").filter((name) => name !== "" && name !== "busybox")) symlinkSync("busybox", join(dir, "bin", applet));
  writeFiles(dir, files);
  return dir;
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

/** The tar archive (bytes) of everything in `dir`, written by the system's tar. */
export function tarOf(dir: string): Buffer {
  const made = spawnSync("tar", ["-c", "-f", "-", "-C", dir, "--owner=0", "--group=0", "--numeric-owner", "."], { maxBuffer: 1 << 30 });
  if (made.status !== 0) throw new Error(`tar failed: ${made.stderr.toString()}`);
  return made.stdout;
}

function config(layers: readonly Buffer[], env: readonly string[]): string {
  return JSON.stringify({
    architecture: process.arch === "x64" ? "amd64" : process.arch,
    os: "linux",
    config: { Env: env, Cmd: ["/bin/false"] },
    rootfs: { type: "layers", diff_ids: layers.map((layer) => `sha256:${sha256Hex(layer)}`) },
  });
}

/** Writes an OCI image layout at `dir` of `layers` (tar bytes, bottom first) with config `Env` `env`; returns the manifest's digest. */
export function writeOciLayout(dir: string, layers: readonly Buffer[], env: readonly string[] = []): string {
  const blobs = join(dir, "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  const blob = (bytes: Buffer | string, mediaType: string) => {
    const hex = sha256Hex(bytes);
    writeFileSync(join(blobs, hex), bytes);
    return { mediaType, digest: `sha256:${hex}`, size: Buffer.byteLength(bytes) };
  };
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: blob(config(layers, env), "application/vnd.oci.image.config.v1+json"),
    layers: layers.map((layer) => blob(layer, "application/vnd.oci.image.layer.v1.tar")),
  });
  const descriptor = blob(manifest, "application/vnd.oci.image.manifest.v1+json");
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const platform = { os: "linux", architecture: process.arch === "x64" ? "amd64" : process.arch };
  writeFileSync(join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [{ ...descriptor, platform }] }));
  return descriptor.digest;
}

/** Writes a `docker save` tarball at `file` of `layers` with config `Env` `env`, staged in `staging`. */
export function writeDockerArchive(file: string, staging: string, layers: readonly Buffer[], env: readonly string[] = []): void {
  mkdirSync(staging, { recursive: true });
  const configText = config(layers, env);
  const configName = `${sha256Hex(configText)}.json`;
  writeFileSync(join(staging, configName), configText);
  const names = layers.map((layer) => {
    const name = `${sha256Hex(layer)}/layer.tar`;
    mkdirSync(join(staging, dirname(name)), { recursive: true });
    writeFileSync(join(staging, name), layer);
    return name;
  });
  writeFileSync(join(staging, "manifest.json"), JSON.stringify([{ Config: configName, RepoTags: ["busybox:test"], Layers: names }]));
  writeFileSync(file, tarOf(staging));
}

/** The sha256 digest of a file, as `sha256:<hex>`. */
export function fileDigest(file: string): string {
  return `sha256:${sha256Hex(readFileSync(file))}`;
}
