/**
 * Symbolic link loops (issue 20, red team 2; symlink-rule.ts in @rbuild/hash): a glob that
 * matches a link which leads back to itself (`ln -s b a; ln -s a b`) fails its task with a
 * message naming the link, for inputs and outputs alike, not with an internal ELOOP error.
 */
import { rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { testWorkspace } from "./test-support/workspace.js";

const HEADER = `import { task } from "rbuild";\n`;

const inputLoop = (glob: string, link: string, target: string) =>
  `error: Task "t": its inputs glob "${glob}" matches ${link}, a symbolic link that leads back to itself (${link} -> ${target}): following it never reaches a file, ` +
  `so rbuild cannot read it. Remove the link, point it at a real file, or leave it out with a "!" glob.\n`;

describe("20.rt2: a symbolic link loop", () => {
  test("20.rt2: an input glob that matches a link loop fails the task, naming the link", async () => {
    const ws = testWorkspace({ "Buildfile.ts": `${HEADER}task({ name: "t", inputs: ["src/**"], run: "echo ran > ran.txt" });\n`, "src/x.txt": "x\n" });
    symlinkSync("b", join(ws.root, "src/a2"));
    symlinkSync("a2", join(ws.root, "src/b"));
    expect(await ws.run(["t"])).toEqual({ exitCode: 1, stdout: "✗ t (<t>)\n", stderr: `${inputLoop("src/**", "src/a2", "b")}rbuild: failed: 0 ran, 0 cached, 1 failed in <t>\n` });
  });

  test("20.rt2: an input that becomes a link loop after a build fails the next build the same way", async () => {
    const ws = testWorkspace({ "Buildfile.ts": `${HEADER}task({ name: "t", inputs: ["src/**"], run: "echo ran > ran.txt" });\n`, "src/x.txt": "x\n" });
    expect((await ws.run(["t"])).exitCode).toBe(0);
    rmSync(join(ws.root, "src/x.txt"));
    symlinkSync("y.txt", join(ws.root, "src/x.txt"));
    symlinkSync("x.txt", join(ws.root, "src/y.txt"));
    expect(await ws.run(["t"])).toEqual({ exitCode: 1, stdout: "✗ t (<t>)\n", stderr: `${inputLoop("src/**", "src/x.txt", "y.txt")}rbuild: failed: 0 ran, 0 cached, 1 failed in <t>\n` });
  });

  test("20.rt2: a dangling link among the inputs still builds", async () => {
    const ws = testWorkspace({ "Buildfile.ts": `${HEADER}task({ name: "t", inputs: ["src/**"], run: "echo ran > ran.txt" });\n`, "src/x.txt": "x\n" });
    symlinkSync("nowhere", join(ws.root, "src/dangling"));
    expect(await ws.run(["t"])).toEqual({ exitCode: 0, stdout: "> t\n✓ t (<t>)\n", stderr: "rbuild: ok: 1 ran, 0 cached in <t>\n" });
  });

  test("20.rt2: outputs that match a link loop the task wrote fail the task, and nothing is stored", async () => {
    const ws = testWorkspace({
      "Buildfile.ts": `${HEADER}task({ name: "t", outputs: ["out/**"], run: "mkdir -p out && echo f > out/f && ln -s b out/a && ln -s a out/b" });\n`,
    });
    const failed = {
      exitCode: 1,
      stdout: "> t\n✗ t (<t>)\n",
      stderr:
        `error: Task "t": its outputs glob "out/**" matches out/a, a symbolic link that leads back to itself (out/a -> b): following it never reaches a file, ` +
        `so rbuild cannot store it. Make the task point it at a real file, or leave it out with a "!" glob.\nrbuild: failed: 0 ran, 0 cached, 1 failed in <t>\n`,
    };
    expect(await ws.run(["t"])).toEqual(failed);
    expect(await ws.run(["t"])).toEqual(failed);
  });
});
