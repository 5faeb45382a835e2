// First, before ink is loaded: see the module.
import "./test-support/outside-ci.js";
import type { BuildEvent, TaskResult } from "@rbuild/core";
import { renderToString } from "ink";
import { expect, test } from "vitest";
import { InkPainter } from "./tui-painter.js";
import { TuiReporter, type TuiTerminal } from "./tui-reporter.js";
import { TuiState, type TuiPlan } from "./tui-state.js";
import { liveLines, rowsAfterResize, type FrameSize } from "./tui-lines.js";
import { tuiFrame } from "./tui-view.js";

const sink = () => ({ text: "", write(t: string) { this.text += t; } });

const result = (name: string, status: TaskResult["status"], extra: Partial<TaskResult> = {}): TaskResult => ({
  name,
  status,
  cache: status === "cached" ? "local" : null,
  key: null,
  durationMs: 1500,
  exitCode: status === "failed" ? 2 : null,
  reasons: [],
  ...extra,
});

/** The frame the state shows at `now`, on a terminal of `size`, as text. */
function frame(state: TuiState, now: number, size: FrameSize): string {
  const view = state.view(now);
  return renderToString(tuiFrame(view.notes, liveLines(view, size, false)), { columns: size.columns });
}

function feed(state: TuiState, events: [number, BuildEvent][]): void {
  for (const [at, event] of events) state.apply(event, at);
}

const plan = (entries: [string, number | undefined][]): TuiPlan => ({
  tasks: new Set(entries.map(([task]) => task)),
  expectedMs: () => new Map(entries.filter((entry): entry is [string, number] => entry[1] !== undefined)),
});

test("24.1: a frame shows the running tasks with their elapsed time and last lines, then the bar, the counts and the ETA", () => {
  const out = sink();
  const state = new TuiState(plan([["a", 1000], ["b", 4000], ["c", 10_000], ["d", 2000]]), { stdout: out, stderr: out });
  feed(state, [
    [0, { type: "build-started", targets: ["d"], tasks: 4, jobs: 2 }],
    [0, { type: "task-finished", result: result("a", "cached") }],
    [0, { type: "task-started", task: "b", reasons: [] }],
    [0, { type: "task-started", task: "c", reasons: [] }],
    [100, { type: "task-output", task: "b", stream: "stdout", line: "one" }],
    [200, { type: "task-output", task: "b", stream: "stderr", line: "two" }],
    [300, { type: "task-output", task: "b", stream: "stdout", line: "three" }],
    [400, { type: "task-output", task: "b", stream: "stdout", line: "four" }],
    [500, { type: "task-output", task: "c", stream: "stdout", line: "compiling 1 of 9" }],
  ]);
  // b: 4s expected, 3s in -> 1s left; c: 10s expected, 3s in -> 7s; d: 2s pending. (1 + 7 + 2) / 2 jobs = 5s.
  expect(frame(state, 3000, { columns: 80, rows: 24 })).toBe(
    [
      "▸ b  3s",
      "  │ two",
      "  │ three",
      "  │ four",
      "▸ c  3s",
      "  │ compiling 1 of 9",
      "▒▒▒▒▒▒▒░░░░░░░░░░░░░░░░░░░░░░░ 1/4 · 0 ran · 1 cached · ETA 5s",
    ].join("\n"),
  );
});

test("24.1: with more running tasks than rows, each gets a line and the rest are counted; no ETA when nothing is recorded", () => {
  const out = sink();
  const names = ["t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8"];
  const state = new TuiState(plan(names.map((n) => [n, undefined])), { stdout: out, stderr: out });
  feed(state, [[0, { type: "build-started", targets: names, tasks: 8, jobs: 8 }], ...names.map((task, i): [number, BuildEvent] => [i * 1000, { type: "task-started", task, reasons: [] }])]);
  state.apply({ type: "task-output", task: "t1", stream: "stdout", line: "hidden: no room" }, 8000);
  expect(frame(state, 8500, { columns: 40, rows: 8 })).toBe(
    ["▸ t1  8s", "▸ t2  7s", "▸ t3  6s", "▸ t4  5s", "▸ t5  4s", "… 3 more running", "░░░░░░░░░░░░░░░░░ 0/8 · 0 ran · 0 cached"].join("\n"),
  );
});

test("24.1: lines are cut at the terminal's width, a failure is noted above the live area at once, and the bar turns to failure", () => {
  const out = sink();
  const state = new TuiState(plan([["lint", 500], ["test", 500]]), { stdout: out, stderr: out });
  feed(state, [
    [0, { type: "build-started", targets: ["lint", "test"], tasks: 2, jobs: 2 }],
    [0, { type: "info", code: "remote-off", message: "the remote cache is off for this build" }],
    [0, { type: "task-started", task: "lint", reasons: [] }],
    [0, { type: "task-started", task: "test", reasons: [] }],
    [10, { type: "task-output", task: "test", stream: "stdout", line: "x".repeat(100) }],
    [20, { type: "task-finished", result: result("lint", "failed") }],
  ]);
  expect(frame(state, 1200, { columns: 50, rows: 10 })).toBe(
    [
      "rbuild: the remote cache is off for this build",
      "✗ lint failed (its output follows at the end)",
      "▸ test  1s",
      `  │ ${"x".repeat(45)}…`,
      "███░░░ 1/2 · 0 ran · 0 cached · 1 failed · ETA <1s",
    ].join("\n"),
  );
});

/** A terminal that keeps what is written to it, and can be resized. */
function fakeTerminal(size: FrameSize): TuiTerminal & { written: string; resize(to: FrameSize): void } {
  const handlers = new Set<() => void>();
  let now = size;
  return {
    written: "",
    write(text: string) {
      this.written += text;
    },
    size: () => now,
    onResize(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    resize(to) {
      now = to;
      for (const handler of handlers) handler();
    },
  };
}

test("24.1: at the end the live area is cleared and each failed task's full output, its end line and the summary stay as plain text; a message before the build starts is written at once", async () => {
  const terminal = fakeTerminal({ columns: 60, rows: 12 });
  const stdout = sink();
  const stderr = sink();
  let now = 0;
  const tui = new TuiReporter({ terminal, stdout, stderr, plan: plan([["a", 100], ["broken", 100]]), cwd: "/w", color: false, now: () => now, painter: (write) => new InkPainter(write), startAfterMs: 0 });
  tui.report({ type: "info", code: "waiting", message: "waiting for the build lock" });
  tui.report({ type: "build-started", targets: ["a", "broken"], tasks: 2, jobs: 2 });
  tui.report({ type: "task-started", task: "a", reasons: [] });
  tui.report({ type: "task-started", task: "broken", reasons: [] });
  for (let i = 1; i <= 12; i++) tui.report({ type: "task-output", task: "broken", stream: i % 2 === 0 ? "stderr" : "stdout", line: `line ${i}` });
  tui.report({ type: "task-output", task: "a", stream: "stdout", line: "a says hi" });
  now = 1500;
  terminal.resize({ columns: 30, rows: 6 });
  tui.report({ type: "task-finished", result: result("a", "ran") });
  tui.report({ type: "task-finished", result: result("broken", "failed", { failure: { reason: "exit-nonzero", task: "broken", exitCode: 2 } as never }) });
  tui.report({ type: "build-finished", ok: false, interrupted: false, durationMs: 1500 });
  await tui.close();
  const lines = Array.from({ length: 12 }, (_, i) => `[broken] line ${i + 1}\n`);
  expect(stdout.text).toBe(lines.filter((_, i) => i % 2 === 0).join("") + "✗ broken (1.5s)\n");
  expect(stderr.text).toBe("rbuild: waiting for the build lock\n" + lines.filter((_, i) => i % 2 === 1).join("") + 'error: Task "broken" failed: its command exited with code 2.\nrbuild: failed: 1 ran, 0 cached, 1 failed in 1.5s\n');
  // The first frame (nothing running yet: the timer has not drawn since), erased on the resize (it takes
  // 2 rows at 30 columns, and the cursor's row below), then the frame for the new size: a line and a line
  // of output for each task, the progress cut at 30 columns.
  const first = "░".repeat(27) + " 0/2 · 0 ran · 0 cached · ETA <1s\n";
  const resized = "▸ a  1s\n  │ a says hi\n▸ broken  1s\n  │ line 12\n0/2 · 0 ran · 0 cached · ETA …\n";
  const erase = (rows: number): string => "\x1b[2K\x1b[1A".repeat(rows - 1) + "\x1b[2K\x1b[G";
  // Then the last frame: the note of the failure kept above (wrapped at 30 columns), and no live area.
  const last = "✗ broken failed (its output\nfollows at the end)\n\n";
  expect(terminal.written.replace(/\x1b\[\?(2026[hl]|25[hl])/g, "")).toBe(first + erase(3) + resized + erase(6) + last);
});

test("24.1: the rows a frame takes once a resize wraps its lines anew", () => {
  // Cut at 80 columns: 77, 10 and 80 characters take 2, 1 and 2 rows at 50 columns.
  expect(rowsAfterResize(["x".repeat(77), "\x1b[2m" + "y".repeat(10) + "\x1b[0m", "z".repeat(120)], 80, 50)).toBe(5);
  expect(rowsAfterResize(["", "a"], 80, 120)).toBe(2);
});
