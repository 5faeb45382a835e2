/** A container task whose image is a root filesystem directory (issue 27.2), found by an independent run (27.4 item 3). */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { busyboxRootfs } from "../../test-support/oci-image.js";
import { testWorkspace } from "./test-support/workspace.js";

test("27.2: a task in a root filesystem directory image is cached and restored: the image's directories are not taken for inputs that went while it ran", async () => {
  const ws = testWorkspace({
    "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "gen", inputs: ["src/**"], outputs: ["gen/**"], runner: { image: "images/root" }, run: "mkdir -p gen && cat /etc/marker src/a.txt > gen/a.txt" });\n`,
    "src/a.txt": "input\n",
  });
  busyboxRootfs(join(ws.root, "images/root"), { "etc/marker": "v1\n" });
  expect(await ws.run(["gen"])).toEqual({ exitCode: 0, stdout: "> gen\n✓ gen (<t>)\n", stderr: "rbuild: ok: 1 ran, 0 cached in <t>\n" });
  expect(await ws.run(["gen"])).toEqual({ exitCode: 0, stdout: "✓ gen (cached, local)\n", stderr: "rbuild: ok: 0 ran, 1 cached in <t>\n" });
  rmSync(join(ws.root, "gen"), { recursive: true });
  expect(await ws.run(["gen"])).toEqual({ exitCode: 0, stdout: "✓ gen (cached, local)\n", stderr: "rbuild: ok: 0 ran, 1 cached in <t>\n" });
  expect(ws.read("gen/a.txt")).toBe("v1\ninput\n");
  // A changed file in the image is seen, and the task runs in the new image.
  ws.write({ "images/root/etc/marker": "v2\n" });
  expect(await ws.run(["why", "gen"])).toEqual({ exitCode: 0, stdout: "gen would run:\n  image-changed\n", stderr: "" });
  expect((await ws.run(["gen"])).stdout).toBe("> gen\n✓ gen (<t>)\n");
  expect(ws.read("gen/a.txt")).toBe("v2\ninput\n");
});
