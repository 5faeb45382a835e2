/**
 * What a restored layer may do to a workspace: no link out of it, no setuid
 * bit from another machine, and no directory mode that later stops rbuild.
 */
import { accessSync, chmodSync, chownSync, constants, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, onTestFinished, test } from "vitest";
import { nobody, letNobodyReach, runAsNobody } from "./test-support/as-nobody.js";
import { RBUILD, testWorkspace, type RunResult, type Workspace } from "./test-support/workspace.js";

let shared: string;
beforeEach(() => {
  shared = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-shared-")));
});
afterEach(() => {
  rmSync(shared, { recursive: true, force: true });
});

const runs = (ws: Workspace): number => (existsSync(join(ws.root, "gen.count")) ? ws.read("gen.count").split("\n").filter(Boolean).length : 0);

describe("20.2: links out of the workspace", () => {
  const files = {
    "Buildfile.ts": `import { task } from "rbuild";
task({ name: "gen", inputs: ["src/**"], outputs: ["dist/**"], run: "echo run >> gen.count; mkdir -p dist && ln -s /etc/passwd dist/passwd" });
`,
    "src/a.txt": "a\n",
  };

  test("20.2: a layer whose link points outside is refused, from a remote and from the local store: a miss, one warning, and the task runs", async () => {
    const remote = `file://${shared}`;
    const first = testWorkspace(files);
    expect((await first.run(["gen", "--remote", remote])).exitCode).toBe(0);
    const warning = 'rbuild: the cached result of task "gen" was dropped: dist/passwd: its link target "/etc/passwd" is outside the workspace; running it again\n';

    const victim = testWorkspace(files);
    const fromRemote = await victim.run(["gen", "--remote", remote]);
    expect([fromRemote.exitCode, fromRemote.stderr, runs(victim)]).toEqual([0, `${warning}rbuild: ok: 1 ran, 0 cached in <t>\n`, 1]);

    rmSync(join(first.root, "dist"), { recursive: true });
    const fromLocal = await first.run(["gen"]);
    expect([fromLocal.exitCode, fromLocal.stderr, runs(first)]).toEqual([0, `${warning}rbuild: ok: 1 ran, 0 cached in <t>\n`, 2]);
  });

  test("20.2: a link whose target is inside by its text but leads out through the workspace's own link is refused", async () => {
    const through = {
      "Buildfile.ts": `import { task } from "rbuild";
task({ name: "gen", inputs: ["src/**"], outputs: ["dist/**"], run: "echo run >> gen.count; mkdir -p dist && ln -s ../ws-link/passwd dist/p" });
`,
      "src/a.txt": "a\n",
    };
    const remote = `file://${shared}`;
    expect((await testWorkspace(through).run(["gen", "--remote", remote])).exitCode).toBe(0);
    const victim = testWorkspace(through);
    symlinkSync("/etc", join(victim.root, "ws-link"));
    const result = await victim.run(["gen", "--remote", remote]);
    expect([result.exitCode, result.stderr, runs(victim)]).toEqual([
      0,
      'rbuild: the cached result of task "gen" was dropped: dist/p: its link target "../ws-link/passwd" leads outside the workspace through a link on the way; running it again\nrbuild: ok: 1 ran, 0 cached in <t>\n',
      1,
    ]);
  });

  test("20.2: a link that stays inside the workspace is restored", async () => {
    const inside = testWorkspace({
      "Buildfile.ts": `import { task } from "rbuild";
task({ name: "gen", inputs: ["src/**"], outputs: ["dist/**"], run: "echo run >> gen.count; mkdir -p dist/sub && ln -s ../../src/a.txt dist/sub/a && ln -s sub dist/here" });
`,
      "src/a.txt": "a\n",
    });
    await inside.run(["gen"]);
    rmSync(join(inside.root, "dist"), { recursive: true });
    const again = await inside.run(["gen"]);
    expect([again.exitCode, again.stderr, runs(inside)]).toEqual([0, "rbuild: ok: 0 ran, 1 cached in <t>\n", 1]);
    expect([readFileSync(join(inside.root, "dist/here/a"), "utf8"), readlinkSync(join(inside.root, "dist/sub/a"))]).toEqual(["a\n", "../../src/a.txt"]);
  });
});

describe("20.4: modes from a remote", () => {
  test("20.4: setuid, setgid and sticky bits are stripped from what a remote sends, and kept in local layers", async () => {
    const files = {
      "Buildfile.ts": `import { task } from "rbuild";
task({ name: "gen", inputs: ["src/**"], outputs: ["out/**"],
  run: "echo run >> gen.count; mkdir -p out/drop && echo '#!/bin/sh' > out/tool && echo x > out/g && chmod 4755 out/tool && chmod 2750 out/g && chmod 1777 out/drop" });
task({ name: "use", deps: ["gen"], inputs: [], outputs: ["use.txt"], run: "stat -c %a out/tool out/g out/drop > use.txt" });
`,
      "src/a.txt": "a\n",
    };
    const remote = `file://${shared}`;
    const first = testWorkspace(files);
    expect((await first.run(["use", "--remote", remote])).exitCode).toBe(0);
    const modes = (ws: Workspace) => ["out/tool", "out/g", "out/drop"].map((path) => (lstatSync(join(ws.root, path)).mode & 0o7777).toString(8));
    expect(modes(first)).toEqual(["4755", "2750", "1777"]);

    const second = testWorkspace(files);
    const restored = await second.run(["use", "--remote", remote, "--summary", "s.json"]);
    expect(restored.exitCode).toBe(0);
    expect(modes(second)).toEqual(["755", "750", "777"]);
    // Its dependent's key sees the modes it got, so it is not the first workspace's hit.
    expect((JSON.parse(second.read("s.json")) as { tasks: { name: string; status: string }[] }).tasks.map((t) => `${t.name} ${t.status}`)).toEqual(["gen cached", "use ran"]);
    expect(second.read("use.txt")).toBe("755\n750\n777\n");
    // Stripped in the store too: a later local restore is the same.
    rmSync(join(second.root, "out"), { recursive: true });
    await second.run(["use"]);
    expect([modes(second), runs(second)]).toEqual([["755", "750", "777"], 0]);

    rmSync(join(first.root, "out"), { recursive: true });
    expect((await first.run(["use"])).exitCode).toBe(0);
    expect([modes(first), runs(first)]).toEqual([["4755", "2750", "1777"], 1]);
  });
});

describe("20.10: a directory of mode 000 in restored outputs", () => {
  test.skipIf("skip" in nobody)(`20.10: builds, clean and clean --cache open it up instead of failing with EACCES, as a user who is not root${"skip" in nobody ? ` (skipped: ${nobody.skip})` : ""}`, async () => {
    const reach = letNobodyReach(RBUILD);
    onTestFinished(() => reach.restore());
    const files = {
      "Buildfile.ts": `import { task } from "rbuild";
task({ name: "gen", inputs: ["src/**"], outputs: ["out/**"], run: "mkdir -p out/locked/deep out/ok && echo hi > out/ok/a.txt && echo x > out/locked/deep/f.txt && chmod 000 out/locked/deep out/locked" });
`,
      "src/a.txt": "a\n",
    };
    // Built where rbuild runs as root (CI), shared through a remote, restored by a user.
    const remote = `file://${shared}`;
    const ci = testWorkspace(files);
    expect((await ci.run(["gen", "--remote", remote])).exitCode).toBe(0);
    spawnSync("chmod", ["-R", "a+rX", shared]);
    chmodSync(shared, 0o755);
    const mine = testWorkspace(files);
    chownSync(mine.root, 65534, 65534);
    for (const path of ["Buildfile.ts", "src", "src/a.txt"]) chownSync(join(mine.root, path), 65534, 65534);
    accessSync(mine.root, constants.R_OK);

    const lines = (result: RunResult) => [result.exitCode, result.stdout, result.stderr];
    const cached = "rbuild: ok: 0 ran, 1 cached in <t>\n";
    expect(lines(await runAsNobody(mine, ["gen", "--remote", remote]))).toEqual([0, "✓ gen (cached, remote)\n", cached]);
    expect(lstatSync(join(mine.root, "out/locked")).mode & 0o7777).toBe(0);
    expect(lines(await runAsNobody(mine, ["gen"]))).toEqual([0, "✓ gen (cached, local)\n", cached]);
    expect(lines(await runAsNobody(mine, ["clean"]))).toEqual([0, "removed 2 output files\n", ""]);
    expect(readdirSync(join(mine.root, "out"))).toEqual([]);
    expect(lines(await runAsNobody(mine, ["gen"]))).toEqual([0, "✓ gen (cached, local)\n", cached]);
    expect([lstatSync(join(mine.root, "out/locked")).mode & 0o7777, readFileSync(join(mine.root, "out/locked/deep/f.txt"), "utf8")]).toEqual([0, "x\n"]);
    expect(lines(await runAsNobody(mine, ["clean", "--cache"]))).toEqual([0, "removed 2 output files\nremoved the cache <root>/.rbuild\n", ""]);
    expect([readdirSync(join(mine.root, "out")), existsSync(join(mine.root, ".rbuild"))]).toEqual([[], false]);
  });
});
