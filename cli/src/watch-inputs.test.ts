import { expect, test } from "vitest";
import type { Graph, GraphTask } from "@rbuild/planner";
import { WatchedInputs } from "./watch-inputs.js";

const ROOT = "/ws";

/** A graph of these tasks (name, deps, inputs, outputs), dependents filled in. */
function graph(tasks: readonly [name: string, deps: string[], inputs: string[], outputs: string[]][]): Graph {
  const map = new Map<string, GraphTask>();
  for (const [name, deps, inputs, outputs] of tasks) {
    const dependents = tasks.filter(([, other]) => other.includes(name)).map(([other]) => other);
    map.set(name, { name, deps, inputs, outputs, env: [], run: "true", pure: true, cwd: "", keyParts: [], keyPartsFrom: [], context: [], incremental: false, locate: () => undefined, dependents, priority: 1, inherited: [], stage: undefined });
  }
  return { root: ROOT, sourceDigest: "d", targets: [tasks.at(-1)![0]], tasks: map, stages: [] };
}

const workspace = { root: ROOT, cacheDir: `${ROOT}/.rbuild`, buildfile: `${ROOT}/Buildfile.ts`, buildfileSources: { files: [`${ROOT}/Buildfile.ts`, `${ROOT}/build/lib.ts`], searched: [] } };

test("24.3: the watch watches the input globs' bases and the Buildfile's sources, and a change makes its readers and their dependents stale", () => {
  const inputs = new WatchedInputs(
    workspace,
    graph([
      ["lib", [], ["lib/src/**/*.ts", "!lib/src/**/*.test.ts"], ["lib/dist/**"]],
      ["app", ["lib"], ["app/src/**", "lib/dist/**"], ["app/dist/**"]],
      ["vendor", [], ["node_modules/left-pad/index.js"], ["vendor.txt"]],
    ]),
  );
  expect(inputs.paths()).toEqual([`${ROOT}/Buildfile.ts`, `${ROOT}/app/src`, `${ROOT}/build/lib.ts`, `${ROOT}/lib/src`, `${ROOT}/node_modules/left-pad/index.js`]);
  expect(inputs.change(`${ROOT}/lib/src/a.ts`)).toEqual({ kind: "inputs", stale: new Set(["lib", "app"]) });
  expect(inputs.change(`${ROOT}/app/src/main.ts`)).toEqual({ kind: "inputs", stale: new Set(["app"]) });
  // Excluded by the glob, a declared output, the store, outside every glob: nothing.
  expect(inputs.change(`${ROOT}/lib/src/a.test.ts`)).toEqual({ kind: "none" });
  expect(inputs.change(`${ROOT}/lib/dist/a.js`)).toEqual({ kind: "none" });
  expect(inputs.change(`${ROOT}/.rbuild/index.db`)).toEqual({ kind: "none" });
  expect(inputs.change(`${ROOT}/README.md`)).toEqual({ kind: "none" });
  expect(inputs.change(`${ROOT}/build/lib.ts`)).toEqual({ kind: "buildfile" });
  expect(inputs.change(`${ROOT}/Buildfile.ts`)).toEqual({ kind: "buildfile" });
  // node_modules is entered here because a glob names it; .git never is, nor outputs' directories.
  expect(inputs.change(`${ROOT}/node_modules/left-pad/index.js`)).toEqual({ kind: "inputs", stale: new Set(["vendor"]) });
  expect(inputs.ignored(`${ROOT}/node_modules`)).toBe(false);
  expect(inputs.ignored(`${ROOT}/.git`)).toBe(true);
  expect(inputs.ignored(`${ROOT}/app/dist`)).toBe(true);
  expect(inputs.ignored(`${ROOT}/.rbuild/fresh`)).toBe(true);
  expect(inputs.taskCount).toBe(3);
});

test("24.3: a watch whose inputs name no node_modules never enters one; without a plan it watches the Buildfile's sources only", () => {
  const inputs = new WatchedInputs(workspace, graph([["all", [], ["**/*.ts"], []]]));
  expect(inputs.paths()).toEqual([ROOT]);
  expect(inputs.ignored(`${ROOT}/node_modules`)).toBe(true);
  expect(inputs.ignored(`${ROOT}/pkg/node_modules/x/index.ts`)).toBe(true);
  expect(inputs.change(`${ROOT}/pkg/src/a.ts`)).toEqual({ kind: "inputs", stale: new Set(["all"]) });
  const unplanned = new WatchedInputs(workspace, undefined);
  expect(unplanned.paths()).toEqual([`${ROOT}/Buildfile.ts`, `${ROOT}/build/lib.ts`]);
  expect(unplanned.change(`${ROOT}/pkg/src/a.ts`)).toEqual({ kind: "none" });
  expect(unplanned.taskCount).toBe(0);
});
