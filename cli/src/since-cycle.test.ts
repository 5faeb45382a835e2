import { describeFailure, task } from "@rbuild/core";
import { defineTasks, plan } from "@rbuild/planner";
import { expect, test } from "vitest";
import { selectAffected } from "./since.js";

test("3: --since over a dependency cycle keeps the targets, so that the planner names the cycle instead of a selection hiding it", () => {
  const a = task({ name: "a", deps: ["b"], inputs: ["a.txt"], run: "true" });
  const b = task({ name: "b", deps: [a], run: "true" });
  const top = task({ name: "top", deps: [b], run: "true" });
  const defs = defineTasks([a, b, top], "/w");
  if (!defs.ok) throw new Error("the test's tasks do not define");
  const noSources = { files: [], searched: [] };
  expect(selectAffected(defs.value, ["top"], "main", [], noSources, { ignore: [], reaching: "tasks top reaches" })).toEqual({ targets: ["top"] });
  const graph = plan(defs.value, ["top"]);
  expect(!graph.ok && graph.error.map((f) => (f.reason === "cycle" ? f.path : describeFailure(f, { cwd: "/w" })))).toEqual([["b", "a", "b"]]);
});
