import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { collectTasks, type Task } from "@rbuild/core";
import { afterEach, expect, test } from "vitest";
import { discoverWorkspace, scripts } from "./index.js";

let roots: string[] = [];
afterEach(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
  roots = [];
});

function tree(files: Record<string, unknown>): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-siblings-")));
  roots.push(root);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), typeof content === "string" ? content : JSON.stringify(content));
  }
  return root;
}

test("22.2: the outputs of a package's other script tasks are not in its default inputs, whichever scripts() call declares them", () => {
  const root = tree({
    "package.json": { name: "root", private: true, workspaces: ["packages/*"] },
    "packages/p/package.json": { name: "p", version: "1.0.0", scripts: { build: "tsc", test: "vitest", lint: "eslint ." } },
  });
  const ws = discoverWorkspace(root);
  const stop = collectTasks();
  let tasks: Task[];
  try {
    tasks = [
      ...scripts("build", { workspace: ws, outputs: ["out/**"] }),
      ...scripts("test", { workspace: ws, outputs: ["coverage/**", "!coverage/keep"] }),
      // Its own inputs: left as they are, but its outputs leave the others' defaults.
      ...scripts("lint", { workspace: ws, inputs: ["src/**"], outputs: ["lint-report.txt"] }),
    ];
  } finally {
    stop();
  }
  expect(Object.fromEntries(tasks.map((t) => [t.name, t.options.inputs]))).toEqual({
    "p#build": ["packages/p/**", "!packages/p/node_modules/**", "packages/p/package.json", "!packages/p/out/**", "!packages/p/coverage/**", "!packages/p/lint-report.txt"],
    "p#test": ["packages/p/**", "!packages/p/node_modules/**", "packages/p/package.json", "!packages/p/coverage/**", "!packages/p/out/**", "!packages/p/lint-report.txt"],
    "p#lint": ["packages/p/src/**", "packages/p/package.json", "!packages/p/lint-report.txt"],
  });
});
