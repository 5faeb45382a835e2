import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { byTask } from "./test-support/task-lines.js";
import { Workspace } from "./test-support/workspace.js";

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.remove());

// Each appends a line naming its input to its own output, as a tool with its own cache adds to it.
// Only "warm" is incremental: on a miss it finds what its last successful run left.
const BUILDFILE = `import { task } from "rbuild";
task({ name: "warm", incremental: true, inputs: ["src/**"], outputs: ["out/warm/**"],
  run: "mkdir -p out/warm && touch out/warm/cache.log && echo \\"seen: $(wc -l < out/warm/cache.log) lines\\" && cat src/input >> out/warm/cache.log" });
task({ name: "cold", inputs: ["src/**"], outputs: ["out/cold/**"],
  run: "mkdir -p out/cold && touch out/cold/cache.log && cat src/input >> out/cold/cache.log" });
`;

async function build(): Promise<{ exitCode: number | undefined; stdout: string; stderr: string }> {
  return ws.run(["warm", "cold", "-j", "1"]);
}

function edit(text: string): void {
  writeFileSync(join(ws.root, "src/input"), text);
}

describe("warm starts", () => {
  test("26.6: on a miss an incremental task starts from the outputs of its last successful run; a hit restores its own", async () => {
    ws.write({ "Buildfile.ts": BUILDFILE, "src/input": "one\n" });
    expect((await build()).exitCode).toBe(0);
    edit("two\n");
    const second = await build();
    expect(second).toEqual({
      exitCode: 0,
      stdout: "> cold\n✓ cold (<t>)\n> warm\n[warm] seen: 1 lines\n✓ warm (<t>)\n",
      stderr: "rbuild: ok: 2 ran, 0 cached in <t>\n",
    });
    expect([ws.read("out/warm/cache.log"), ws.read("out/cold/cache.log")]).toEqual(["one\ntwo\n", "two\n"]);

    // Back to the first input: a hit, which restores that run's outputs exactly, never a warm start.
    edit("one\n");
    const hit = await build();
    // Two restores from the cache, even with -j 1, run beside each other and may end in either order.
    expect(byTask(hit)).toEqual({ exitCode: 0, stdout: "✓ cold (cached, local)\n✓ warm (cached, local)\n", stderr: "rbuild: ok: 0 ran, 2 cached in <t>\n" });
    expect([ws.read("out/warm/cache.log"), ws.read("out/cold/cache.log")]).toEqual(["one\n", "one\n"]);

    // The last successful run is now that restore: the next miss starts from its outputs.
    edit("three\n");
    await build();
    expect(ws.read("out/warm/cache.log")).toBe("one\nthree\n");

    // --force ignores what is cached, the last outputs too.
    await ws.run(["warm", "--force"]);
    expect(ws.read("out/warm/cache.log")).toBe("three\n");
  });

  test("26.6: after a failed run, the next miss starts from the outputs of the last run that succeeded", async () => {
    ws.write({ "Buildfile.ts": BUILDFILE.replace("cat src/input >> out/warm/cache.log", "cat src/input >> out/warm/cache.log && ! grep -q fail src/input"), "src/input": "one\n" });
    expect((await build()).exitCode).toBe(0);
    edit("fail\n");
    expect((await build()).exitCode).toBe(1);
    expect(ws.read("out/warm/cache.log")).toBe("one\nfail\n");
    edit("three\n");
    const after = await build();
    expect(after.exitCode).toBe(0);
    expect(ws.read("out/warm/cache.log")).toBe("one\nthree\n");
  });

  test("26.6: after `rbuild clean --cache` an incremental task starts cold; after gc removed its last outputs, cold with an info line", async () => {
    ws.write({ "Buildfile.ts": BUILDFILE, "src/input": "one\n" });
    await build();
    const clean = await ws.run(["clean", "--cache"]);
    expect(clean.exitCode).toBe(0);
    edit("two\n");
    const afterClean = await build();
    expect(afterClean).toEqual({
      exitCode: 0,
      stdout: "> cold\n✓ cold (<t>)\n> warm\n[warm] seen: 0 lines\n✓ warm (<t>)\n",
      stderr: "rbuild: ok: 2 ran, 0 cached in <t>\n",
    });
    expect(ws.read("out/warm/cache.log")).toBe("two\n");

    const gc = await ws.run(["cache", "gc", "--max-size", "0"]);
    expect(gc.exitCode).toBe(0);
    edit("three\n");
    const afterGc = await build();
    expect(afterGc).toEqual({
      exitCode: 0,
      stdout: "> cold\n✓ cold (<t>)\n> warm\n[warm] seen: 0 lines\n✓ warm (<t>)\n",
      stderr: `rbuild: task "warm": starts cold: the outputs of its last successful run are gone from the cache (removed by gc)\nrbuild: ok: 2 ran, 0 cached in <t>\n`,
    });
    expect(ws.read("out/warm/cache.log")).toBe("three\n");
  });

  test("26.6: `incremental` needs a pure task and a boolean", async () => {
    ws.write({
      "Buildfile.ts": `import { task } from "rbuild";
task({ name: "deploy", pure: false, incremental: true, run: "true" });
task({ name: "odd", incremental: "yes" as unknown as boolean, run: "true" });
`,
    });
    const result = await ws.run(["deploy"]);
    expect(result).toEqual({
      exitCode: 2,
      stdout: "",
      stderr:
        'rbuild: error: Buildfile.ts:2:1: Task "deploy": `incremental` needs a pure task: an impure task always runs and keeps no result to start from. Remove `incremental` or `pure: false`\n' +
        'rbuild: error: Buildfile.ts:3:1: Task "odd": `incremental` must be true or false, got "yes"\n',
    });
  });
});
