import { describe, expect, test } from "vitest";
import { describeClaimingBuild, parseClaimMessage } from "./claim-message.js";
import { parsePoolsSpec } from "./pools-spec.js";

describe("the claiming build, from each pool-resource commit format", () => {
  const cases: [message: string, described: string][] = [
    ["deploy/smoke `#12` claiming: worker-1", "deploy/smoke build 12"],
    ["deploy/smoke #12 claiming: worker-1", "deploy/smoke build 12"],
    ["deploy/smoke build 12 claiming: worker-1", "deploy/smoke build 12"],
    ["one-off build 4711 claiming: worker-1", "one-off build 4711"],
    ["main/deploy/smoke build 12 claiming: worker-1", "main/deploy/smoke build 12"],
    ['main/deploy/{"branch":"feature/x"}/smoke build 12 claiming: worker-1', 'main/deploy/{"branch":"feature/x"}/smoke build 12'],
    ["claiming: worker-1\n\nBuild URL: https://ci.test/teams/main/pipelines/deploy/jobs/smoke/builds/12 \n", "https://ci.test/teams/main/pipelines/deploy/jobs/smoke/builds/12"],
    ["adding claimed: worker-1", "no build (added already claimed)"],
    ["hand-edited the pool", 'an unrecognised commit ("hand-edited the pool")'],
  ];
  test.each(cases)("26.5: %j", (message, described) => {
    expect(describeClaimingBuild(parseClaimMessage(message))).toBe(described);
  });

  test("26.5: an instanced pipeline keeps team and pipeline in place (the Pix4D regex put them both in team)", () => {
    expect(parseClaimMessage('main/deploy/{"branch":"feature/x"}/smoke build 12 claiming: worker-1')).toEqual({
      kind: "job",
      team: "main",
      pipeline: "deploy",
      instanceVars: '{"branch":"feature/x"}',
      job: "smoke",
      build: "12",
    });
  });
});

describe("--pools", () => {
  test("26.5: name:minutes pairs", () => {
    expect(parsePoolsSpec("workers:60, testers:30")).toEqual({
      ok: true,
      value: [
        { name: "workers", staleAfterMinutes: 60 },
        { name: "testers", staleAfterMinutes: 30 },
      ],
    });
  });
  test.each([
    ["workers", '--pools needs comma-separated name:minutes pairs, minutes a positive whole number (e.g. --pools workers:60,testers:30); "workers" is not one.'],
    ["workers:0", '--pools needs comma-separated name:minutes pairs, minutes a positive whole number (e.g. --pools workers:60,testers:30); "workers:0" is not one.'],
    ["workers:60,workers:5", '--pools names "workers" twice.'],
    [".git:5", '--pools: ".git" is not a pool name: a pool is a top-level directory whose name does not start with ".".'],
  ])("26.5: %j is refused", (text, message) => {
    expect(parsePoolsSpec(text)).toEqual({ ok: false, error: message });
  });
});
