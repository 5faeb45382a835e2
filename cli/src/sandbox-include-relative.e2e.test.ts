/** An undeclared header a compiler looked for relative to the file that includes it (issue 27.1, an independent run of 27.4 item 3). */
import { spawnSync } from "node:child_process";
import { expect, test } from "vitest";
import { testWorkspace } from "./test-support/workspace.js";

const hasCc = spawnSync("cc", ["--version"]).status === 0;

const BUILDFILE =
  `import { task } from "rbuild";\n` +
  `export const compile = task({ name: "compile", inputs: ["src/**"], outputs: ["build/main"], run: "mkdir -p build && cc -o build/main src/main.c" });\n` +
  `task({ name: "test", deps: [compile], outputs: ["build/out.txt"], run: "./build/main > build/out.txt" });\n`;

test.skipIf(!hasCc && process.env.CI === undefined)("27.1: a header included as \"../include/greet.h\" (relative to the including file), not an input, is named as the undeclared read with the glob to add", async () => {
  const ws = testWorkspace({
    "Buildfile.ts": BUILDFILE,
    "src/main.c": `#include <stdio.h>\n#include "../include/greet.h"\nint main(void) { printf("%s\\n", GREETING); return 0; }\n`,
    "include/greet.h": `#define GREETING "hello"\n`,
  });
  const result = await ws.run(["test", "--sandbox"]);
  // The compiler's own lines (its version's wording) are left out.
  expect({ ...result, stderr: result.stderr.replace(/^\[compile\] .*\n/gm, "") }).toEqual({
    exitCode: 1,
    stdout: "> compile\n✗ compile (<t>)\n- test skipped (dependency-failed: compile)\n",
    stderr:
      'error: Task "compile" read include/greet.h, which is not among its inputs or its deps\' outputs: in its sandbox it is missing, and it exited with code 1. Add "include/greet.h" to its `inputs` (or make the task that writes it one of its deps).\n' +
      "rbuild: failed: 0 ran, 0 cached, 1 failed, 1 skipped in <t>\n",
  });
  ws.write({ "Buildfile.ts": BUILDFILE.replace(`inputs: ["src/**"]`, `inputs: ["src/**", "include/**"]`) });
  expect(await ws.run(["test", "--sandbox"])).toEqual({ exitCode: 0, stdout: "> compile\n✓ compile (<t>)\n> test\n✓ test (<t>)\n", stderr: "rbuild: ok: 2 ran, 0 cached in <t>\n" });
  expect(ws.read("build/out.txt")).toBe("hello\n");
});
