/**
 * Which runs load ink (issue 24.6): a cold build on a terminal starts the
 * TUI's thread as the workspace is found, and ink loads there; plain and JSON
 * output never load it, nor does a no-op on a terminal (its workspace has the
 * freshness record the no-op needs, so no thread starts early, and it ends
 * before the live area's delay). Every module each process loads, on any
 * thread, is logged by a module hook (`--import` in NODE_OPTIONS, which the
 * TUI's thread runs too), and each start of the TUI's thread, by a preload
 * (`--require`) that records the Worker constructor's calls (and vm.Script's,
 * for the script ink is loaded from) and changes nothing else (a thread
 * stopped before it loads anything is seen too); the terminal is a tmux pane,
 * as in tui.e2e.test.ts.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { expect, onTestFinished, test } from "vitest";
import { RBUILD, testWorkspace } from "./test-support/workspace.js";

// "wait" runs until the test writes `go` (a minute at most), so the live area is drawn before it ends.
const BUILDFILE = `import { task } from "rbuild";
task({ name: "wait", run: "echo waiting; i=0; while [ ! -e go ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done" });
`;

const HOOKS = `import { appendFileSync } from "node:fs";
export async function load(url, context, next) {
  appendFileSync(process.env.RBUILD_TEST_LOADS, url + "\\n");
  return next(url, context);
}
`;

const THREAD = `const threads = require("node:worker_threads");
const Worker = threads.Worker;
threads.Worker = class extends Worker {
  constructor(url, options) {
    if (options?.workerData?.role === "rbuild-tui") require("node:fs").appendFileSync(process.env.RBUILD_TEST_LOADS, "thread rbuild-tui\\n");
    super(url, options);
  }
};
const vm = require("node:vm");
const Script = vm.Script;
vm.Script = class extends Script {
  constructor(code, options) {
    if (String(options?.filename).endsWith("/dist/tui-painter.cjs")) require("node:fs").appendFileSync(process.env.RBUILD_TEST_LOADS, "script tui-painter.cjs\\n");
    super(code, options);
  }
};
require("node:module").syncBuiltinESMExports();
`;

/** A directory outside the workspace for the hook and the logs (nothing the build sees), removed after the test. */
function logDir(): { dir: string; nodeOptions: string; loads: (name: string) => string[] } {
  const dir = mkdtempSync(join(tmpdir(), "rbuild-loads-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "hooks.mjs"), HOOKS);
  writeFileSync(join(dir, "register.mjs"), `import { register } from "node:module";\nregister("./hooks.mjs", import.meta.url);\n`);
  writeFileSync(join(dir, "thread.cjs"), THREAD);
  // The TUI's chunks of the bundled CLI a run loaded (ink, React and yoga are in tui-painter's), without their
  // hashes, and the TUI's thread's start.
  const loads = (name: string): string[] =>
    readFileSync(join(dir, name), "utf8")
      .split("\n")
      .flatMap((line) => (line === "thread rbuild-tui" || line === "script tui-painter.cjs" ? [line] : /\/dist\/chunks\/(tui-[a-z-]+)-[A-Z0-9]+\.mjs$/.exec(line)?.[1] ?? []));
  return { dir, nodeOptions: `--require ${join(dir, "thread.cjs")} --import ${join(dir, "register.mjs")}`, loads };
}

async function until(what: string, check: () => boolean, describe: () => string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting until ${what}; the pane shows:\n${describe()}`);
}

test("24.6: the TUI's thread and ink load only where the TUI may be drawn: early in a cold build on a terminal; never for plain or JSON output, and a no-op on a terminal starts no thread", async () => {
  const ws = testWorkspace({ "Buildfile.ts": BUILDFILE });
  const { dir, nodeOptions, loads } = logDir();
  writeFileSync(join(ws.root, "go"), "");
  for (const mode of ["plain", "json"]) {
    const run = await ws.run(["wait", "--output", mode], { env: { NODE_OPTIONS: nodeOptions, RBUILD_TEST_LOADS: join(dir, mode) } });
    expect(run.exitCode).toBe(0);
    expect(loads(mode)).toEqual([]);
  }
  rmSync(join(ws.root, "go"));
  rmSync(join(ws.root, ".rbuild"), { recursive: true, force: true });

  // In a pane: the cold build (drawn, then let finish), then the same build again, a no-op.
  const node = (log: string): string =>
    `env -i PATH='${process.env.PATH ?? "/usr/bin:/bin"}' HOME='${ws.root}' TERM=tmux-256color RBUILD_DAEMON=0 NODE_OPTIONS='${nodeOptions}' RBUILD_TEST_LOADS='${join(dir, log)}' '${process.execPath}' '${RBUILD}' wait`;
  const socket = join(ws.root, "tmux.sock");
  const tmux = (...args: string[]): string => execFileSync("tmux", ["-S", socket, "-f", "/dev/null", ...args], { encoding: "utf8", cwd: ws.root });
  tmux("new-session", "-d", "-s", "t", "-x", "80", "-y", "24", `${node("cold")}; ${node("no-op")}; echo "EXIT=$?"; sleep 600`);
  onTestFinished(() => {
    try {
      tmux("kill-server");
    } catch {
      // Gone already.
    }
  });
  const capture = (): string => tmux("capture-pane", "-p", "-J", "-t", "t");
  await until("the live area shows the waiting task", () => capture().includes("▸ wait"), capture);
  writeFileSync(join(ws.root, "go"), "");
  await until("both builds ended", () => capture().includes("EXIT=") && existsSync(join(dir, "no-op")), capture);
  expect(capture()).toMatch(/rbuild: ok: 0 ran, 1 cached in \S+\nEXIT=0$/m);
  // The reporter's module, then the TUI's thread, which loads it and ink (from the script with its code cache: see
  // packages/ui/src/tui-script.ts; ink's modules are never loaded as modules).
  expect(loads("cold")).toEqual(["tui-reporter", "thread rbuild-tui", "tui-reporter", "script tui-painter.cjs"]);
  expect(loads("no-op")).toEqual(["tui-reporter"]);
}, 180_000);
