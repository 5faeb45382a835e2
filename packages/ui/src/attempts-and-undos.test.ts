/** How the reporters show retries, flaky tasks and undos (issue 26 items 1 and 2), without running a build. */
import type { BuildEvent, TaskResult, UndoResult } from "@rbuild/core";
import { expect, test } from "vitest";
import { finalTable } from "./final-table.js";
import { junitReport } from "./junit.js";
import { PlainReporter } from "./plain-reporter.js";
import { runSummary } from "./summary.js";
import { TuiState } from "./tui-state.js";

const sink = () => ({ text: "", write(t: string) { this.text += t; } });

const deploy: TaskResult = { name: "deploy", status: "ran", cache: null, key: null, durationMs: 1500, exitCode: 0, reasons: ["impure"], attempts: 3, flaky: true };
const check: TaskResult = { name: "check", status: "failed", cache: null, key: null, durationMs: 20, exitCode: 2, reasons: ["impure"], failure: { reason: "exit-nonzero", task: "check", exitCode: 2 } };
const undone: UndoResult = { task: "deploy", ok: false, durationMs: 40, exitCode: 1, failure: { reason: "exit-nonzero", task: "deploy", exitCode: 1 } };
const UNDO_FAILED = "undo deploy FAILED: its undo exited with code 1; what deploy did is still in place: undo it by hand, or fix its undo and run the build again";

const events: BuildEvent[] = [
  { type: "build-started", targets: ["check"], tasks: 2, jobs: 1 },
  { type: "task-started", task: "deploy", reasons: ["impure"] },
  { type: "task-retry", task: "deploy", attempt: 2, attempts: 3, delayMs: 400, failure: { reason: "exit-nonzero", task: "deploy", exitCode: 1 } },
  { type: "task-started", task: "deploy", reasons: ["impure"] },
  { type: "task-retry", task: "deploy", attempt: 3, attempts: 3, delayMs: 800, failure: { reason: "killed", task: "deploy", signal: "SIGTERM" } },
  { type: "task-started", task: "deploy", reasons: ["impure"] },
  { type: "task-finished", result: deploy },
  { type: "task-started", task: "check", reasons: ["impure"] },
  { type: "task-finished", result: check },
  { type: "undo-started", task: "deploy" },
  { type: "task-output", task: "deploy", stream: "stdout", line: "rolling back" },
  { type: "undo-finished", result: undone },
  { type: "build-finished", ok: false, interrupted: false, durationMs: 2000 },
];

test("26.1 26.2: the plain reporter shows each retry, a flaky task's attempts, each undo, and a failed undo in the recap and CI table", () => {
  const [stdout, stderr] = [sink(), sink()];
  const reporter = new PlainReporter({ stdout, stderr, cwd: "/w", finalTable: true });
  for (const event of events) reporter.report(event);
  expect(stdout.text).toBe(
    "> deploy\nretrying deploy (attempt 2 of 3) in 400 ms: exit 1\n> deploy\nretrying deploy (attempt 3 of 3) in 800 ms: killed by SIGTERM\n> deploy\n" +
      "✓ deploy (1.5s, flaky: 3 attempts)\n> check\n✗ check (20ms)\n> undo deploy\n[deploy] rolling back\n" +
      `${UNDO_FAILED}\n`,
  );
  expect(stderr.text).toBe(
    "task         status                   cache  duration\n" +
      "check        failed                   -      20ms\n" +
      "deploy       ran, flaky (3 attempts)  -      1.5s\n" +
      "undo deploy  FAILED                   -      40ms\n" +
      'error: Task "check" failed: its command exited with code 2.\n' +
      `error: ${UNDO_FAILED}\n` +
      "rbuild: failed: 1 ran, 0 cached, 1 flaky (deploy), 1 failed, 1 undo failed in 2.0s\n",
  );
});

test("26.1 26.2: the TUI's notes say each retry and undo, and its recap the flaky task and the failed undo", () => {
  const state = new TuiState({ tasks: new Set(["deploy", "check"]), expectedMs: () => new Map() }, { stdout: sink(), stderr: sink() }, "/w");
  for (const event of events) state.apply(event, 0);
  expect(state.notes).toEqual([
    "retrying deploy (attempt 2 of 3) in 400 ms: exit 1",
    "retrying deploy (attempt 3 of 3) in 800 ms: killed by SIGTERM",
    "✗ check failed (its output follows at the end)",
    UNDO_FAILED,
  ]);
  expect([state.flaky(), state.failedUndos()]).toEqual([["deploy"], [undone]]);
});

test("26.1 26.2: the summary has a flaky task's attempts and the undos; JUnit a testcase per undo", () => {
  const build = { ok: false, durationMs: 2000, results: [deploy, check], undos: [undone, { task: "setup", ok: true, durationMs: 5, exitCode: 0 }] };
  const summary = runSummary(build, "/w");
  expect(summary.tasks[0]).toEqual({ name: "deploy", status: "ran", cache: null, key: null, durationMs: 1500, exitCode: 0, reasons: ["impure"], attempts: 3, flaky: true });
  expect(summary.undos).toEqual([
    { task: "deploy", ok: false, durationMs: 40, exitCode: 1, error: UNDO_FAILED },
    { task: "setup", ok: true, durationMs: 5, exitCode: 0 },
  ]);
  expect(runSummary({ ...build, undos: [] }, "/w")).not.toHaveProperty("undos");
  const xml = junitReport(build, () => [], "/w");
  expect(xml).toContain(`    <testcase classname="rbuild" name="undo deploy" time="0.040">\n      <failure message="${UNDO_FAILED}" type="undo-failed">${UNDO_FAILED}</failure>\n    </testcase>\n`);
  expect(xml).toContain(`    <testcase classname="rbuild" name="undo setup" time="0.005"/>\n`);
  expect(finalTable([{ ...deploy, flaky: undefined, status: "failed" } as TaskResult])).toBe("task    status               cache  duration\ndeploy  failed (3 attempts)  -      1.5s\n");
});
