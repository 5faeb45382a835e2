/** `rbuild export --oci` of a container task: its image below its layers (issue 27.4), from images the tests build from busybox-static. */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, test } from "vitest";
import { busyboxRootfs, tarOf, writeDockerArchive, writeOciLayout } from "../../test-support/oci-image.js";
import { checkLayout, treeListing, unpackLayers } from "./test-support/oci-check.js";
import { testWorkspace, type Workspace } from "./test-support/workspace.js";

const BUILDFILE = `import { task } from "rbuild";
task({ name: "gen", inputs: ["src/**"], outputs: ["gen/**"], runner: { image: "images/busybox" },
  run: "mkdir -p gen && cat /etc/image-marker src/a.txt > gen/a.txt && ln -s a.txt gen/link" });
`;
const ENV = ["PATH=/bin", "GREETING=hello from the image"];
type Form = "oci-layout" | "docker-archive" | "rootfs";

const sha256 = (bytes: Buffer): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
const temp = (): string => mkdtempSync(join(tmpdir(), "rbuild-base-"));

/** Writes the busybox image at images/busybox in `form`, /etc/image-marker saying `marker`; returns its layer tar (none for a rootfs). */
function writeImage(ws: Workspace, form: Form, marker: string): Buffer | undefined {
  const at = join(ws.root, "images/busybox");
  rmSync(at, { recursive: true, force: true });
  if (form === "rootfs") {
    busyboxRootfs(at, { "etc/image-marker": marker });
    return undefined;
  }
  const rootfs = busyboxRootfs(temp(), { "etc/image-marker": marker });
  const layer = tarOf(rootfs);
  mkdirSync(dirname(at), { recursive: true });
  if (form === "oci-layout") writeOciLayout(at, [layer], ENV);
  else writeDockerArchive(at, temp(), [layer], ENV);
  rmSync(rootfs, { recursive: true, force: true });
  return layer;
}

function workspace(form: Form): { ws: Workspace; layer: Buffer | undefined } {
  const ws = testWorkspace({ "Buildfile.ts": BUILDFILE, "src/a.txt": "input\n" });
  return { ws, layer: writeImage(ws, form, "v1\n") };
}

const KIND = { "oci-layout": "OCI image layout", "docker-archive": "`docker save` tarball", rootfs: "root filesystem directory" } as const;
const hasSkopeo = spawnSync("skopeo", ["--version"]).status === 0;

describe.each(["oci-layout", "docker-archive", "rootfs"] as const)("rbuild export --oci of a container task, its image a %s", (form) => {
  test(`27.4: the ${form} image's layers, then the task's, under the image's config; digests and diff_ids verify; unpacked it is busybox plus the outputs`, async () => {
    const { ws, layer } = workspace(form);
    expect((await ws.run(["gen"])).exitCode).toBe(0);
    const result = await ws.run(["export", "gen", "--oci", "out"]);
    expect({ ...result, stdout: result.stdout.replace(/sha256:[0-9a-f]{64}/, "sha256:<digest>") }).toEqual({
      exitCode: 0,
      stdout: `Wrote task "gen" run 0 (build 1) to <root>/out: an OCI image layout of 2 layers (1 of them its image <root>/images/busybox's, below its own), manifest sha256:<digest>\n`,
      stderr: "",
    });
    const out = join(ws.root, "out");
    const checked = checkLayout(out);
    expect(checked.manifest.layers.map((l) => l.mediaType)).toEqual(["application/vnd.oci.image.layer.v1.tar", "application/vnd.oci.image.layer.v1.tar"]);
    // An OCI layout's or tarball's layer is kept byte for byte: the same digest as the image has.
    if (layer !== undefined) expect(checked.manifest.layers[0]!.digest).toBe(sha256(layer));
    if (form === "rootfs") {
      expect(checked.config.config).toEqual({});
      expect(checked.config.history.map((h) => h.created_by)).toEqual(["base image (a root filesystem directory)", "rbuild task gen"]);
    } else {
      // The image's config: its Env and Cmd kept, its rootfs and history extended.
      expect(checked.config.config).toEqual({ Env: ENV, Cmd: ["/bin/false"] });
      expect(checked.config.history.map((h) => h.created_by)).toEqual(["base image layer 1", "rbuild task gen"]);
    }
    expect([checked.config.os, checked.config.architecture]).toEqual(["linux", process.arch === "x64" ? "amd64" : process.arch]);

    const unpacked = temp();
    unpackLayers(checked.tars, unpacked);
    const expected = busyboxRootfs(temp(), { "etc/image-marker": "v1\n", "gen/a.txt": "v1\ninput\n" });
    spawnSync("ln", ["-s", "a.txt", join(expected, "gen/link")]);
    expect(treeListing(unpacked)).toEqual(treeListing(expected));
    expect(readFileSync(join(unpacked, "gen/a.txt"), "utf8")).toBe("v1\ninput\n");

    if (form === "rootfs") {
      // Packed the same way every time: a second export is byte-identical.
      expect((await ws.run(["export", "gen", "--oci", "again"])).exitCode).toBe(0);
      expect(treeListing(join(ws.root, "again"))).toEqual(treeListing(out));
    }
  });

  test.skipIf(!hasSkopeo && process.env.CI === undefined)(`27.4: skopeo inspects the export of a task in a ${form} image and copies it to dir:, checking every digest`, async () => {
    const { ws } = workspace(form);
    expect((await ws.run(["gen"])).exitCode).toBe(0);
    expect((await ws.run(["export", "gen", "--oci", "out"])).exitCode).toBe(0);
    const checked = checkLayout(join(ws.root, "out"));
    const inspect = spawnSync("skopeo", ["inspect", `oci:${join(ws.root, "out")}:gen`], { encoding: "utf8" });
    expect(inspect.stderr).toBe("");
    const info = JSON.parse(inspect.stdout) as { Layers: string[]; Os: string; Env?: string[] };
    expect([info.Layers, info.Os, info.Env ?? null]).toEqual([checked.manifest.layers.map((l) => l.digest), "linux", form === "rootfs" ? null : ENV]);
    const copy = spawnSync("skopeo", ["copy", `oci:${join(ws.root, "out")}:gen`, `dir:${join(ws.root, "copied")}`], { encoding: "utf8" });
    expect([copy.status, copy.stderr]).toEqual([0, ""]);
    for (const layer of checked.manifest.layers) expect(sha256(readFileSync(join(ws.root, "copied", layer.digest.slice(7))))).toBe(layer.digest);
  });

  test(`27.4: export refuses when the ${form} image changed or went since the run, naming it and what to do; a run answered from the freshness record exports`, async () => {
    const { ws } = workspace(form);
    expect((await ws.run(["gen"])).exitCode).toBe(0);
    // Answered from the freshness record: this run identified no image; its key's first run did.
    expect((await ws.run(["gen"])).stdout).toBe("✓ gen (cached, local)\n");
    expect((await ws.run(["export", "gen", "--oci", "fresh"])).exitCode).toBe(0);
    expect(checkLayout(join(ws.root, "fresh")).tars).toHaveLength(2);

    const run = (await ws.run(["show", "gen", "--json"])).stdout;
    expect(JSON.parse(run)).toMatchObject({ run: 0, build: 2 });
    const digest = /\((sha256:[0-9a-f]{64})\)/;
    writeImage(ws, form, "v2\n");
    const changed = await ws.run(["export", "gen", "--oci", "out"]);
    expect({ ...changed, stderr: changed.stderr.replace(digest, "(sha256:<was>)").replace(/digest sha256:[0-9a-f]{64}/, "digest sha256:<now>") }).toEqual({
      exitCode: 1,
      stdout: "",
      stderr:
        `rbuild: error: cannot export task "gen" run 0 (build 2): the image it ran in, the ${KIND[form]} <root>/images/busybox (sha256:<was>), has changed since that run (it has digest sha256:<now> now); ` +
        "its layers would go over another base. Put the image it ran in back at <root>/images/busybox, or rebuild the task in the image there now (`rbuild gen`) and export its new run.\n",
    });
    rmSync(join(ws.root, "images/busybox"), { recursive: true });
    const gone = await ws.run(["export", "gen", "--oci", "out"]);
    expect({ ...gone, stderr: gone.stderr.replace(digest, "(sha256:<was>)") }).toEqual({
      exitCode: 1,
      stdout: "",
      stderr:
        `rbuild: error: cannot export task "gen" run 0 (build 2): the image it ran in, the ${KIND[form]} <root>/images/busybox (sha256:<was>), cannot be read now: ` +
        "its image <root>/images/busybox does not exist. Build or fetch the image there, or fix `runner: { image }` (a path relative to the Buildfile). " +
        "Put that image back at <root>/images/busybox, or rebuild the task in the image there now (`rbuild gen`) and export its new run.\n",
    });
  });
});
