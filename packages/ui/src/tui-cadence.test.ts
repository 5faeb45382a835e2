import { setTimeout as sleep } from "node:timers/promises";
import type { BuildEvent, TaskResult } from "@rbuild/core";
import { expect, test } from "vitest";
import type { Frame, Painter } from "./tui-painter.js";
import { FRAME_MS, TuiReporter, type TuiTerminal } from "./tui-reporter.js";
import type { TuiPlan } from "./tui-state.js";

const sink = () => ({ text: "", write(t: string) { this.text += t; } });
const ran = (name: string): TaskResult => ({ name, status: "ran", cache: null, key: null, durationMs: 5, exitCode: 0, reasons: [] });

/** A painter that keeps each frame it is given, and when. */
function recordingPainter(): Painter & { frames: { at: number; frame: Frame }[] } {
  const frames: { at: number; frame: Frame }[] = [];
  return { frames, frame: (frame) => void frames.push({ at: performance.now(), frame }), end: async () => {} };
}

const terminal = (rows: number): TuiTerminal => ({ write: () => {}, size: () => ({ columns: 80, rows }), onResize: () => () => {} });

function reporter(tasks: string[], rows: number, now?: () => number): { tui: TuiReporter; painter: ReturnType<typeof recordingPainter> } {
  const painter = recordingPainter();
  const plan: TuiPlan = { tasks: new Set(tasks), expectedMs: () => new Map() };
  const tui = new TuiReporter({ terminal: terminal(rows), stdout: sink(), stderr: sink(), plan, cwd: "/w", color: false, now, painter: () => painter, startAfterMs: 0 });
  return { tui, painter };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 2400 && !condition(); i++) await sleep(25);
  expect(condition()).toBe(true);
}

test("24.6: while tasks start and finish every few ms, frames come at most every FRAME_MS (250 ms), never one per event", async () => {
  expect(FRAME_MS).toBe(250);
  const tasks = Array.from({ length: 2000 }, (_, i) => `t${i}`);
  const { tui, painter } = reporter(tasks, 24);
  tui.report({ type: "build-started", targets: ["all"], tasks: tasks.length, jobs: 1 } satisfies BuildEvent);
  let i = 0;
  // Two tasks a turn, 2 ms apart, until four frames are drawn (on a loaded machine that takes longer, never less).
  while (painter.frames.length < 4 && i < tasks.length) {
    tui.report({ type: "task-started", task: tasks[i]!, reasons: [] });
    tui.report({ type: "task-finished", result: ran(tasks[i]!) });
    i++;
    await sleep(2);
  }
  const shown = i;
  expect(painter.frames.length).toBe(4);
  const gaps = painter.frames.slice(1).map((f, k) => f.at - painter.frames[k]!.at);
  // Node schedules the next tick from the loop's time as this one began, which on a busy loop is some ms behind
  // performance.now: a gap can look shorter than FRAME_MS by that much, never by a fifth (100 ms at the old 10 a second).
  for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(FRAME_MS * 0.8);
  tui.report({ type: "build-finished", ok: true, interrupted: false, durationMs: 1000 });
  await tui.close();
  expect(shown).toBeGreaterThan(4);
});

test("24.6: no frame for events that change nothing on screen: output of a task whose lines there is no room for, a clock within the same second", async () => {
  let now = 0;
  // Three rows: one running task's line and the bar, no room for its output.
  const { tui, painter } = reporter(["a", "b"], 3, () => now);
  tui.report({ type: "build-started", targets: ["a", "b"], tasks: 2, jobs: 2 });
  // The live area is drawn as the build starts (no delay here), then with the task started.
  expect(painter.frames.length).toBe(1);
  tui.report({ type: "task-started", task: "a", reasons: [] });
  await until(() => painter.frames.length === 2);
  expect(painter.frames[1]!.frame.lines).toEqual(["▸ a  0s", `${"░".repeat(30)} 0/2 · 0 ran · 0 cached`]);
  for (let k = 0; k < 50; k++) tui.report({ type: "task-output", task: "a", stream: "stdout", line: `line ${k}` });
  now = 900;
  // Several frame times pass: nothing shown changed, so nothing is drawn.
  await sleep(FRAME_MS * 4);
  expect(painter.frames.length).toBe(2);
  // The elapsed second changes: one frame, then a change of the bar: one more.
  now = 1000;
  await until(() => painter.frames.length === 3);
  expect(painter.frames[2]!.frame.lines).toEqual(["▸ a  1s", `${"░".repeat(30)} 0/2 · 0 ran · 0 cached`]);
  tui.report({ type: "task-finished", result: ran("a") });
  await until(() => painter.frames.length === 4);
  expect(painter.frames[3]!.frame.lines).toEqual([`${"█".repeat(15)}${"░".repeat(15)} 1/2 · 1 ran · 0 cached`]);
  await sleep(FRAME_MS * 2);
  expect(painter.frames.length).toBe(4);
  tui.report({ type: "build-finished", ok: true, interrupted: false, durationMs: 1000 });
  await tui.close();
}, 60_000);
