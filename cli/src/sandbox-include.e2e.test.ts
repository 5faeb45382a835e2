/** An undeclared read named by a compiler relative to an include directory (issue 27.1, found by an independent run, 27.4 item 3). */
import { spawnSync } from "node:child_process";
import { expect, test } from "vitest";
import { testWorkspace } from "./test-support/workspace.js";

const hasCc = spawnSync("cc", ["--version"]).status === 0;

test.skipIf(!hasCc)("27.4: a C compile that cannot find an undeclared header (named as #include wrote it) fails naming the header's workspace path and the input to add", async () => {
  const ws = testWorkspace({
    "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "build", inputs: ["src/**"], outputs: ["bin/hello"], run: "mkdir -p bin && cc -Iinclude -o bin/hello src/main.c" });\n`,
    "src/main.c": '#include "greet.h"\n#include <stdio.h>\nint main(void) { printf("%s\\n", GREETING); return 0; }\n',
    "include/greet.h": '#define GREETING "hi"\n',
  });
  const result = await ws.run(["build", "--sandbox"]);
  expect({ ...result, stderr: result.stderr.replace(/^\[build\] .*\n/gm, "") }).toEqual({
    exitCode: 1,
    stdout: "> build\n✗ build (<t>)\n",
    stderr:
      'error: Task "build" read include/greet.h, which is not among its inputs or its deps\' outputs: in its sandbox it is missing, and it exited with code 1. ' +
      'Add "include/greet.h" to its `inputs` (or make the task that writes it one of its deps).\n' +
      "rbuild: failed: 0 ran, 0 cached, 1 failed in <t>\n",
  });
  expect(result.stderr).toContain("[build] src/main.c:1:10: fatal error: greet.h: No such file or directory\n");
  // Declared, it builds.
  ws.write({ "Buildfile.ts": ws.read("Buildfile.ts").replace('inputs: ["src/**"]', 'inputs: ["src/**", "include/**"]') });
  expect((await ws.run(["build", "--sandbox"])).exitCode).toBe(0);
});
