// First, before ink is loaded: see the module.
import "./test-support/outside-ci.js";
import { expect, test } from "vitest";
import { PlainReporter } from "./plain-reporter.js";
import { TuiState } from "./tui-state.js";

const sink = () => ({ text: "", write(t: string) { this.text += t; } });

test("26.6: a stage's start is a line of its own, in the plain output after the live task's block and in the TUI's notes", () => {
  const stdout = sink();
  const stderr = sink();
  const plain = new PlainReporter({ stdout, stderr, cwd: "/" });
  const state = new TuiState({ tasks: new Set(["a", "b"]), expectedMs: () => new Map() }, { stdout: sink(), stderr: sink() });
  const events = [
    { type: "build-started", targets: ["b"], tasks: 2, jobs: 1 },
    { type: "stage-started", stage: "build", tasks: 1 },
    { type: "task-started", task: "a", reasons: [] },
    { type: "task-output", task: "a", stream: "stdout", line: "made" },
    { type: "task-finished", result: { name: "a", status: "ran", cache: null, key: null, durationMs: 5, exitCode: 0, reasons: [] } },
    { type: "stage-finished", stage: "build", ok: true },
    { type: "stage-started", stage: "test", tasks: 1 },
    { type: "task-started", task: "b", reasons: [] },
    { type: "task-finished", result: { name: "b", status: "ran", cache: null, key: null, durationMs: 5, exitCode: 0, reasons: [] } },
    { type: "stage-finished", stage: "test", ok: true },
  ] as const;
  for (const event of events) {
    plain.report(event);
    state.apply(event, 0);
  }
  expect(stdout.text).toBe("── stage build ──\n> a\n[a] made\n✓ a (5ms)\n── stage test ──\n> b\n✓ b (5ms)\n");
  expect(state.notes).toEqual(["── stage build ──", "── stage test ──"]);
});
