/** The build lock's takeover file in the way (issue 20, N6): an error naming it, as for the lock itself (20.H). */
import { mkdirSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { Workspace } from "./test-support/workspace.js";

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.remove());

/** A pid no process has: above Linux's largest pid_max (2^22). */
const DEAD_PID = 2 ** 22 + 1;

describe("the build lock's takeover file", () => {
  test("20.N6: a takeover path that is a directory is an error naming it and what to do, not exit 70 and a stack trace", async () => {
    // A stale lock (its owner is dead) makes the build take it over, through the takeover file.
    ws.write({ "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "a", run: "touch a" });\n`, ".rbuild/build.lock": `${DEAD_PID}\n` });
    const takeover = join(ws.root, ".rbuild/build.lock.takeover");
    mkdirSync(takeover);
    // Old enough to count as left behind by a waiter that died holding it.
    const old = new Date(Date.now() - 60_000);
    utimesSync(takeover, old, old);
    const message =
      "rbuild: error: <root>/.rbuild/build.lock.takeover is a directory, not the file rbuild holds while it takes over a stale build lock: " +
      "nothing else may be at that path. Remove it (`rm -r <root>/.rbuild/build.lock.takeover`) and run again.\n";
    expect(await ws.run(["a"])).toEqual({ exitCode: 2, stdout: "", stderr: message });
    expect(await ws.run(["clean"])).toEqual({ exitCode: 2, stdout: "", stderr: message });
  });
});
