/**
 * `rbuild export --oci` writes a `created` date that keeps the export
 * deterministic (issue 27.4 leftovers, item 2): the Unix epoch for an image
 * with no dated base, and skopeo reads it; the same task result exports
 * byte-identically, also after it is built again.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { expect, test } from "vitest";
import { busyboxRootfs } from "../../test-support/oci-image.js";
import { checkLayout, treeListing } from "./test-support/oci-check.js";
import { testWorkspace } from "./test-support/workspace.js";

const BUILDFILE = `import { task } from "rbuild";
task({ name: "plain", inputs: ["src/**"], outputs: ["out/**"], run: "mkdir -p out && cp src/a.txt out/a.txt" });
task({ name: "boxed", inputs: ["src/**"], outputs: ["gen/**"], runner: { image: "images/root" }, run: "mkdir -p gen && cat /etc/marker src/a.txt > gen/a.txt" });
`;
const EPOCH = "1970-01-01T00:00:00Z";
const hasSkopeo = spawnSync("skopeo", ["--version"]).status === 0;

test.each(["plain", "boxed"])("27.4: the export of %s is created at the Unix epoch, skopeo reads that date, and building the task again exports the same bytes", async (task) => {
  const ws = testWorkspace({ "Buildfile.ts": BUILDFILE, "src/a.txt": "input\n" });
  busyboxRootfs(join(ws.root, "images/root"), { "etc/marker": "v1\n" });
  expect((await ws.run([task])).exitCode).toBe(0);
  expect((await ws.run(["export", task, "--oci", "first"])).exitCode).toBe(0);
  expect((checkLayout(join(ws.root, "first")).config as { created?: string }).created).toBe(EPOCH);
  if (hasSkopeo || process.env.CI !== undefined) {
    const inspect = spawnSync("skopeo", ["inspect", `oci:${join(ws.root, "first")}:${task}`], { encoding: "utf8" });
    expect([inspect.status, inspect.stderr]).toEqual([0, ""]);
    expect((JSON.parse(inspect.stdout) as { Created?: string }).Created).toBe(EPOCH);
    const config = spawnSync("skopeo", ["inspect", "--config", `oci:${join(ws.root, "first")}:${task}`], { encoding: "utf8" });
    expect((JSON.parse(config.stdout) as { created?: string }).created).toBe(EPOCH);
  }
  expect((await ws.run([task, "--force"])).exitCode).toBe(0);
  expect((await ws.run(["export", task, "--oci", "again"])).exitCode).toBe(0);
  expect(treeListing(join(ws.root, "again"))).toEqual(treeListing(join(ws.root, "first")));
});
