/**
 * rbuild run by a user who is not root: what a task leaves unreadable to its
 * own user, and a workspace whose cache another user (root) made.
 */
import { chmodSync, chownSync, lstatSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, afterAll, describe, expect, test } from "vitest";
import { letNobodyReach, nobody, runAsNobody } from "./test-support/as-nobody.js";
import { RBUILD, testWorkspace, type RunResult, type Workspace } from "./test-support/workspace.js";

let reach: { restore(): void } | undefined;
beforeAll(() => {
  if (!("skip" in nobody)) reach = letNobodyReach(RBUILD);
});
afterAll(() => reach?.restore());

/** Gives `ws` and what is in it to uid 65534, as a checkout of that user's. */
function giveToNobody(ws: Workspace): void {
  spawnSync("chown", ["-R", "65534:65534", ws.root]);
  chownSync(ws.root, 65534, 65534);
}

const lines = (result: RunResult) => [result.exitCode, result.stdout, result.stderr];
const skipped = "skip" in nobody ? ` (skipped: ${nobody.skip})` : "";

describe.skipIf("skip" in nobody)("as a user who is not root", () => {
  test(`20.10: a task that makes a directory of mode 000 in its outputs is stored with it, and restored so${skipped}`, async () => {
    const ws = testWorkspace({
      "Buildfile.ts": `import { task } from "rbuild";
task({ name: "gen", inputs: ["src/**"], outputs: ["out/**"], run: "mkdir -p out/locked/deep out/ok && echo hi > out/ok/a.txt && echo x > out/locked/deep/f.txt && chmod 000 out/locked/deep out/locked" });
`,
      "src/a.txt": "a\n",
    });
    giveToNobody(ws);
    expect(lines(await runAsNobody(ws, ["gen"]))).toEqual([0, "> gen\n✓ gen (<t>)\n", "rbuild: ok: 1 ran, 0 cached in <t>\n"]);
    expect(lstatSync(join(ws.root, "out/locked")).mode & 0o7777).toBe(0);
    expect(lines(await runAsNobody(ws, ["clean"]))).toEqual([0, "removed 2 output files\n", ""]);
    expect(lines(await runAsNobody(ws, ["gen"]))).toEqual([0, "✓ gen (cached, local)\n", "rbuild: ok: 0 ran, 1 cached in <t>\n"]);
    expect([lstatSync(join(ws.root, "out/locked")).mode & 0o7777, lstatSync(join(ws.root, "out/locked/deep")).mode & 0o7777, readFileSync(join(ws.root, "out/locked/deep/f.txt"), "utf8")]).toEqual([0, 0, "x\n"]);
  });

  test(`20.10: an output the task left unreadable to its own user fails the task with what to do, not a raw EACCES${skipped}`, async () => {
    const ws = testWorkspace({
      "Buildfile.ts": `import { task } from "rbuild";
task({ name: "gen", inputs: ["src/**"], outputs: ["out/**"], run: "mkdir -p out && echo x > out/secret && chmod 000 out/secret" });
`,
      "src/a.txt": "a\n",
    });
    giveToNobody(ws);
    expect(lines(await runAsNobody(ws, ["gen"]))).toEqual([
      1,
      "> gen\n✗ gen (<t>)\n",
      'error: Task "gen": its output out/secret cannot be read by this user, so it cannot be stored. Make the task leave it readable (chmod u+r, or chown it to this user), or leave it out of `outputs` with a "!" glob.\nrbuild: failed: 0 ran, 0 cached, 1 failed in <t>\n',
    ]);
  });

  test(`20.10: in a workspace whose cache root made, a build (a no-op too), clean, cache and why by another user stop naming the cache and what to do${skipped}`, async () => {
    const ws = testWorkspace({
      "Buildfile.ts": `import { task } from "rbuild";
task({ name: "gen", inputs: ["src/**"], outputs: ["out/**"], run: "mkdir -p out && cp src/a.txt out/" });
`,
      "src/a.txt": "a\n",
    });
    // Built by root (a \`sudo rbuild\`), readable by everyone; a second build leaves the freshness record a no-op reads.
    expect((await ws.run(["gen"])).exitCode).toBe(0);
    spawnSync("chmod", ["-R", "a+rX", ws.root]);
    expect(lines(await ws.run(["gen"]))).toEqual([0, "✓ gen (cached, local)\n", "rbuild: ok: 0 ran, 1 cached in <t>\n"]);

    const refused = [
      2,
      "",
      "rbuild: error: Cannot write in the cache directory <root>/.rbuild: it is owned by root, and rbuild runs as uid 65534. Run rbuild as root, make the cache yours with `sudo chown -R 65534:65534 <root>/.rbuild`, or use a cache of your own: set RBUILD_CACHE_DIR to a directory you can write.\n",
    ];
    for (const args of [["gen"], ["gen", "--force"], ["gen", "--dry-run"], ["clean"], ["cache", "gc"], ["cache", "stats"], ["why", "gen"]]) {
      expect(lines(await runAsNobody(ws, args)), args.join(" ")).toEqual(refused);
    }
    // Nothing was changed, and what only reads still works.
    expect(lines(await runAsNobody(ws, ["list"]))).toEqual([0, "gen\n", ""]);
    expect(lines(await ws.run(["gen"]))).toEqual([0, "✓ gen (cached, local)\n", "rbuild: ok: 0 ran, 1 cached in <t>\n"]);
    // A cache directory open to everyone still holds root's index: that is what is named.
    chmodSync(join(ws.root, ".rbuild"), 0o777);
    expect(lines(await runAsNobody(ws, ["gen"]))).toEqual([
      2,
      "",
      "rbuild: error: Cannot write <root>/.rbuild/index.sqlite: the cache directory <root>/.rbuild is owned by root, and rbuild runs as uid 65534. Run rbuild as root, make the cache yours with `sudo chown -R 65534:65534 <root>/.rbuild`, or use a cache of your own: set RBUILD_CACHE_DIR to a directory you can write.\n",
    ]);
  });
});
