import { describe, expect, test } from "vitest";
import { inputOf, ran, runs } from "../test-support/input.js";
import { impureUpstream } from "./impure-upstream.js";

describe("impure-upstream", () => {
  test("23.3: an impure task that pure tasks depend on is a warning counting what it keeps from the cache", () => {
    const input = inputOf(
      [
        { name: "fetch", kind: "impure", outputs: ["data.json"] },
        { name: "parse", deps: ["fetch"] },
        { name: "report", deps: ["parse"] },
        { name: "deploy", kind: "impure", deps: ["report"] },
      ],
      {
        history: new Map([
          ["fetch", runs({ durationMs: 100, outputsDigest: "a" }, { durationMs: 100, outputsDigest: "b" }, { durationMs: 120, outputsDigest: "b" })],
          ["parse", ran(300)],
          ["report", ran(500, 700)],
        ]),
      },
    );
    expect(impureUpstream(input)).toEqual([
      {
        code: "impure-upstream",
        severity: "warning",
        tasks: ["fetch", "parse"],
        message:
          '"fetch" is impure and "parse" depends on it: it runs in every build, and 2 pure tasks downstream run again whenever its outputs change (its outputs changed 1 time in its last 3 recorded runs)',
        evidence: { task: "fetch", directDependents: ["parse"], keptFromCache: 2, downstreamMs: 900, unknownDurations: 0, ownMs: 100, recordedOutputs: 3, outputChanges: 1 },
        savingMs: 1000,
        fix: 'make "fetch" pure (remove `pure: false` and declare its inputs and outputs), or remove it from deps of "parse"',
      },
    ]);
  });

  test("23.3: clean: impure tasks at the end of the graph, or with only impure dependents, give no hint", () => {
    const input = inputOf([
      { name: "build" },
      { name: "test", deps: ["build"] },
      { name: "deploy", kind: "impure", deps: ["test"] },
      { name: "notify", kind: "impure", deps: ["deploy"] },
      { name: "all", kind: "group", deps: ["notify"] },
    ]);
    expect(impureUpstream(input)).toEqual([]);
  });
});
