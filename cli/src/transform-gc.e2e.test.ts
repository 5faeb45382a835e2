/** A transform after `rbuild cache gc` dropped its dep's stored result (issue 27.3, found by an independent run). */
import { expect, test } from "vitest";
import { testCacheServer } from "./test-support/cache-server.js";
import { testWorkspace } from "./test-support/workspace.js";

// s1 leaves its dep's files as they are, so the dep's freshness entry still holds.
const BUILDFILE = `import { task } from "rbuild";
const base = task({ name: "base", inputs: ["src/**"], outputs: ["tree/base/**"], run: "mkdir -p tree/base && cp src/a.txt tree/base/a.txt" });
task({ name: "s1", deps: [base], transform: base, inputs: ["suffix.txt"], outputs: ["tree/**"], run: "cat tree/base/a.txt suffix.txt > tree/s1.txt" });
`;

test("27.3: after cache gc dropped its dep's result, a transform that must run runs the dep again instead of failing", async () => {
  const ws = testWorkspace({ "Buildfile.ts": BUILDFILE, "src/a.txt": "a\n", "suffix.txt": "1\n" });
  expect(await ws.run(["s1"])).toEqual({ exitCode: 0, stdout: "> base\n✓ base (<t>)\n> s1\n✓ s1 (<t>)\n", stderr: "rbuild: ok: 2 ran, 0 cached in <t>\n" });
  expect((await ws.run(["cache", "gc", "--max-size", "0"])).exitCode).toBe(0);
  ws.write({ "suffix.txt": "2\n" });
  expect(await ws.run(["s1"])).toEqual({ exitCode: 0, stdout: "> base\n✓ base (<t>)\n> s1\n✓ s1 (<t>)\n", stderr: "rbuild: ok: 2 ran, 0 cached in <t>\n" });
  expect(ws.read("tree/s1.txt")).toBe("a\n2\n");
  // Nothing changed since: nothing runs.
  expect((await ws.run(["s1"])).stderr).toMatch(/^rbuild: (up to date|ok: 0 ran, 2 cached) in <t>\n$/);
  expect(ws.read("tree/s1.txt")).toBe("a\n2\n");
});

test("27.3: after cache gc dropped its dep's result, the dep comes back from the remote cache when it is there", async () => {
  const server = await testCacheServer("rbuild-transform-gc-");
  const ws = testWorkspace({ "Buildfile.ts": BUILDFILE, "src/a.txt": "a\n", "suffix.txt": "1\n" });
  expect((await ws.run(["s1", "--remote", server.url])).stderr).toBe("rbuild: ok: 2 ran, 0 cached in <t>\n");
  expect((await ws.run(["cache", "gc", "--max-size", "0"])).exitCode).toBe(0);
  ws.write({ "suffix.txt": "2\n" });
  expect(await ws.run(["s1", "--remote", server.url])).toEqual({
    exitCode: 0,
    stdout: "✓ base (cached, remote)\n> s1\n✓ s1 (<t>)\n",
    stderr: "rbuild: ok: 1 ran, 1 cached in <t>\n",
  });
  expect(ws.read("tree/s1.txt")).toBe("a\n2\n");
});
