import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { runnerConformance } from "../../../test-support/runner-conformance.js";
import { LocalRunner } from "./local-runner.js";

runnerConformance("local, through the process helper", () => new LocalRunner());
runnerConformance("local, forked from Node", () => new LocalRunner({ spawn: "direct" }));

/** This package as built (`npm run build`): run in a child Node whose limits the test sets. */
const BUILT = fileURLToPath(new URL("../dist/index.js", import.meta.url));

/** Runs `script` (an ES module) in a Node that may open at most `openFiles` files; resolves with its stdout. */
function nodeWithLimit(openFiles: number, script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", `ulimit -n ${openFiles} && exec "$0" --input-type=module -e "$1"`, process.execPath, script], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

test("20.hardening: out of file descriptors, a command forked from Node fails its task saying to raise ulimit -n", async () => {
  const script = `
import { closeSync, openSync } from "node:fs";
import { LocalRunner } from ${JSON.stringify(BUILT)};
const runner = new LocalRunner({ spawn: "direct" });
const held = [];
try {
  for (;;) held.push(openSync("/dev/null", "r"));
} catch {}
const request = { task: "t", run: "echo never", root: "/", cwd: "/", env: { PATH: "/usr/bin:/bin" }, inputs: [], depOutputs: [], outputs: [], signal: new AbortController().signal };
const outcome = await runner.run({ ...request, stdout: () => {}, stderr: () => {} });
for (const fd of held) closeSync(fd);
process.stdout.write(JSON.stringify(outcome));
`;
  const ran = await nodeWithLimit(64, script);
  expect([ran.code, ran.stderr]).toEqual([0, ""]);
  expect(JSON.parse(ran.stdout)).toEqual({ ok: false, exitCode: null, failure: { reason: "spawn-failed", task: "t", message: "too many open files: raise `ulimit -n` or lower -j" } });
});
