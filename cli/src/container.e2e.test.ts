/** The container runner from the Buildfile (issue 27.2): `runner: { image }` with images the tests build from busybox-static. */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { busyboxRootfs, tarOf, writeOciLayout } from "../../test-support/oci-image.js";
import { testWorkspace, type Workspace } from "./test-support/workspace.js";

const HEADER = `import { task } from "rbuild";\n`;

/** Writes a busybox OCI layout at `dir` (relative to the workspace) whose /etc/image-marker says `marker`. */
function layout(ws: Workspace, dir: string, marker: string): void {
  const rootfs = busyboxRootfs(mkdtempSync(join(tmpdir(), "rbuild-rootfs-")), { "etc/image-marker": marker });
  rmSync(join(ws.root, dir), { recursive: true, force: true });
  writeOciLayout(join(ws.root, dir), [tarOf(rootfs)], ["GREETING=hello from the image"]);
  rmSync(rootfs, { recursive: true, force: true });
}

const TWO =
  HEADER +
  `const image = { image: "images/busybox" };\n` +
  `task({ name: "gen", inputs: ["src/**"], outputs: ["gen/**"], runner: image, run: "mkdir -p gen && cat /etc/image-marker src/a.txt > gen/a.txt && echo $GREETING" });\n` +
  `task({ name: "other", inputs: ["src/**"], outputs: ["other/**"], runner: image, run: "mkdir -p other && test ! -e /etc/os-release && echo none > other/o.txt" });\n`;

test("27.2: a container task runs in an OCI image, reads its input, and its output is cached and restored; two tasks share one unpacked image", async () => {
  const ws = testWorkspace({ "Buildfile.ts": TWO, "src/a.txt": "input\n" });
  layout(ws, "images/busybox", "v1\n");
  expect(await ws.run(["gen", "other", "-j", "1"])).toEqual({
    exitCode: 0,
    stdout: "> gen\n[gen] hello from the image\n✓ gen (<t>)\n> other\n✓ other (<t>)\n",
    stderr: "rbuild: ok: 2 ran, 0 cached in <t>\n",
  });
  expect([ws.read("gen/a.txt"), ws.read("other/o.txt")]).toEqual(["v1\ninput\n", "none\n"]);
  expect(readdirSync(join(ws.root, ".rbuild/images")).filter((name) => !name.startsWith("."))).toHaveLength(1);
  rmSync(join(ws.root, "gen"), { recursive: true });
  expect(await ws.run(["gen"])).toEqual({ exitCode: 0, stdout: "✓ gen (cached, local)\n", stderr: "rbuild: ok: 0 ran, 1 cached in <t>\n" });
  expect(ws.read("gen/a.txt")).toBe("v1\ninput\n");
});

test("27.2: a changed image reruns the task, and rbuild why says image-changed", async () => {
  const ws = testWorkspace({ "Buildfile.ts": TWO, "src/a.txt": "input\n" });
  layout(ws, "images/busybox", "v1\n");
  expect((await ws.run(["gen"])).exitCode).toBe(0);
  expect((await ws.run(["gen"])).stdout).toBe("✓ gen (cached, local)\n");
  layout(ws, "images/busybox", "v2\n");
  expect(await ws.run(["why", "gen"])).toEqual({ exitCode: 0, stdout: "gen would run:\n  image-changed\n", stderr: "" });
  expect(await ws.run(["gen"])).toEqual({ exitCode: 0, stdout: "> gen\n[gen] hello from the image\n✓ gen (<t>)\n", stderr: "rbuild: ok: 1 ran, 0 cached in <t>\n" });
  expect(ws.read("gen/a.txt")).toBe("v2\ninput\n");
  expect(readdirSync(join(ws.root, ".rbuild/images")).filter((name) => !name.startsWith("."))).toHaveLength(2);
});

test("27.2: a missing image fails the task, naming it and what to do; a bad runner is a planning error", async () => {
  const ws = testWorkspace({
    "Buildfile.ts": HEADER + `task({ name: "a", outputs: ["o.txt"], runner: { image: "images/none" }, run: "echo > o.txt" });\n`,
  });
  expect(await ws.run(["a"])).toEqual({
    exitCode: 1,
    stdout: "✗ a (<t>)\n",
    stderr: `error: Task "a" could not start: its image <root>/images/none does not exist. Build or fetch the image there, or fix \`runner: { image }\` (a path relative to the Buildfile).\nrbuild: failed: 0 ran, 0 cached, 1 failed in <t>\n`,
  });
  ws.write({ "Buildfile.ts": HEADER + `task({ name: "a", runner: { image: "../elsewhere", engine: "k8s", cmd: "x" }, run: "true" });\n` });
  expect(await ws.run(["a"])).toEqual({
    exitCode: 2,
    stdout: "",
    stderr:
      'rbuild: error: Buildfile.ts:2:1: Task "a": `runner` has `cmd`, which a container runner does not take (it takes `image` and `engine`)\n' +
      'rbuild: error: Buildfile.ts:2:1: Task "a": `runner` has `engine: "k8s"`; the only engine to ask for is "docker" (leave it out to run the image with bubblewrap)\n' +
      'rbuild: error: Buildfile.ts:2:1: Task "a": `runner` contains "../elsewhere", which leaves the workspace; image paths must stay inside the Buildfile\'s directory\n',
  });
});
