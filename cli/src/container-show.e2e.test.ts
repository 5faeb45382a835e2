/**
 * `rbuild show` of a container task's run names the image it ran in (issue
 * 27.4 leftovers, item 1): its path as the Buildfile names it, its kind and
 * digest (text and --json); a task that ran in no image shows none.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { expect, test } from "vitest";
import { busyboxRootfs, tarOf, writeOciLayout } from "../../test-support/oci-image.js";
import { testWorkspace, type Workspace } from "./test-support/workspace.js";

const BUILDFILE = `import { task } from "rbuild";
task({ name: "gen", inputs: ["src/**"], outputs: ["gen/**"], runner: { image: "./images//busybox/" }, run: "mkdir -p gen && cat /etc/image-marker src/a.txt > gen/a.txt" });
task({ name: "plain", inputs: ["src/**"], outputs: ["plain.txt"], run: "cp src/a.txt plain.txt" });
`;

/** The workspace, its image an OCI layout at images/busybox; returns the image's manifest digest. */
function workspace(): { ws: Workspace; digest: string } {
  const ws = testWorkspace({ "Buildfile.ts": BUILDFILE, "src/a.txt": "input\n" });
  const rootfs = busyboxRootfs(mkdtempSync(join(tmpdir(), "rbuild-show-")), { "etc/image-marker": "v1\n" });
  const at = join(ws.root, "images/busybox");
  mkdirSync(dirname(at), { recursive: true });
  const digest = writeOciLayout(at, [tarOf(rootfs)], ["PATH=/bin"]);
  rmSync(rootfs, { recursive: true, force: true });
  return { ws, digest };
}

async function ok(ws: Workspace, args: string[]): Promise<string> {
  const result = await ws.run(args);
  expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: "" });
  return result.stdout;
}

/** Times, the host, durations and 64-hex digests masked, and columns two spaces apart, so the text is asserted whole. */
const masked = (text: string): string =>
  text
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/g, "<time>")
    .replaceAll(hostname(), "<host>")
    .replace(/\b\d+(\.\d)?m?s\b/g, "<d>")
    .replace(/(?<!sha256:)\b[0-9a-f]{64}\b/g, "<digest>")
    .replace(/ {2,}/g, "  ");

const showText = (build: number, reasons: string, image: string): string =>
  [
    `gen: run 0 (build ${build}, <time>, on <host>)`,
    `status:  ${build === 1 ? "ran in <d>, exit code 0" : "cached (local cache) in <d>, exit code 0"}`,
    "key:  <digest>",
    `image:  ${image}`,
    `reasons:  ${reasons}`,
    "outputs:  1 output",
    "  gen/a.txt  <digest>",
    "log:  empty",
    "",
  ].join("\n");

test("27.4: show of a container task's run names its image (path as the Buildfile names it, kind, digest), also for a run answered from the freshness record; other tasks show none", async () => {
  const { ws, digest } = workspace();
  expect((await ws.run(["gen", "plain"])).exitCode).toBe(0);
  const image = `images/busybox (OCI image layout, ${digest})`;
  expect(masked(await ok(ws, ["show", "gen"]))).toBe(showText(1, "no-record", image));
  const json = JSON.parse(await ok(ws, ["show", "gen", "--json"])) as Record<string, unknown>;
  expect(json.image).toEqual({ path: "images/busybox", kind: "oci-layout", digest });

  const plain = await ok(ws, ["show", "plain"]);
  expect(masked(plain).split("\n").slice(1, 4)).toEqual(["status:  ran in <d>, exit code 0", "key:  <digest>", "reasons:  no-record"]);
  expect(Object.keys(JSON.parse(await ok(ws, ["show", "plain", "--json"])) as object)).not.toContain("image");

  // Answered from the freshness record: that run identified no image, its key's first run did.
  expect((await ws.run(["gen"])).stdout).toBe("✓ gen (cached, local)\n");
  expect(masked(await ok(ws, ["show", "gen"]))).toBe(showText(2, "-", image));
  expect((JSON.parse(await ok(ws, ["show", "gen", "--run", "1", "--json"])) as Record<string, unknown>).image).toEqual({ path: "images/busybox", kind: "oci-layout", digest });
});

test("27.4: show of a run an older rbuild recorded with the image's absolute path names it as the Buildfile does; one outside the workspace by its absolute path", async () => {
  const { ws, digest } = workspace();
  expect((await ws.run(["gen"])).exitCode).toBe(0);
  const setPath = (path: string): void => {
    const db = new Database(join(ws.root, ".rbuild", "index.sqlite"));
    db.prepare("UPDATE run_images SET path = ?").run(path);
    db.close();
  };
  setPath(join(ws.root, "images/busybox"));
  expect(masked(await ok(ws, ["show", "gen"]))).toBe(showText(1, "no-record", `images/busybox (OCI image layout, ${digest})`));
  setPath("/srv/images/busybox");
  expect(masked(await ok(ws, ["show", "gen"]))).toBe(showText(1, "no-record", `/srv/images/busybox (OCI image layout, ${digest})`));
  expect((JSON.parse(await ok(ws, ["show", "gen", "--json"])) as Record<string, unknown>).image).toEqual({ path: "/srv/images/busybox", kind: "oci-layout", digest });
});
