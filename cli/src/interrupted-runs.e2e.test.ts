import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, expect, test } from "vitest";
import { normalize, Workspace } from "./test-support/workspace.js";

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.remove());

async function waitForFile(path: string): Promise<void> {
  for (let i = 0; i < 3000 && !existsSync(path); i++) await sleep(10);
  expect(existsSync(path)).toBe(true);
}

test("24.5: a task killed by Ctrl-C is interrupted in history and show; a failing task stays failed", { timeout: 120_000 }, async () => {
  ws.write({
    "Buildfile.ts": `import { task } from "rbuild";
task({ name: "slow", run: "touch slow.started; sleep 300" });
task({ name: "bad", run: "echo broken; exit 3" });
`,
  });
  const bad = await ws.run(["bad"]);
  expect(bad.exitCode).toBe(1);
  const child = ws.start(["slow"]);
  await waitForFile(join(ws.root, "slow.started"));
  child.kill("SIGINT");
  expect((await child).exitCode).toBe(130);

  // Times, durations, keys and the host vary: the rest is asserted whole.
  const out = async (args: string[]): Promise<string> =>
    normalize(String((await ws.run(args)).stdout), ws.root)
      .replace(/\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+Z)?/g, "<date>")
      .replace(/\b\d+(\.\d+)?m?s\b/g, "<t>")
      .replace(/[0-9a-f]{64}/g, "<key>")
      .replace(/"durationMs": \d+/g, '"durationMs": 0')
      .replaceAll(`"host": ${JSON.stringify(hostname())}`, '"host": "<host>"')
      .replaceAll(`on ${hostname()}`, "on <host>")
      .replace(/ {2,}/g, "  ");
  const json = async (args: string[]): Promise<unknown> => JSON.parse(String((await ws.run([...args, "--json"])).stdout));

  expect(await out(["history", "--task", "slow"])).toBe(
    ["slow: the last run, newest first (`rbuild show slow --run N` shows one)", "run  build  started  status  duration  exit  reasons", "0  2  <date>  interrupted  <t>  -  no-record", ""].join("\n"),
  );
  expect(await out(["show", "slow"])).toBe(
    [
      "slow: run 0 (build 2, <date>, on <host>)",
      "status:  interrupted in <t>",
      "key:  <key>",
      "reasons:  no-record",
      'error:  Task "slow" was interrupted.',
      "outputs:  none here: it was interrupted before it finished",
      "log:  empty",
      "",
    ].join("\n"),
  );
  expect(await json(["history", "--task", "slow"])).toMatchObject([{ task: "slow", run: 0, build: 2, status: "interrupted", error: 'Task "slow" was interrupted.' }]);
  expect(await json(["show", "slow"])).toMatchObject({ task: "slow", run: 0, build: 2, status: "interrupted", outputs: { state: "none" } });
  expect(await json(["history"])).toMatchObject([
    { build: 2, outcome: "interrupted", tasks: { ran: 0, cached: 0, failed: 0, skipped: 0, interrupted: 1 } },
    { build: 1, outcome: "failed", tasks: { ran: 0, cached: 0, failed: 1, skipped: 0, interrupted: 0 } },
  ]);
  expect((await out(["history"])).split("\n").slice(1, 3)).toEqual(["2  <date>  <t>  interrupted  1 interrupted  -  <host>  slow", "1  <date>  <t>  failed  1 failed  -  <host>  bad"].map((l) => l.replace("<host>", hostname())));

  // A genuinely failing task stays failed, and `rbuild errors` still leaves the interrupted one out.
  expect(await out(["history", "--task", "bad"])).toBe(
    ["bad: the last run, newest first (`rbuild show bad --run N` shows one)", "run  build  started  status  duration  exit  reasons", "0  1  <date>  failed  <t>  3  no-record", ""].join("\n"),
  );
  expect((await out(["show", "bad"])).split("\n").slice(1, 2).concat((await out(["show", "bad"])).split("\n").slice(5, 6))).toEqual([
    "status:  failed in <t>, exit code 3",
    "outputs:  none here: it failed, and a failed run stores no outputs",
  ]);
  expect(await json(["show", "bad"])).toMatchObject({ task: "bad", status: "failed", exitCode: 3 });
  expect(await out(["errors"])).toBe(
    ["bad: failed once, <date> (build 1)", '  Task "bad" failed: its command exited with code 3.', "  last log lines:", "  | broken", ""].join("\n"),
  );
});
