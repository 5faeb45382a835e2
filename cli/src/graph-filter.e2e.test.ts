/**
 * `rbuild graph --filter` and `rbuild graph <task>`: the tasks selected as
 * `rbuild run` selects them, drawn with their deps; hints only about the
 * selected tasks, with evidence from every task.
 */
import { describe, expect, test } from "vitest";
import { testWorkspace } from "./test-support/workspace.js";

/**
 * An npm workspace (util, app, docs) with tasks named <package>#<script> by
 * hand: util#build reads its own outputs (broad-input), app#build reads what
 * the root's codegen writes without depending on it (missing-dep), docs has
 * no task at all.
 */
const FILES: Record<string, string> = {
  "package.json": JSON.stringify({ name: "root", private: true, workspaces: ["packages/*"] }),
  "packages/util/package.json": JSON.stringify({ name: "util", version: "1.0.0" }),
  "packages/util/src/u.txt": "util\n",
  "packages/app/package.json": JSON.stringify({ name: "app", version: "1.0.0", dependencies: { util: "1.0.0" } }),
  "packages/app/src/a.txt": "app\n",
  "packages/docs/package.json": JSON.stringify({ name: "docs", version: "1.0.0" }),
  "schema.txt": "schema\n",
  "Buildfile.ts": `import { task } from "rbuild";
const util = task({ name: "util#build", inputs: ["packages/util/src/**", "packages/util/dist/**"], outputs: ["packages/util/dist/**"], run: "mkdir -p packages/util/dist && cp packages/util/src/u.txt packages/util/dist/" });
const codegen = task({ name: "codegen", inputs: ["schema.txt"], outputs: ["packages/app/src/gen/**"], run: "mkdir -p packages/app/src/gen && cp schema.txt packages/app/src/gen/" });
const app = task({ name: "app#build", deps: [util], inputs: ["packages/app/src/**"], outputs: ["packages/app/dist/**"], run: "mkdir -p packages/app/dist && cp packages/app/src/a.txt packages/app/dist/" });
task({ name: "all", deps: [app, codegen] });
`,
};

interface Report {
  readonly tasks: { readonly name: string }[];
  readonly criticalPath: { readonly tasks: string[] };
  readonly hints: { readonly code: string; readonly tasks: string[] }[];
}

const summary = (stdout: string) => {
  const report = JSON.parse(stdout) as Report;
  return { tasks: report.tasks.map((task) => task.name), hints: report.hints.map((hint) => [hint.code, ...hint.tasks]) };
};

describe("rbuild graph --filter", () => {
  test("23.filter: the selected packages' tasks and their deps are drawn; hints only about the selected tasks, a writer outside them still named", async () => {
    const ws = testWorkspace(FILES);
    const whole = await ws.run(["graph", "--format", "json"]);
    expect([whole.exitCode, whole.stderr]).toEqual([0, ""]);
    expect(summary(whole.stdout)).toEqual({
      tasks: ["util#build", "codegen", "app#build", "all"],
      hints: [
        ["missing-dep", "app#build", "codegen"],
        ["broad-input", "util#build"],
        ["critical-path", "util#build", "app#build", "all"],
      ],
    });

    // app alone: util#build is drawn (app#build needs it) but its hint is util's, not app's; codegen is outside the graph and still the evidence.
    const app = await ws.run(["graph", "--filter", "app", "-j", "2"]);
    expect(app).toEqual({
      exitCode: 0,
      stderr: "",
      stdout: `2 tasks, 1 hint: 1 error

error missing-dep: "app#build" has an input glob ("packages/app/src/**") that would match a path such as packages/app/src/gen/x, an output of "codegen" ("packages/app/src/gen/**"), but does not depend on "codegen": the two can run at once, and "app#build" may read a stale or half-written file
  fix: add "codegen" to deps of "app#build"

critical path: 2 tasks, 0ms of 0ms total work
  util#build  no record
  app#build   no record
the longest chain is 2 tasks, with no recorded durations yet: build once to measure it
  fix: run a build, then \`rbuild graph\` again to see where the time goes
`,
    });

    // app with its dependencies' packages: util#build is selected too.
    const withDeps = await ws.run(["graph", "-F", "app...", "--format", "json"]);
    expect(summary(withDeps.stdout)).toEqual({
      tasks: ["util#build", "app#build"],
      hints: [
        ["missing-dep", "app#build", "codegen"],
        ["broad-input", "util#build"],
        ["critical-path", "util#build", "app#build"],
      ],
    });

    // --check looks at the selected hints only: util's is a warning, app's an error.
    expect((await ws.run(["graph", "--filter", "util", "--check"])).exitCode).toBe(0);
    expect((await ws.run(["graph", "--filter", "app", "--check"])).exitCode).toBe(1);
  });

  test("23.filter: named targets as for a run: the whole plan analysed, or the filter applied to what they reach", async () => {
    const ws = testWorkspace(FILES);
    const named = await ws.run(["graph", "app#build", "--format", "json"]);
    expect([named.exitCode, named.stderr, summary(named.stdout)]).toEqual([
      0,
      "",
      {
        tasks: ["util#build", "app#build"],
        hints: [
          ["missing-dep", "app#build", "codegen"],
          ["broad-input", "util#build"],
          ["critical-path", "util#build", "app#build"],
        ],
      },
    ]);
    const narrowed = await ws.run(["graph", "all", "--filter", "util", "--format", "json"]);
    expect([narrowed.exitCode, narrowed.stderr, summary(narrowed.stdout)]).toEqual([
      0,
      "",
      { tasks: ["util#build"], hints: [["broad-input", "util#build"], ["critical-path", "util#build"]] },
    ]);
  });

  test("23.filter: the errors of a run: a filter matching no package, an unknown task; a package without tasks is nothing to do", async () => {
    const ws = testWorkspace(FILES);
    expect(await ws.run(["graph", "--filter", "ap"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: 'rbuild: error: --filter "ap" matches no package of the workspace; its packages are: util, app, docs\nRun `rbuild --help` for usage.\n',
    });
    const run = await ws.run(["all", "--filter", "ap"]);
    expect(run.stderr).toBe('rbuild: error: --filter "ap" matches no package of the workspace; its packages are: util, app, docs\nRun `rbuild --help` for usage.\n');
    expect(await ws.run(["graph", "al", "--filter", "app"])).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: 'rbuild: error: Unknown task "al". Did you mean "all"? Run `rbuild list` to see every task.\n',
    });

    // As a run says it and succeeds; the graph written is the empty one.
    expect(await ws.run(["graph", "--filter", "docs", "--format", "json", "--out", "graph.json", "--check"])).toEqual({
      exitCode: 0,
      stdout: "",
      stderr: "rbuild: --filter docs selects docs, and none of the Buildfile's tasks belongs to it (tasks named <package>#<script>, as scripts() declares them): nothing to do.\n",
    });
    expect(summary(ws.read("graph.json"))).toEqual({ tasks: [], hints: [] });
    expect((await ws.run(["graph", "app#build", "--filter", "docs"])).stderr).toBe(
      "rbuild: --filter docs selects docs, and none of the tasks app#build reaches belongs to it (tasks named <package>#<script>, as scripts() declares them): nothing to do.\n",
    );
  });
});
