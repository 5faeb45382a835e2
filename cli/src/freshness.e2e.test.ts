/**
 * The freshness record against what can change under it without a stat of
 * its own changing: the index it numbers its builds by starting over, and an
 * input that is a link to a file not there yet.
 */
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { testWorkspace } from "./test-support/workspace.js";

describe("the freshness record", () => {
  test("21.2: an index deleted or truncated by hand takes the freshness records with it: no wrong hit when build numbers repeat", async () => {
    // Task x's command depends on MODE (not declared: the Buildfile picks the command).
    const ws = testWorkspace({
      "Buildfile.ts": `import { task } from "rbuild";
const upper = process.env.MODE === "2";
task({ name: "x", inputs: ["in.txt"], outputs: ["out.txt"], run: upper ? "tr a-z A-Z < in.txt > out.txt" : "cp in.txt out.txt" });
task({ name: "a", deps: ["x"] });
task({ name: "b", deps: ["x"] });
`,
      "in.txt": "hello\n",
    });
    // Five real builds (a no-op is answered from the record and numbers no build): the record names build 5.
    for (let i = 0; i < 5; i++) expect((await ws.run(["a", "--force"], { env: { MODE: "1" } })).exitCode).toBe(0);
    writeFileSync(join(ws.root, ".rbuild/index.sqlite"), "");
    expect((await ws.run(["b"], { env: { MODE: "2" } })).exitCode).toBe(0);
    expect(ws.read("out.txt")).toBe("HELLO\n");
    const back = await ws.run(["a", "--output-logs", "none"], { env: { MODE: "1" } });
    expect([back.exitCode, back.stdout, ws.read("out.txt")]).toEqual([0, "> x\n✓ x (<t>)\n", "hello\n"]);
  });

  test("21.2: an input that is a link to a missing file is checked again each build: its target appearing runs the task", async () => {
    const ws = testWorkspace({
      "Buildfile.ts": `import { task } from "rbuild";
task({ name: "x", inputs: ["src/**"], outputs: ["out.txt"], run: "cat src/*.txt > out.txt 2>/dev/null; echo run >> runs.log" });
`,
      "src/a.txt": "a\n",
    });
    mkdirSync(join(ws.root, "other"));
    symlinkSync("../other/late.txt", join(ws.root, "src/link.txt"));
    expect((await ws.run(["x"])).exitCode).toBe(0);
    expect((await ws.run(["x"])).exitCode).toBe(0);
    writeFileSync(join(ws.root, "other/late.txt"), "LATE\n");
    const after = await ws.run(["x", "--output-logs", "none"]);
    expect([after.exitCode, after.stdout, ws.read("out.txt")]).toEqual([0, "> x\n✓ x (<t>)\n", "a\nLATE\n"]);
  });
});
