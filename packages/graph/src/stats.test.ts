import { describe, expect, test } from "vitest";
import { criticalPath, speedupWithJobs } from "./critical-path.js";
import { allStats, median, taskStats } from "./stats.js";
import { inputOf, ran, runs, task } from "./test-support/input.js";

describe("task stats", () => {
  test("23.2: duration is the median of recorded runs that ran, runs count all but skipped, hit rate is restored of counted", () => {
    const history = runs(
      { status: "ran", durationMs: 300 },
      { status: "cached", durationMs: 5 },
      { status: "ran", durationMs: 100 },
      { status: "failed", durationMs: 50 },
      { status: "skipped", durationMs: 0 },
      { status: "ran", durationMs: 200 },
    );
    expect(taskStats(task({ name: "a" }), history)).toEqual({ durationMs: 200, runs: 5, hitRate: 0.2 });
    expect(taskStats(task({ name: "a", kind: "impure" }), history)).toEqual({ durationMs: 200, runs: 5, hitRate: null });
    expect(taskStats(task({ name: "a" }), undefined)).toEqual({ durationMs: null, runs: 0, hitRate: null });
    // Only restored (say from a remote): the durations stored with its actions.
    expect(taskStats(task({ name: "a" }), { ...runs({ status: "cached", cache: "remote", durationMs: 3 }), actionDurationsMs: [900, 1100] })).toEqual({
      durationMs: 1000,
      runs: 1,
      hitRate: 1,
    });
    expect([median([]), median([4]), median([1, 2]), median([3, 1, 2])]).toEqual([null, 4, 2, 2]);
  });

  test("23.2: the critical path by recorded durations, unknown ones counted 0 and named, with the bounds", () => {
    const input = inputOf([{ name: "a" }, { name: "b", deps: ["a"] }, { name: "c" }, { name: "d", deps: ["b", "c"] }], {
      history: new Map([["a", ran(100)], ["c", ran(500)], ["d", ran(100)]]),
    });
    const path = criticalPath(input.tasks, allStats(input.tasks, input.history));
    expect(path).toEqual({ tasks: ["c", "d"], ms: 600, totalWorkMs: 700, speedupBound: 1.17, unknown: [] });
    expect(speedupWithJobs(path, 1)).toBe(1);
    expect(speedupWithJobs(path, 8)).toBe(1.17);
    const fresh = criticalPath(input.tasks, allStats(input.tasks, new Map()));
    expect(fresh).toEqual({ tasks: ["a", "b", "d"], ms: 0, totalWorkMs: 0, speedupBound: null, unknown: ["a", "b", "d"] });
  });
});
