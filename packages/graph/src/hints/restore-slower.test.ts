import { describe, expect, test } from "vitest";
import { inputOf, runs } from "../test-support/input.js";
import { restoreSlower } from "./restore-slower.js";

describe("restore-slower", () => {
  test("23.3: a task whose recorded restores take longer than its runs is an info hint saving the difference", () => {
    const input = inputOf([{ name: "copy-assets", outputs: ["public/**"] }], {
      history: new Map([
        [
          "copy-assets",
          runs(
            { status: "cached", cache: "remote", durationMs: 900, restoreMs: 900 },
            { status: "cached", cache: "local", durationMs: 700, restoreMs: 700 },
            // Found up to date by its freshness record: nothing restored, not counted.
            { status: "cached", cache: "local", durationMs: 1, restoreMs: null },
            { status: "cached", cache: "local", durationMs: 500, restoreMs: 500 },
            { status: "ran", durationMs: 200 },
            { status: "ran", durationMs: 240 },
          ),
        ],
      ]),
    });
    expect(restoreSlower(input)).toEqual([
      {
        code: "restore-slower",
        severity: "info",
        tasks: ["copy-assets"],
        message: 'restoring "copy-assets" from the cache took 700ms (the median of 3 recorded restores, 1 from the remote cache), longer than running it (220ms)',
        evidence: { task: "copy-assets", restoreMs: 700, runMs: 220, restores: 3, remoteRestores: 1, outputs: ["public/**"] },
        savingMs: 480,
        fix: 'narrow the outputs of "copy-assets" to what its dependents read (fewer, smaller files restore faster), or, if no pure task depends on it, let it run every time with `pure: false`',
      },
    ]);
  });

  test("23.3: clean: restores faster than runs, slower by less than the margin, or with no run time recorded give no hint", () => {
    const input = inputOf([{ name: "fast" }, { name: "close" }, { name: "unknown" }], {
      history: new Map([
        ["fast", runs({ status: "cached", cache: "local", durationMs: 20, restoreMs: 20 }, { status: "ran", durationMs: 800 })],
        ["close", runs({ status: "cached", cache: "local", durationMs: 40, restoreMs: 40 }, { status: "ran", durationMs: 5 })],
        ["unknown", runs({ status: "cached", cache: "remote", durationMs: 600, restoreMs: 600 })],
      ]),
    });
    expect(restoreSlower(input)).toEqual([]);
  });
});
