import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { testWorkspace, type Workspace } from "./test-support/workspace.js";

// A base tree and a transform of it that changes, adds and deletes: a stack of two layers.
const BUILDFILE = `import { task } from "rbuild";
const base = task({ name: "base", inputs: ["src/**"], outputs: ["root/**"],
  run: "mkdir -p root/etc root/bin && cp src/motd root/etc/motd && echo old > root/etc/old && printf '#!/bin/sh\\\\necho hi\\\\n' > root/bin/hi && chmod 755 root/bin/hi" });
task({ name: "image", deps: [base], transform: base, outputs: ["root/**"],
  run: "rm root/etc/old && echo new > root/etc/new && echo changed > root/etc/motd" });
`;

function workspace(): Workspace {
  return testWorkspace({ "Buildfile.ts": BUILDFILE, "src/motd": "hello\n" });
}

const sha256 = (bytes: Buffer): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

/** The blob a descriptor names, after checking that its bytes have the digest and size the descriptor says. */
function verifiedBlob(layout: string, descriptor: Descriptor): Buffer {
  const bytes = readFileSync(join(layout, "blobs", "sha256", descriptor.digest.slice("sha256:".length)));
  expect([sha256(bytes), bytes.length]).toEqual([descriptor.digest, descriptor.size]);
  return bytes;
}

/** The names in an uncompressed ustar archive, in order. */
function tarNames(bytes: Buffer): string[] {
  const names: string[] = [];
  for (let at = 0; at + 512 <= bytes.length; ) {
    const header = bytes.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    names.push(header.toString("latin1", 0, 100).replace(/\0.*$/s, ""));
    at += 512 + Math.ceil(parseInt(header.toString("latin1", 124, 136).replace(/\0.*$/s, "").trim() || "0", 8) / 512) * 512;
  }
  return names;
}

const hasSkopeo = spawnSync("skopeo", ["--version"]).status === 0;

describe("rbuild export --oci", () => {
  test("27.4: a transform's stack as an OCI image layout whose index, manifest, config and layer digests verify", async () => {
    const ws = workspace();
    expect((await ws.run(["image"])).exitCode).toBe(0);
    const result = await ws.run(["export", "image", "--oci", "out/layout"]);
    expect(result.stderr).toBe("");
    expect(result.stdout.replace(/sha256:[0-9a-f]{64}/, "sha256:<digest>")).toBe(
      'Wrote task "image" run 0 (build 1) to <root>/out/layout: an OCI image layout of 2 layers, manifest sha256:<digest>\n',
    );
    const layout = join(ws.root, "out/layout");
    expect(JSON.parse(readFileSync(join(layout, "oci-layout"), "utf8"))).toEqual({ imageLayoutVersion: "1.0.0" });
    const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as { schemaVersion: number; mediaType: string; manifests: (Descriptor & { annotations: Record<string, string> })[] };
    expect(index.schemaVersion).toBe(2);
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(index.manifests.map((m) => [m.mediaType, m.annotations])).toEqual([["application/vnd.oci.image.manifest.v1+json", { "org.opencontainers.image.ref.name": "image" }]]);

    const manifest = JSON.parse(verifiedBlob(layout, index.manifests[0]!).toString("utf8")) as { schemaVersion: number; mediaType: string; config: Descriptor; layers: Descriptor[] };
    expect([manifest.schemaVersion, manifest.mediaType, manifest.config.mediaType]).toEqual([2, "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.config.v1+json"]);
    expect(manifest.layers.map((l) => l.mediaType)).toEqual(["application/vnd.oci.image.layer.v1.tar", "application/vnd.oci.image.layer.v1.tar"]);
    const layers = manifest.layers.map((l) => verifiedBlob(layout, l));
    // The base whole; the transform's difference: what it changed and added, and a whiteout for what it deleted.
    expect(layers.map(tarNames)).toEqual([
      ["root/bin/", "root/bin/hi", "root/etc/", "root/etc/motd", "root/etc/old"],
      ["root/etc/.wh.old", "root/etc/motd", "root/etc/new"],
    ]);

    const config = JSON.parse(verifiedBlob(layout, manifest.config).toString("utf8")) as { os: string; architecture: string; rootfs: { type: string; diff_ids: string[] }; history: { created_by: string }[] };
    expect(config.os).toBe("linux");
    expect(config.architecture).toMatch(/^[a-z0-9]+$/);
    // Uncompressed layers: each diff_id is its layer's own digest.
    expect(config.rootfs).toEqual({ type: "layers", diff_ids: manifest.layers.map((l) => l.digest) });
    expect(config.history.map((h) => h.created_by)).toEqual(["rbuild task base", "rbuild task image"]);
    // Nothing in the layout but what the documents name.
    const named = [index.manifests[0]!, manifest.config, ...manifest.layers].map((d) => d.digest.slice(7)).sort();
    expect(readdirSync(join(layout, "blobs/sha256")).sort()).toEqual([...new Set(named)]);
    expect(readdirSync(layout).sort()).toEqual(["blobs", "index.json", "oci-layout"]);
  });

  test.skipIf(!hasSkopeo && process.env.CI === undefined)("27.4: skopeo reads the layout and copies it, checking every digest", async () => {
    const ws = workspace();
    expect((await ws.run(["image"])).exitCode).toBe(0);
    expect((await ws.run(["export", "image", "--oci", "layout"])).exitCode).toBe(0);
    const inspect = spawnSync("skopeo", ["inspect", `oci:${join(ws.root, "layout")}:image`], { encoding: "utf8" });
    expect(inspect.stderr).toBe("");
    const info = JSON.parse(inspect.stdout) as { Layers: string[]; Os: string };
    const manifest = JSON.parse(readFileSync(join(ws.root, "layout/blobs/sha256", (JSON.parse(ws.read("layout/index.json")) as { manifests: Descriptor[] }).manifests[0]!.digest.slice(7)), "utf8")) as { layers: Descriptor[] };
    expect(info.Layers).toEqual(manifest.layers.map((l) => l.digest));
    expect(info.Os).toBe("linux");
    const copy = spawnSync("skopeo", ["copy", `oci:${join(ws.root, "layout")}:image`, `dir:${join(ws.root, "copied")}`], { encoding: "utf8" });
    expect(copy.status).toBe(0);
    for (const layer of manifest.layers) expect(statSync(join(ws.root, "copied", layer.digest.slice(7))).size).toBe(layer.size);
  });

  test("27.4: export refuses a directory that is not empty, and a task with nothing stored", async () => {
    const ws = workspace();
    expect((await ws.run(["image"])).exitCode).toBe(0);
    ws.write({ "full/x": "x" });
    expect(await ws.run(["export", "image", "--oci", "full"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: "rbuild: error: --oci <root>/full is not empty; give a new or empty directory, so that nothing in it is overwritten.\nRun `rbuild --help` for usage.\n",
    });
    expect((await ws.run(["export", "image"])).stderr).toBe("rbuild: error: `rbuild export` needs --oci DIR: the directory to write the OCI image layout to.\nRun `rbuild --help` for usage.\n");
    expect((await ws.run(["export", "never", "--oci", "out"])).stderr).toBe('rbuild: error: Unknown task "never". Run `rbuild list` to see every task.\n');
  });
});
