/** A root filesystem directory image's files are hashed through the stat cache (issue 27.4, optional): once, not every time a key is computed. */
import { join } from "node:path";
import { expect, test } from "vitest";
import { busyboxRootfs } from "../../test-support/oci-image.js";
import { testWorkspace } from "./test-support/workspace.js";

const hashed = (stderr: string): number => {
  const [, here, helper] = /inputs hashed (\d+) \(and (\d+) on a helper thread\)/.exec(stderr) ?? [];
  return Number(here) + Number(helper);
};

test("27.4: a rootfs directory image's files are hashed once, then known by their stats, as inputs are", async () => {
  const ws = testWorkspace({
    "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "gen", inputs: ["src/**"], outputs: ["gen/**"], runner: { image: "images/root" }, run: "mkdir -p gen && cat /etc/marker src/a.txt > gen/a.txt" });\n`,
    "src/a.txt": "one\n",
  });
  // Two files (bin/busybox, etc/marker); the applets are links.
  busyboxRootfs(join(ws.root, "images/root"), { "etc/marker": "v1\n" });
  const first = await ws.run(["gen"], { env: { RBUILD_PHASES: "1" } });
  expect([first.exitCode, hashed(first.stderr)]).toEqual([0, 3]);
  ws.write({ "src/a.txt": "two\n" });
  const second = await ws.run(["gen"], { env: { RBUILD_PHASES: "1" } });
  // Its key is computed again: only the changed input is read.
  expect([second.exitCode, hashed(second.stderr), ws.read("gen/a.txt")]).toEqual([0, 1, "v1\ntwo\n"]);
  ws.write({ "images/root/etc/marker": "v2\n" });
  const third = await ws.run(["gen"], { env: { RBUILD_PHASES: "1" } });
  expect([third.exitCode, hashed(third.stderr), ws.read("gen/a.txt")]).toEqual([0, 1, "v2\ntwo\n"]);
});
