/** An interrupted task is counted as interrupted, not failed, by each reporter and in the run summary (issue 24 item 7), without running a build. */
import type { BuildEvent, TaskResult } from "@rbuild/core";
import { expect, test } from "vitest";
import { finalTable } from "./final-table.js";
import { PlainReporter } from "./plain-reporter.js";
import { runSummary } from "./summary.js";
import { liveLines } from "./tui-lines.js";
import { TuiState } from "./tui-state.js";

const sink = () => ({ text: "", write(t: string) { this.text += t; } });

const fast: TaskResult = { name: "fast", status: "ran", cache: null, key: null, durationMs: 10, exitCode: 0, reasons: [] };
const bad: TaskResult = { name: "bad", status: "failed", cache: null, key: null, durationMs: 20, exitCode: 3, reasons: [], failure: { reason: "exit-nonzero", task: "bad", exitCode: 3 } };
const slow: TaskResult = { name: "slow", status: "failed", cache: null, key: null, durationMs: 1500, exitCode: null, reasons: [], failure: { reason: "interrupted", task: "slow" } };

const events: BuildEvent[] = [
  { type: "build-started", targets: ["fast", "bad", "slow"], tasks: 3, jobs: 3 },
  { type: "task-started", task: "fast", reasons: [] },
  { type: "task-started", task: "bad", reasons: [] },
  { type: "task-started", task: "slow", reasons: [] },
  { type: "task-finished", result: fast },
  { type: "task-finished", result: bad },
  { type: "task-finished", result: slow },
];
const end: BuildEvent = { type: "build-finished", ok: false, interrupted: true, durationMs: 1600 };

test("24.7: the plain reporter's last line counts an interrupted task apart from a failed one; so does CI's table", () => {
  const [stdout, stderr] = [sink(), sink()];
  const reporter = new PlainReporter({ stdout, stderr, cwd: "/w", finalTable: true });
  for (const event of [...events, end]) reporter.report(event);
  expect(stderr.text).toBe(
    "task  status       cache  duration\n" +
      "bad   failed       -      20ms\n" +
      "fast  ran          -      10ms\n" +
      "slow  interrupted  -      1.5s\n" +
      'error: Task "bad" failed: its command exited with code 3.\n' +
      'error: Task "slow" was interrupted.\n' +
      "rbuild: interrupted: 1 ran, 0 cached, 1 failed, 1 interrupted in 1.6s\n",
  );
  expect(finalTable([{ ...slow, attempts: 2 }])).toBe("task  status                    cache  duration\nslow  interrupted (2 attempts)  -      1.5s\n");
});

test("24.7: the TUI's note, progress line and counts say interrupted, not failed", () => {
  const state = new TuiState({ tasks: new Set(["fast", "bad", "slow"]), expectedMs: () => new Map() }, { stdout: sink(), stderr: sink() }, "/w");
  for (const event of events) state.apply(event, 0);
  expect(state.notes).toEqual(["✗ bad failed (its output follows at the end)", "✗ slow interrupted (its output follows at the end)"]);
  expect(state.counts()).toEqual({ ran: 1, cached: 0, failed: 1, interrupted: 1, skipped: 0 });
  expect(liveLines(state.view(0), { columns: 120, rows: 24 }, false)).toEqual([`${"█".repeat(30)} 3/3 · 1 ran · 0 cached · 1 failed · 1 interrupted`]);
});

test("24.7: in the run summary an interrupted task's status is interrupted, a failed one's failed", () => {
  const summary = runSummary({ ok: false, durationMs: 1600, results: [fast, bad, slow] }, "/w");
  expect(summary.tasks.map(({ name, status, error }) => ({ name, status, error }))).toEqual([
    { name: "fast", status: "ran", error: undefined },
    { name: "bad", status: "failed", error: 'Task "bad" failed: its command exited with code 3.' },
    { name: "slow", status: "interrupted", error: 'Task "slow" was interrupted.' },
  ]);
});
