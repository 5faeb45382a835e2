// First, before ink is loaded: see the module.
import "./test-support/outside-ci.js";
import type { BuildEvent } from "@rbuild/core";
import { expect, test } from "vitest";
import { TuiState } from "./tui-state.js";
import { liveLines } from "./tui-lines.js";

const sink = () => ({ text: "", write(t: string) { this.text += t; } });

test("24.1: the live area shows a task's last lines that say something: npm's blank banner lines take no row", () => {
  const out = sink();
  const state = new TuiState({ tasks: new Set(["@nu/app#test"]), expectedMs: () => new Map() }, { stdout: out, stderr: out });
  const lines = ["", "> @nu/app@1.0.0 test", "> node test.js", "", "  "];
  const events: BuildEvent[] = [
    { type: "build-started", targets: ["@nu/app#test"], tasks: 1, jobs: 1 },
    { type: "task-started", task: "@nu/app#test", reasons: [] },
    ...lines.map((line): BuildEvent => ({ type: "task-output", task: "@nu/app#test", stream: "stdout", line })),
  ];
  for (const event of events) state.apply(event, 0);
  expect(liveLines(state.view(2000), { columns: 80, rows: 24 }, false)).toEqual([
    "▸ @nu/app#test  2s",
    "  │ > @nu/app@1.0.0 test",
    "  │ > node test.js",
    "░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░ 0/1 · 0 ran · 0 cached",
  ]);
});
