/** How the reporters show a task a stand-in ran for (`--stub`, issue 26 item 7), without running a build. */
import type { BuildEvent, TaskResult } from "@rbuild/core";
import { expect, test } from "vitest";
import { PlainReporter } from "./plain-reporter.js";
import { runSummary } from "./summary.js";
import { TuiState } from "./tui-state.js";

const sink = () => ({ text: "", write(t: string) { this.text += t; } });

const build: TaskResult = { name: "build", status: "cached", cache: "local", key: "k", durationMs: 0, exitCode: 0, reasons: [] };
const deploy: TaskResult = { name: "deploy", status: "ran", cache: null, key: null, durationMs: 12, exitCode: 0, reasons: ["stubbed"], stubbed: true };
const notify: TaskResult = { name: "notify", status: "failed", cache: null, key: null, durationMs: 3, exitCode: 1, reasons: ["stubbed"], stubbed: true, failure: { reason: "exit-nonzero", task: "notify", exitCode: 1 } };

const events: BuildEvent[] = [
  { type: "build-started", targets: ["notify"], tasks: 3, jobs: 1 },
  { type: "task-finished", result: build },
  { type: "task-started", task: "deploy", reasons: ["stubbed"] },
  { type: "task-output", task: "deploy", stream: "stdout", line: "would deploy" },
  { type: "task-finished", result: deploy },
  { type: "task-started", task: "notify", reasons: ["stubbed"] },
  { type: "task-finished", result: notify },
  { type: "build-finished", ok: false, interrupted: false, durationMs: 40 },
];

test("26.7: the plain reporter marks stubbed tasks on their end line, in the CI table and in the recap", () => {
  const [stdout, stderr] = [sink(), sink()];
  const reporter = new PlainReporter({ stdout, stderr, cwd: "/w", finalTable: true });
  for (const event of events) reporter.report(event);
  expect(stdout.text).toBe("✓ build (cached, local)\n> deploy\n[deploy] would deploy\n✓ deploy (stubbed, 12ms)\n> notify\n✗ notify (stubbed, 3ms)\n");
  expect(stderr.text).toBe(
    "task    status            cache  duration\n" +
      "build   cached            local  0ms\n" +
      "deploy  ran (stubbed)     -      12ms\n" +
      "notify  failed (stubbed)  -      3ms\n" +
      'error: Task "notify" failed: its command exited with code 1.\n' +
      "rbuild: failed: 1 ran, 1 cached, 2 stubbed (deploy, notify), 1 failed in 40ms\n",
  );
});

test("26.7: the summary gives a stubbed task \"stubbed\": true; the TUI's recap names the stubbed tasks", () => {
  const summary = runSummary({ ok: false, durationMs: 40, results: [build, deploy, notify] }, "/w");
  expect(summary.tasks.map((task) => [task.name, task.stubbed])).toEqual([
    ["build", undefined],
    ["deploy", true],
    ["notify", true],
  ]);
  const state = new TuiState({ tasks: new Set(["build", "deploy", "notify"]), expectedMs: () => new Map() }, { stdout: sink(), stderr: sink() }, "/w");
  for (const event of events) state.apply(event, 0);
  expect(state.stubbed()).toEqual(["deploy", "notify"]);
});
