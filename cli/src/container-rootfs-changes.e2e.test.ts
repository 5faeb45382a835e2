/** A root filesystem directory image changed in any way (a file added, removed, a link retargeted, a mode): never a stale hit (review4). */
import { chmodSync, rmSync, symlinkSync, utimesSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { busyboxRootfs } from "../../test-support/oci-image.js";
import { testWorkspace } from "./test-support/workspace.js";

test("R4.3: each change to a rootfs image runs the task again in the changed image; undoing it is a hit on the first result", async () => {
  const ws = testWorkspace({
    "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "gen", outputs: ["gen/**"], runner: { image: "images/root" }, run: "mkdir -p gen && (ls -l /etc | cut -c1-10 && ls /etc && readlink /etc/link && cat /etc/link) > gen/a.txt" });\n`,
  });
  const root = join(ws.root, "images/root");
  busyboxRootfs(root, { "etc/marker": "v1\n", "etc/other": "o1\n" });
  symlinkSync("marker", join(root, "etc/link"));
  const ran = "> gen\n✓ gen (<t>)\n";
  const build = async (): Promise<[string, string]> => [(await ws.run(["gen"])).stdout, ws.read("gen/a.txt")];
  const first = await build();
  expect(first[0]).toBe(ran);
  expect(await build()).toEqual(["✓ gen (cached, local)\n", first[1]]);
  // A link retargeted.
  rmSync(join(root, "etc/link"));
  symlinkSync("other", join(root, "etc/link"));
  const retargeted = await build();
  expect([retargeted[0], retargeted[1].split("\n").slice(-3)]).toEqual([ran, ["other", "o1", ""]]);
  // A file added, then removed.
  writeFileSync(join(root, "etc/added"), "a\n");
  const added = await build();
  expect([added[0], added[1].includes("added")]).toEqual([ran, true]);
  rmSync(join(root, "etc/added"));
  expect(await build()).toEqual(["✓ gen (cached, local)\n", retargeted[1]]);
  // A file's mode, then a directory's.
  chmodSync(join(root, "etc/other"), 0o600);
  const moded = await build();
  expect([moded[0], moded[1] === retargeted[1]]).toEqual([ran, false]);
  chmodSync(join(root, "etc/other"), 0o644);
  expect(await build()).toEqual(["✓ gen (cached, local)\n", retargeted[1]]);
  // Content changed with its size and times put back (as `cp -p` or an unpacked tarball would).
  const before = statSync(join(root, "etc/other"));
  writeFileSync(join(root, "etc/other"), "o2\n");
  utimesSync(join(root, "etc/other"), before.atime, before.mtime);
  const edited = await build();
  expect([edited[0], edited[1].split("\n").slice(-3)]).toEqual([ran, ["other", "o2", ""]]);
}, 120_000);
