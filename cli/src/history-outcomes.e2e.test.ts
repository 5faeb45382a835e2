/**
 * What `rbuild history` says a build did agrees with what the build said
 * (issue 24.6): the counts of its summary line (a group that ran nothing is
 * not counted), and a build `rbuild watch` cancelled (an edit made its task
 * stale) is "cancelled" in the watch's own summary and in the history, and
 * not a failure in `rbuild errors`.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, test } from "vitest";
import { livePidsWith } from "../../test-support/processes.js";
import { normalize, testWorkspace } from "./test-support/workspace.js";

interface BuildJson {
  readonly build: number;
  readonly outcome: string;
  readonly targets: string[];
  readonly tasks: Record<string, number>;
}

describe("history agrees with the build", () => {
  test("24.6: history counts a build's tasks as its summary line does (the group `all` is not one that ran)", async () => {
    const ws = testWorkspace({
      "Buildfile.ts": `import { task } from "rbuild";
task({ name: "a", run: "true" });
task({ name: "b", run: "true" });
task({ name: "all", deps: ["a", "b"] });
`,
    });
    const build = await ws.run(["all", "--output", "plain"]);
    expect(build.exitCode).toBe(0);
    expect(build.stderr.split("\n").filter((line) => line.startsWith("rbuild: ok"))).toEqual(["rbuild: ok: 2 ran, 0 cached in <t>"]);
    const history = JSON.parse((await ws.run(["history", "--json"])).stdout) as BuildJson[];
    expect(history.map((b) => b.tasks)).toEqual([{ ran: 2, cached: 0, failed: 0, skipped: 0, interrupted: 0 }]);
    expect((await ws.run(["history"])).stdout.split("\n")[1]).toMatch(/ ok +2 ran +-/);
  });

  test("24.6: a build rbuild watch cancelled (an edit during it) is cancelled in the watch's summary, in history, and no failure in errors", async () => {
    const marker = `rbuild-history-cancelled-${process.pid}`;
    const ws = testWorkspace({
      "Buildfile.ts": `import { task } from "rbuild";
task({ name: "slow", inputs: ["src/slow.txt"], outputs: ["out/slow.txt"],
  run: "touch slow.started; if [ \\"$(cat src/slow.txt)\\" = v1 ]; then sleep 300; : ${marker}; fi; mkdir -p out && cp src/slow.txt out/slow.txt" });
`,
      "src/slow.txt": "v1\n",
    });
    const child = ws.start(["watch", "slow", "--output", "plain"]);
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => void (stderr += chunk.toString()));
    const until = async (what: string, check: () => boolean): Promise<void> => {
      for (const deadline = Date.now() + 100_000; Date.now() < deadline; await sleep(20)) if (check()) return;
      throw new Error(`gave up waiting for ${what}; stderr:\n${stderr}`);
    };
    try {
      await until("the long sleep", () => existsSync(join(ws.root, "slow.started")) && livePidsWith(marker).length > 0);
      await sleep(500); // The watcher is ready once the build is planned; give it a moment on a loaded machine.
      ws.write({ "src/slow.txt": "v2\n" });
      await until("the rebuild", () => normalize(stderr, ws.root).split("\n").filter((line) => line.startsWith("rbuild: watching")).length >= 1 && stderr.includes("rbuild: ok"));
    } finally {
      child.kill("SIGINT");
      await child;
    }
    const summaries = normalize(stderr, ws.root)
      .split("\n")
      .filter((line) => /^rbuild: (ok|failed|cancelled|interrupted):/.test(line));
    expect(summaries).toEqual(["rbuild: cancelled: 0 ran, 0 cached, 1 interrupted in <t>", "rbuild: ok: 1 ran, 0 cached in <t>"]);
    const history = JSON.parse((await ws.run(["history", "--json"])).stdout) as BuildJson[];
    expect(history.map((b) => [b.outcome, b.tasks])).toEqual([
      ["ok", { ran: 1, cached: 0, failed: 0, skipped: 0, interrupted: 0 }],
      ["cancelled", { ran: 0, cached: 0, failed: 0, skipped: 0, interrupted: 1 }],
    ]);
    expect((await ws.run(["history"])).stdout.split("\n")[2]).toMatch(/ cancelled +1 interrupted +-/);
    expect(await ws.run(["errors"])).toEqual({ exitCode: 0, stdout: "No failures recorded.\n", stderr: "" });
  }, 150_000);
});
