/**
 * `engine: "docker"` from the Buildfile (issue 27.2), with the fake docker of test-support/fake-docker
 * first on PATH (no engine runs on this machine): it runs the containers for real, under bubblewrap.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, onTestFinished, test } from "vitest";
import { fakeDocker, type FakeDocker } from "../../test-support/fake-docker/fake-docker.js";
import { busyboxRootfs, tarOf, writeOciLayout } from "../../test-support/oci-image.js";
import { testWorkspace, type Workspace } from "./test-support/workspace.js";

const HEADER = `import { task } from "rbuild";\nconst image = { image: "images/busybox", engine: "docker" };\n`;
const TIMEOUT = 120_000;

function withDocker(): FakeDocker {
  const docker = fakeDocker();
  onTestFinished(() => docker.remove());
  return docker;
}

function layout(ws: Workspace, marker: string): void {
  const rootfs = busyboxRootfs(mkdtempSync(join(tmpdir(), "rbuild-rootfs-")), { "etc/image-marker": marker });
  writeOciLayout(join(ws.root, "images/busybox"), [tarOf(rootfs)], ["GREETING=hello from the image"]);
  rmSync(rootfs, { recursive: true, force: true });
}

test("27.2: engine docker: a task runs in the loaded image, reads its input, its output is cached and restored; two tasks load the image once", { timeout: TIMEOUT }, async () => {
  const docker = withDocker();
  const ws = testWorkspace({
    "Buildfile.ts":
      HEADER +
      `task({ name: "gen", inputs: ["src/**"], outputs: ["gen/**"], runner: image, run: "mkdir -p gen && cat /etc/image-marker src/a.txt > gen/a.txt && echo $GREETING" });\n` +
      `task({ name: "other", outputs: ["other/**"], runner: image, run: "mkdir -p other && grep -c : /proc/net/dev > other/links.txt" });\n`,
    "src/a.txt": "input\n",
  });
  layout(ws, "v1\n");
  expect(await ws.run(["gen", "other", "-j", "1"], { env: docker.env })).toEqual({
    exitCode: 0,
    stdout: "> gen\n[gen] hello from the image\n✓ gen (<t>)\n> other\n✓ other (<t>)\n",
    stderr: "rbuild: ok: 2 ran, 0 cached in <t>\n",
  });
  // One network link, loopback: no network by default.
  expect([ws.read("gen/a.txt"), ws.read("other/links.txt")]).toEqual(["v1\ninput\n", "1\n"]);
  expect(docker.calls().map((call) => call[0])).toEqual(["image", "load", "tag", "run", "image", "run"]);
  expect(existsSync(join(ws.root, ".rbuild/images"))).toBe(false); // Nothing unpacked for bubblewrap.
  rmSync(join(ws.root, "gen"), { recursive: true });
  expect(await ws.run(["gen"], { env: docker.env })).toEqual({ exitCode: 0, stdout: "✓ gen (cached, local)\n", stderr: "rbuild: ok: 0 ran, 1 cached in <t>\n" });
  expect(ws.read("gen/a.txt")).toBe("v1\ninput\n");
  expect(docker.calls()).toHaveLength(6);
});

test("27.2: engine docker: a failing command fails the task with its exit code", { timeout: TIMEOUT }, async () => {
  const docker = withDocker();
  const ws = testWorkspace({ "Buildfile.ts": HEADER + `task({ name: "bad", runner: image, run: "echo nope >&2; exit 7" });\n` });
  layout(ws, "v1\n");
  expect(await ws.run(["bad"], { env: docker.env })).toEqual({
    exitCode: 1,
    stdout: "> bad\n✗ bad (<t>)\n",
    stderr: '[bad] nope\nerror: Task "bad" failed: its command exited with code 7.\nrbuild: failed: 0 ran, 0 cached, 1 failed in <t>\n',
  });
});

test("27.2: engine docker: Ctrl-C removes the running task's container (stopping its client does not)", { timeout: TIMEOUT }, async () => {
  const docker = withDocker();
  const ws = testWorkspace({ "Buildfile.ts": HEADER + `task({ name: "long", runner: image, run: "echo waiting; sleep 600" });\n` });
  layout(ws, "v1\n");
  const child = ws.start(["long"], { env: docker.env });
  let stdout = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  for (let tries = 0; !stdout.includes("waiting") && tries < 1200; tries++) await new Promise((resolve) => setTimeout(resolve, 100));
  const [container] = docker.containers();
  expect(container).toBeDefined();
  child.kill("SIGINT");
  const result = await child;
  expect(result.exitCode).toBe(130);
  expect(docker.calls().at(-1)).toEqual(["rm", "-f", container!.name]);
  expect(docker.containers()).toEqual([]);
  // Gone, or a zombie its new parent has not reaped yet: not running.
  const stat = `/proc/${container!.pid}/stat`;
  expect(["gone", "Z"]).toContain(existsSync(stat) ? readFileSync(stat, "utf8").split(") ")[1]![0] : "gone");
});
