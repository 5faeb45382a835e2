import { describe, expect, test } from "vitest";
import { inputOf, ran, runs } from "../test-support/input.js";
import { nondeterministic } from "./nondeterministic.js";

describe("nondeterministic", () => {
  test("23.3: the same key recorded with different output digests is an error naming the outputs that differ", () => {
    const input = inputOf([{ name: "bundle" }, { name: "test", deps: ["bundle"] }, { name: "docs" }], {
      history: new Map([
        [
          "bundle",
          runs(
            // A --force rerun of k1, then a remote hit of k1 that another machine built, then the first run.
            { key: "k1", durationMs: 400, outputsDigest: "d2", outputs: { "dist/app.js": "x2", "dist/app.js.map": "m", "dist/stamp.txt": "s2" } },
            { key: "k1", status: "cached", cache: "remote", durationMs: 30, outputsDigest: "d3", outputs: null },
            { key: "k1", durationMs: 380, outputsDigest: "d1", outputs: { "dist/app.js": "x1", "dist/app.js.map": "m", "dist/stamp.txt": "s1" } },
            { key: "k0", durationMs: 390, outputsDigest: "d0" },
          ),
        ],
        ["test", ran(900)],
        // A deterministic task: the same digest for the same key, whether run again or restored.
        ["docs", runs({ key: "k5", outputsDigest: "e" }, { key: "k5", status: "cached", cache: "local", outputsDigest: "e" }, { key: "k4", outputsDigest: "f" })],
      ]),
    });
    expect(nondeterministic(input)).toEqual([
      {
        code: "nondeterministic",
        severity: "error",
        tasks: ["bundle"],
        message:
          '"bundle" gave 3 different outputs for the same key in its recorded runs: dist/app.js, dist/stamp.txt differ; its cached result depends on who built it first, and the 1 pure task downstream misses the cache whenever they flip (900ms)',
        evidence: { task: "bundle", key: "k1", outputsDigests: ["d2", "d3", "d1"], runs: 3, differingPaths: ["dist/app.js", "dist/stamp.txt"], downstream: 1, downstreamMs: 900 },
        savingMs: 900,
        fix: 'make "bundle" write the same bytes for the same inputs: no timestamps, random ids, absolute paths or unordered listings in "dist/app.js" and "dist/stamp.txt"',
      },
    ]);
  });

  test("23.3: without per-file digests of both the hint says so; keys seen once, failures and impure tasks give none", () => {
    const input = inputOf([{ name: "a" }, { name: "clock", kind: "impure" }, { name: "b" }], {
      history: new Map([
        ["a", runs({ key: "k1", outputsDigest: "d2" }, { key: "k1", outputsDigest: "d1" })],
        // An impure task has no key; a failed run has no outputs.
        ["clock", runs({ key: null, outputsDigest: "t2" }, { key: null, outputsDigest: "t1" })],
        ["b", runs({ key: "k2", outputsDigest: "d2" }, { key: "k1", outputsDigest: "d1" }, { key: "k1", status: "failed", outputsDigest: null })],
      ]),
    });
    expect(nondeterministic(input).map((hint) => [hint.tasks, hint.message, hint.evidence["differingPaths"], hint.savingMs])).toEqual([
      [
        ["a"],
        '"a" gave 2 different outputs for the same key in its recorded runs: the index has no per-file digests of both to say which outputs differ; its cached result depends on who built it first',
        null,
        null,
      ],
    ]);
    expect(nondeterministic(inputOf([{ name: "a" }, { name: "b", deps: ["a"] }], { history: new Map([["a", ran(10, 20, 30)]]) }))).toEqual([]);
  });
});
