import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { describeFailure, task, type Task } from "@rbuild/core";
import { expandGlobs } from "@rbuild/hash";
import { defineTasks, plan } from "@rbuild/planner";
import { writeFiles } from "../../../test-support/files.js";
import { gatherInput } from "./gather.js";

let root: string;
beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-graph-")));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function gather(tasks: Task[], targets: string[]) {
  const defs = defineTasks(tasks, root);
  if (!defs.ok) throw new Error(defs.error.map((f) => describeFailure(f, { cwd: root })).join("\n"));
  const graph = plan(defs.value, targets);
  if (!graph.ok) throw new Error("plan failed");
  return gatherInput({ graph: graph.value, definitions: defs.value, storeDir: join(root, ".rbuild"), history: new Map(), jobs: 2 });
}

describe("gatherInput", () => {
  test("23.5: input files are expandGlobs' for every task (each pattern crawled once), outputs on disk, outside tasks apart", () => {
    writeFiles(root, {
      "a/src/x.ts": "",
      "a/src/y.ts": "",
      "a/out.txt": "",
      "a/node_modules/m/i.js": "",
      "b/src/z.ts": "",
      "b/gen/g.ts": "",
      ".rbuild/index.sqlite": "",
      "top.json": "",
    });
    const inputsOfB = ["b/src/**", "a/**", "!a/out.txt", "!a/node_modules", "top.json", "b/gen/*.ts", "!b/gen/g.ts"];
    const tasks = [
      task({ name: "a", inputs: ["a/**", "!a/out.txt"], outputs: ["a/out.txt"], run: "true" }),
      task({ name: "b", deps: ["a"], inputs: inputsOfB, outputs: ["b/dist/**"], run: "true" }),
      task({ name: "all", deps: ["b"] }),
      task({ name: "unplanned", outputs: ["b/gen/**"], run: "true" }),
    ];
    const input = gather(tasks, ["all"]);
    expect(input.tasks.map((t) => [t.name, t.kind])).toEqual([["a", "pure"], ["b", "pure"], ["all", "group"]]);
    expect(input.outside.map((t) => t.name)).toEqual(["unplanned"]);
    expect(Object.fromEntries(input.inputFiles)).toEqual({
      a: expandGlobs(root, ["a/**", "!a/out.txt"], { ignore: [".rbuild/**"] }),
      b: expandGlobs(root, inputsOfB, { ignore: [".rbuild/**"] }),
    });
    expect(input.inputFiles.get("b")).toEqual(["a/src/x.ts", "a/src/y.ts", "b/src/z.ts", "top.json"]);
    expect(Object.fromEntries(input.outputFiles)).toEqual({ a: ["a/out.txt"], unplanned: ["b/gen/g.ts"] });
    expect([input.storeDir, input.packages, input.imports.size]).toEqual([".rbuild", [], 0]);
  });
});
