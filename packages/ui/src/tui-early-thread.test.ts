// First, before ink is loaded (here or on the TUI's thread, whose environment is this one's): see the module.
import "./test-support/outside-ci.js";
/**
 * The TUI's thread started before the build (issue 24.6): it loads ink and
 * warms up while the Buildfile loads, but the live area is drawn only
 * START_AFTER_MS into the build, as without it. The thread runs the compiled
 * module (a worker runs JavaScript), so these tests import it from dist/:
 * run `npm run build` after changing the source.
 */
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { BuildEvent, TaskResult } from "@rbuild/core";
import { expect, test } from "vitest";
import { startTuiThread, TuiReporter } from "../dist/tui-reporter.js";
import type { TuiPlan, TuiTerminal } from "../dist/index.js";

const sink = () => ({ text: "", write(t: string) { this.text += t; } });

const ran = (name: string): TaskResult => ({ name, status: "ran", cache: null, key: null, durationMs: 1500, exitCode: 0, reasons: [] });

const plan: TuiPlan = { tasks: new Set(["a"]), expectedMs: () => new Map([["a", 100]]) };

function terminal(): TuiTerminal & { written: string; writes: string[] } {
  return {
    written: "",
    writes: [],
    write(text: string) {
      this.written += text;
      this.writes.push(text);
    },
    size: () => ({ columns: 60, rows: 12 }),
    onResize: () => () => {},
  };
}

const events = {
  started: { type: "build-started", targets: ["a"], tasks: 1, jobs: 2 },
  aStarted: { type: "task-started", task: "a", reasons: [] },
  aFinished: { type: "task-finished", result: ran("a") },
  finished: { type: "build-finished", ok: true, interrupted: false, durationMs: 1500 },
} satisfies Record<string, BuildEvent>;

test("24.6: a TUI thread started early draws nothing for a build shorter than the live area's delay: only the text that stays is written, and the thread ends", async () => {
  const thread = startTuiThread();
  const exited = once(thread.worker, "exit");
  // Ink loaded and warmed up there, as while a Buildfile loads.
  expect(await thread.ready).toBe(true);
  const term = terminal();
  const stdout = sink();
  const stderr = sink();
  // The delay made long, so the build (half a second, for a warm thread to draw in if it were asked) is shorter.
  const tui = new TuiReporter({ terminal: term, stdout, stderr, plan, cwd: "/w", color: false, thread, startAfterMs: 60_000 });
  tui.report(events.started);
  tui.report(events.aStarted);
  await sleep(500);
  tui.report(events.aFinished);
  tui.report(events.finished);
  await tui.close();
  expect(term.written).toBe("");
  expect(stdout.text).toBe("");
  expect(stderr.text).toBe("rbuild: ok: 1 ran, 0 cached in 1.5s\n");
  await exited;
}, 60_000);

test("24.6: a thread started early draws the live area once the build has run START_AFTER_MS, in one write a frame, and its warm-up frame never reaches the terminal", async () => {
  const thread = startTuiThread();
  expect(await thread.ready).toBe(true);
  const term = terminal();
  const stdout = sink();
  const stderr = sink();
  // A clock that stands still: every frame shows the same elapsed time and estimate.
  const tui = new TuiReporter({ terminal: term, stdout, stderr, plan, cwd: "/w", color: false, thread, now: () => 0 });
  tui.report(events.started);
  tui.report(events.aStarted);
  for (let i = 0; i < 1200 && !term.written.includes("▸ a"); i++) await sleep(50);
  tui.report(events.aFinished);
  tui.report(events.finished);
  await tui.close();
  // Ink's synchronized-output and cursor codes aside: the frame (the bar as wide as 60 columns leave it), then
  // its rows and the cursor's erased as the live area goes, and the empty last frame.
  const shown = term.written.replace(/\x1b\[\?(2026[hl]|25[hl])/g, "");
  expect(shown).toBe("▸ a  0s\n" + "░".repeat(27) + " 0/1 · 0 ran · 0 cached · ETA <1s\n" + "\x1b[2K\x1b[1A".repeat(2) + "\x1b[2K\x1b[G\n");
  // The thread sends what ink writes for a frame as one message: one write for the frame, one for the end.
  expect(term.writes.length).toBe(2);
  expect(stderr.text).toBe("rbuild: ok: 1 ran, 0 cached in 1.5s\n");
}, 60_000);
