/**
 * `rbuild history`, `errors` and `show` answered by the workspace's daemon
 * (daemon-query.ts) through the installed command, against rbuild in Node
 * (RBUILD_DAEMON=0) over the same index: the same stdout, stderr and exit
 * status, byte for byte. Which answered is read from the daemon's log.
 */
import { afterEach, describe, expect, test } from "vitest";
import { daemonLog, daemonPids, stopDaemons, until } from "./test-support/daemon.js";
import { testWorkspace, type Workspace } from "./test-support/workspace.js";

const BUILDFILE = `import { task } from "rbuild";
task({ name: "gen", inputs: ["src/**"], outputs: ["out/gen.txt"], run: "mkdir -p out && cp src/a.txt out/gen.txt && echo generated" });
task({ name: "broken", run: "echo 'cannot go on' >&2; exit 3" });
task({ name: "all", deps: ["gen"] });
task({ name: "never", run: "true" });
`;

let workspaces: Workspace[] = [];
afterEach(() => {
  for (const ws of workspaces) stopDaemons(ws);
  workspaces = [];
});

/** The queries a user types: every command with and without --json, a task's runs, and names that are wrong. */
const QUERIES: readonly (readonly string[])[] = [
  ["history"],
  ["history", "--json"],
  ["history", "--task", "gen"],
  ["history", "--task", "gen", "--json"],
  ["history", "--task", "never"],
  ["history", "--task", "gne"],
  ["errors"],
  ["errors", "--json"],
  ["errors", "--task", "broken"],
  ["errors", "--task", "nope"],
  ["show", "gen"],
  ["show", "gen", "--json"],
  ["show", "broken", "--run", "1"],
  ["show", "nope"],
  ["show", "never"],
];

const queriesServed = (ws: Workspace): number => daemonLog(ws).split("\n").filter((line) => / query: /.test(line)).length;

describe("the daemon answers the history commands", () => {
  test("24.6: daemon and Node answer history, errors and show identically (text, --json, unknown tasks)", async () => {
    const ws = testWorkspace({ "Buildfile.ts": BUILDFILE, "src/a.txt": "one\n" });
    workspaces.push(ws);
    const env = { RBUILD_DAEMON: "1", TZ: "Asia/Kolkata" };
    // A build rbuild runs itself starts the daemon, as after any build.
    expect((await ws.run(["all"], { command: true, env })).exitCode).toBe(0);
    await until("the daemon listens", () => daemonPids(ws).length > 0);
    expect((await ws.run(["broken"], { command: true, env })).exitCode).toBe(1);
    ws.write({ "src/a.txt": "two\n" });
    expect((await ws.run(["gen"], { command: true, env })).exitCode).toBe(0);
    expect((await ws.run(["broken"], { command: true, env })).exitCode).toBe(1);
    const answers: string[] = [];
    for (const query of QUERIES) {
      const before = queriesServed(ws);
      const daemon = await ws.run(query, { command: true, env });
      expect({ query, served: queriesServed(ws) - before }).toEqual({ query, served: 1 });
      const node = await ws.run(query, { command: true, env: { ...env, RBUILD_DAEMON: "0" } });
      expect({ query, ...daemon }).toEqual({ query, ...node });
      answers.push(`${query.join(" ")} -> ${daemon.exitCode}`);
    }
    // The wrong names are usage errors, from both.
    expect(answers).toEqual([
      "history -> 0",
      "history --json -> 0",
      "history --task gen -> 0",
      "history --task gen --json -> 0",
      "history --task never -> 0",
      "history --task gne -> 2",
      "errors -> 0",
      "errors --json -> 0",
      "errors --task broken -> 0",
      "errors --task nope -> 2",
      "show gen -> 0",
      "show gen --json -> 0",
      "show broken --run 1 -> 0",
      "show nope -> 2",
      "show never -> 2",
    ]);
    const unknown = await ws.run(["history", "--task", "gne"], { command: true, env });
    expect(unknown.stderr).toBe('rbuild: error: Unknown task "gne". Run `rbuild list` to see every task.\n');
    // Times are the client's time zone's, not the daemon's.
    const history = await ws.run(["history", "--json"], { command: true, env });
    const text = await ws.run(["history"], { command: true, env });
    const started = (JSON.parse(history.stdout) as { started: string }[]).map((b) => new Date(b.started));
    const local = (d: Date): string => new Date(d.getTime() + 330 * 60_000).toISOString().slice(0, 19).replace("T", " ");
    expect(text.stdout.split("\n").slice(1, -1).map((line) => line.split(/ {2,}/)[1])).toEqual(started.map(local));
  }, 120_000);
});
