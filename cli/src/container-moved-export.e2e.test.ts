/**
 * `rbuild export --oci` of a container task after its workspace was moved
 * (issue 27.4 leftovers, item 3): the index records an image inside the
 * workspace by its path relative to the workspace root, so the moved copy
 * finds it again; a row an older rbuild wrote (an absolute path) still exports.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, onTestFinished, test } from "vitest";
import { busyboxRootfs, tarOf, writeOciLayout } from "../../test-support/oci-image.js";
import { checkLayout, treeListing } from "./test-support/oci-check.js";
import { testWorkspace, type Workspace } from "./test-support/workspace.js";

const BUILDFILE = `import { task } from "rbuild";
task({ name: "gen", inputs: ["src/**"], outputs: ["gen/**"], runner: { image: "images/busybox" }, run: "mkdir -p gen && cat /etc/image-marker src/a.txt > gen/a.txt" });
`;
type Form = "oci-layout" | "rootfs";
const KIND = { "oci-layout": "OCI image layout", rootfs: "root filesystem directory" } as const;

function workspace(form: Form): Workspace {
  const ws = testWorkspace({ "Buildfile.ts": BUILDFILE, "src/a.txt": "input\n" });
  const at = join(ws.root, "images/busybox");
  if (form === "rootfs") busyboxRootfs(at, { "etc/image-marker": "v1\n" });
  else {
    const rootfs = busyboxRootfs(mkdtempSync(join(tmpdir(), "rbuild-moved-")), { "etc/image-marker": "v1\n" });
    mkdirSync(dirname(at), { recursive: true });
    writeOciLayout(at, [tarOf(rootfs)], ["PATH=/bin"]);
    rmSync(rootfs, { recursive: true, force: true });
  }
  return ws;
}

const recordedPaths = (root: string): string[] => {
  const db = new Database(join(root, ".rbuild", "index.sqlite"), { readonly: true });
  try {
    return db.prepare("SELECT path FROM run_images").pluck().all() as string[];
  } finally {
    db.close();
  }
};

const manifest = (stdout: string): string => stdout.replace(/manifest sha256:[0-9a-f]{64}/, "manifest sha256:<digest>");

describe.each(["oci-layout", "rootfs"] as const)("export of a container task in a %s image", (form) => {
  test(`27.4: after the workspace is moved (cp -a, the original removed), the ${form} image is found at its place in the moved workspace, and the export is the same`, async () => {
    const ws = workspace(form);
    expect((await ws.run(["gen"])).exitCode).toBe(0);
    expect((await ws.run(["export", "gen", "--oci", "before"])).exitCode).toBe(0);

    const moved = `${ws.root}-moved`;
    onTestFinished(() => rmSync(moved, { recursive: true, force: true }));
    expect(spawnSync("cp", ["-a", ws.root, moved]).status).toBe(0);
    rmSync(ws.root, { recursive: true, force: true });
    const result = await ws.run(["export", "gen", "--oci", "after"], { cwd: moved });
    expect({ ...result, stdout: manifest(result.stdout) }).toEqual({
      exitCode: 0,
      stdout: `Wrote task "gen" run 0 (build 1) to <root>-moved/after: an OCI image layout of 2 layers (1 of them its image <root>-moved/images/busybox's, below its own), manifest sha256:<digest>\n`,
      stderr: "",
    });
    checkLayout(join(moved, "after"));
    expect(treeListing(join(moved, "after"))).toEqual(treeListing(join(moved, "before")));
    // Recorded relative to the workspace root, as the Buildfile names it.
    expect(recordedPaths(moved)).toEqual(["images/busybox"]);
  });

  test(`27.4: a run recorded with the ${form} image's absolute path (by an older rbuild) still exports, and still refuses once that path is gone`, async () => {
    const ws = workspace(form);
    expect((await ws.run(["gen"])).exitCode).toBe(0);
    const db = new Database(join(ws.root, ".rbuild", "index.sqlite"));
    db.prepare("UPDATE run_images SET path = ?").run(join(ws.root, "images/busybox"));
    db.close();
    const result = await ws.run(["export", "gen", "--oci", "out"]);
    expect({ ...result, stdout: manifest(result.stdout) }).toEqual({
      exitCode: 0,
      stdout: `Wrote task "gen" run 0 (build 1) to <root>/out: an OCI image layout of 2 layers (1 of them its image <root>/images/busybox's, below its own), manifest sha256:<digest>\n`,
      stderr: "",
    });
    checkLayout(join(ws.root, "out"));

    // Moved: the absolute path names the old place, which is gone; the message names it.
    const moved = `${ws.root}-moved`;
    onTestFinished(() => rmSync(moved, { recursive: true, force: true }));
    expect(spawnSync("cp", ["-a", ws.root, moved]).status).toBe(0);
    rmSync(ws.root, { recursive: true, force: true });
    const gone = await ws.run(["export", "gen", "--oci", "again"], { cwd: moved });
    expect({ ...gone, stderr: gone.stderr.replace(/\(sha256:[0-9a-f]{64}\)/, "(sha256:<was>)") }).toEqual({
      exitCode: 1,
      stdout: "",
      stderr:
        `rbuild: error: cannot export task "gen" run 0 (build 1): the image it ran in, the ${KIND[form]} <root>/images/busybox (sha256:<was>), cannot be read now: ` +
        "its image <root>/images/busybox does not exist. Build or fetch the image there, or fix `runner: { image }` (a path relative to the Buildfile). " +
        "Put that image back at <root>/images/busybox, or rebuild the task in the image there now (`rbuild gen`) and export its new run.\n",
    });
  });
});
