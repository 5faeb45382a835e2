import { expect, test } from "vitest";
import { buildRef } from "./build-check.js";
import { parseClaimMessage } from "./claim-message.js";

const ci = { url: "https://ci.example.org/", team: "main" };
const ref = (message: string) => buildRef(parseClaimMessage(message), ci);

test("26.5: the build a claim names, as Concourse is asked about it (never a guess)", () => {
  expect(ref("ops/deploy/smoke build 12 claiming: w1")).toEqual({ kind: "job", team: "ops", pipeline: "deploy", job: "smoke", name: "12" });
  expect(ref("deploy/smoke build 12 claiming: w1")).toEqual({ kind: "job", team: "main", pipeline: "deploy", job: "smoke", name: "12" });
  expect(ref("one-off build 345 claiming: w1")).toEqual({ kind: "one-off", id: 345 });
  expect(ref("claiming: w1\n\nBuild URL: https://ci.example.org/teams/main/pipelines/deploy/jobs/smoke/builds/7 ")).toEqual({ kind: "job", team: "main", pipeline: "deploy", job: "smoke", name: "7" });
  expect(ref("claiming: w1\n\nBuild URL: https://ci.example.org/builds/88")).toEqual({ kind: "one-off", id: 88 });
  expect(ref("claiming: w1\n\nBuild URL: https://other.example.org/builds/88")).toEqual({ kind: "unidentified", why: "its build URL https://other.example.org/builds/88 is not on https://ci.example.org" });
  expect(ref("claiming: w1\n\nBuild URL: https://ci.example.org/teams/main/pipelines/deploy/jobs/smoke/builds/7?vars.env=%22a%22")).toEqual({
    kind: "unidentified",
    why: "its build URL https://ci.example.org/teams/main/pipelines/deploy/jobs/smoke/builds/7?vars.env=%22a%22 names an instanced pipeline",
  });
  expect(ref("main/deploy/env:a/smoke build 3 claiming: w1")).toEqual({ kind: "unidentified", why: "the claim names an instanced pipeline, whose instance vars the commit message does not give exactly" });
  expect(ref("adding claimed: w1")).toEqual({ kind: "unidentified", why: "the lock was added already claimed, by no build" });
  expect(ref("moved by hand")).toEqual({ kind: "unidentified", why: "the claim commit's message names no build" });
});
