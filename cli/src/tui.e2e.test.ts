/**
 * The terminal UI in a real terminal: tmux (a pane of a detached session on a
 * server of the test's own), running the built rbuild on a temp workspace,
 * read with `tmux capture-pane`. Each step waits for what the pane shows, with
 * generous bounds: no timing is asserted.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { expect, onTestFinished, test } from "vitest";
import { daemonPids, servedBuilds, stopDaemons } from "./test-support/daemon.js";
import { RBUILD, RBUILD_COMMAND, testWorkspace, type Workspace } from "./test-support/workspace.js";

// "slow" waits (a minute at most) for the test to write `go`; "broken" fails with more lines than the live area shows.
const BUILDFILE = `import { task } from "rbuild";
task({ name: "hello", run: "echo hi" });
task({ name: "slow", run: "echo slow: waiting; i=0; while [ ! -e go ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; echo slow: done" });
task({ name: "broken", run: "for i in $(seq 1 12); do echo broken line $i; done; echo 'broken: error: 100% wrong' >&2; exit 7" });
task({ name: "all", deps: ["slow", "broken"] });
`;

/** A tmux server of this test's own, with one detached session of `columns` x `rows` running `command`. */
function tmux(ws: Workspace, command: string, columns: number, rows: number) {
  // The server's socket in the workspace: removed with it.
  const socket = join(ws.root, "tmux.sock");
  const run = (...args: string[]): string => execFileSync("tmux", ["-S", socket, "-f", "/dev/null", ...args], { encoding: "utf8", cwd: ws.root });
  run("new-session", "-d", "-s", "t", "-x", String(columns), "-y", String(rows), command);
  onTestFinished(() => {
    try {
      run("kill-server");
    } catch {
      // Gone already.
    }
  });
  return {
    /** The pane's text, wrapped lines joined; with `history`, from the start of its scrollback. */
    capture: (history = false): string => run("capture-pane", "-p", "-J", "-t", "t", ...(history ? ["-S", "-"] : [])),
    resize: (to: { columns: number; rows: number }): string => run("resize-window", "-t", "t", "-x", String(to.columns), "-y", String(to.rows)),
  };
}

async function until(what: string, check: () => boolean, describe: () => string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting until ${what}; the pane shows:\n${describe()}`);
}

/** A clean environment for the pane's command: no CI, a terminal TERM, no daemon unless asked. */
const env = (ws: Workspace, daemon: boolean): string =>
  `env -i PATH='${process.env.PATH ?? "/usr/bin:/bin"}' HOME='${ws.root}' TERM=tmux-256color RBUILD_DAEMON=${daemon ? 1 : 0}`;

/** Runs `all` in a pane, resizes it twice mid-build (to below the TUI's minimum too), lets it finish; returns the pane's scrollback. */
async function buildInPane(ws: Workspace, command: string): Promise<string> {
  const pane = tmux(ws, `${command} all -k -j 2; echo "EXIT=$?"; sleep 600`, 80, 24);
  const shows = (text: string) => () => pane.capture().includes(text);
  await until("the live area shows the waiting task and the failure's note", () => shows("▸ slow")() && shows("│ slow: waiting")() && shows("✗ broken failed (its output follows at the end)")(), pane.capture);
  // The group "all" is skipped once "broken" fails: counted as the plain reporter counts it, never done.
  expect(pane.capture()).toMatch(/^[█▒░]{10,30} 1\/2 · 0 ran · 0 cached · 1 failed( · 1 skipped)?( · ETA \S+)?$/m);
  pane.resize({ columns: 50, rows: 10 });
  // Drawn again for the new width: the progress line cut at 50 columns (the one drawn at 80, wrapped anew, is longer).
  const progressFits = (): boolean => pane.capture().split("\n").some((line) => line.startsWith("1/2 · 0 ran · 0 cached · 1 failed") && [...line].length <= 50);
  await until("the live area is drawn at 50 columns", () => /^▸ slow {2}\d+s$/m.test(pane.capture()) && progressFits(), pane.capture);
  pane.resize({ columns: 30, rows: 6 });
  await sleep(300); // Whatever it draws at that size, the build goes on: the next step waits for its end.
  writeFileSync(join(ws.root, "go"), "");
  await until("the build ended", shows("EXIT="), pane.capture);
  return pane.capture(true);
}

/** From the first line of the failed task's output to the exit status, durations as <t>. */
function ending(scrollback: string): string {
  const from = scrollback.indexOf("[broken] broken line 1\n");
  expect(from).toBeGreaterThan(-1);
  return scrollback
    .slice(from)
    .replace(/\((\d+ms|\d+\.\ds)\)/g, "(<t>)")
    .replace(/ in (\d+ms|\d+\.\ds)$/gm, " in <t>")
    .replace(/\s+$/, "\n");
}

const EXPECTED_ENDING = [
  ...Array.from({ length: 12 }, (_, i) => `[broken] broken line ${i + 1}`),
  "[broken] broken: error: 100% wrong",
  "✗ broken (<t>)",
  'error: Task "broken" failed: its command exited with code 7.',
  "rbuild: failed: 1 ran, 0 cached, 1 failed, 1 skipped in <t>",
  "EXIT=1",
  "",
].join("\n");

test("24.1: in a real terminal (tmux) the TUI shows the running task, survives resizes, and leaves the failed task's output and the summary", async () => {
  const ws = testWorkspace({ "Buildfile.ts": BUILDFILE });
  const scrollback = await buildInPane(ws, `${env(ws, false)} '${process.execPath}' '${RBUILD}'`);
  expect(ending(scrollback)).toBe(EXPECTED_ENDING);
  // The note of the failure stays in the scrollback, above the rest.
  expect(scrollback.indexOf("✗ broken failed (its output follows at the end)")).toBeLessThan(scrollback.indexOf("[broken] broken line 1\n"));
}, 120_000);

test("24.1: through the daemon, the TUI is drawn for the client's terminal, and a resize reaches it", async () => {
  const ws = testWorkspace({ "Buildfile.ts": BUILDFILE });
  onTestFinished(() => stopDaemons(ws));
  // A first build in Node starts the daemon.
  await ws.run(["hello"], { command: true, env: { RBUILD_DAEMON: "1" } });
  await until("the daemon listens", () => daemonPids(ws).length > 0, () => "");
  const scrollback = await buildInPane(ws, `${env(ws, true)} PATH="$(dirname '${process.execPath}'):$PATH" '${RBUILD_COMMAND}'`);
  expect(ending(scrollback)).toBe(EXPECTED_ENDING);
  expect(servedBuilds(ws)).toBe(1);
}, 120_000);
