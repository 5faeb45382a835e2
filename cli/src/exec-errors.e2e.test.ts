/** What exec() in a task function says when its command cannot run (issue 20, N8 a and b). */
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { Workspace } from "./test-support/workspace.js";

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.remove());

const HEADER = `import { task } from "rbuild";\n`;

describe("exec() errors", () => {
  test("20.N8a: an error exec() throws points at the Buildfile line that called it, not into rbuild's bundle", async () => {
    ws.write({
      "Buildfile.ts":
        HEADER +
        `task({ name: "missing", run: async ({ exec }) => {\n  await exec(["./no-such-program"]);\n} });\n` +
        `task({ name: "empty", run: async (ctx) => {\n  const args: string[] = [];\n  await ctx.exec(args);\n} });\n` +
        `task({ name: "returned", run: (ctx) => ctx.exec(["./no-such-program", "x"]) });\n`,
    });
    const result = await ws.run(["-k", "-j", "1", "missing", "empty", "returned"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.split("\n").sort()).toEqual([
      "",
      'error: Buildfile.ts:3:9: Task "missing" failed: could not run `./no-such-program`: No such file or directory',
      'error: Buildfile.ts:7:13: Task "empty" failed: exec() was given no program to run: pass the program and its arguments, as ["tsc", "-p", "."], or a command line',
      'error: Buildfile.ts:9:44: Task "returned" failed: could not run `./no-such-program x`: No such file or directory',
      "rbuild: failed: 0 ran, 0 cached, 3 failed in <t>",
    ].sort());
  });

  test("20.N8b: exec() of a script whose #! interpreter is missing names the interpreter, not \"No such file\"", async () => {
    ws.write({
      "Buildfile.ts": `${HEADER}task({ name: "a", run: async ({ exec }) => {\n  await exec(["./s.sh", "--flag"]);\n} });\n`,
      "s.sh": "#!/nonexistent/interp -e\necho hi\n",
    });
    chmodSync(join(ws.root, "s.sh"), 0o755);
    expect(await ws.run(["a"])).toEqual({
      exitCode: 1,
      stdout: "> a\n✗ a (<t>)\n",
      stderr:
        "error: Buildfile.ts:3:9: Task \"a\" failed: could not run `./s.sh --flag`: its program ./s.sh is a script for the interpreter /nonexistent/interp (its #! line), " +
        "which was not found. Install it, or fix the script's first line.\n" +
        "rbuild: failed: 0 ran, 0 cached, 1 failed in <t>\n",
    });
  });
});
