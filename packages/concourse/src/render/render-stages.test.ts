import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { renderPipeline, validatePipeline, type PipelineStage, type PipelineTask } from "../index.js";

const task = (name: string, fields: Partial<PipelineTask> = {}): PipelineTask => ({ name, deps: [], group: false, pure: true, ...fields });
const options = { image: "acme/rbuild-ci:1", remote: "https://rbuild-cache.example:8080" };

function rendered(tasks: readonly PipelineTask[], stages: readonly PipelineStage[]) {
  const result = renderPipeline(tasks, options, stages);
  if (!result.ok) throw new Error(result.error);
  expect(validatePipeline(parse(result.value.yaml), { strict: true })).toEqual({ errors: [], warnings: [] });
  return result.value;
}

/** Each job's `passed:` (undefined for none), by job name. */
const passed = (config: { jobs: readonly unknown[] }): Record<string, unknown> => Object.fromEntries((config.jobs as any[]).map((job) => [job.name, job.plan[0].passed]));

describe("28.1: stages in a pipeline", () => {
  // deploy-pipeline's shape: ci (build -> test -> package), staging (migrate after test, deploy after package, smoke after both), production (promote).
  const tasks = [
    task("build", { stage: "ci" }),
    task("test", { deps: ["build"], stage: "ci" }),
    task("package", { deps: ["test"], stage: "ci" }),
    task("migrate", { deps: ["test"], stage: "staging", pure: false }),
    task("deploy", { deps: ["package"], stage: "staging", pure: false }),
    task("smoke", { deps: ["deploy", "migrate"], stage: "staging", pure: false }),
    task("promote", { deps: ["smoke"], stage: "Production", pure: false }),
    task("release", { deps: ["promote"], group: true }),
  ];
  const stages: PipelineStage[] = [
    { name: "ci", tasks: ["build", "test", "package"], after: [] },
    { name: "staging", tasks: ["migrate", "deploy", "smoke"], after: ["ci"] },
    { name: "Production", tasks: ["promote"], after: ["staging"] },
  ];

  test("28.1: a group per stage (a tab of the pipeline), its jobs in the pipeline's order; a stage's jobs wait for the jobs of the stages it follows", () => {
    const pipeline = rendered(tasks, stages);
    expect(pipeline.config.groups).toEqual([
      { name: "ci", jobs: ["build", "test", "package"] },
      { name: "staging", jobs: ["deploy", "migrate", "smoke"] },
      { name: "production", jobs: ["promote"] },
    ]);
    // migrate waits for all of ci: for package beside its dep test (build is waited for through test).
    // smoke and promote wait for their stages' predecessors through their deps already.
    expect(passed(pipeline.config)).toEqual({ build: undefined, test: ["build"], package: ["test"], migrate: ["package", "test"], deploy: ["package"], smoke: ["deploy", "migrate"], promote: ["smoke"] });
  });

  test("28.1: a stage's order without deps: each of its jobs waits for the last jobs of the stage it follows, and comes after them", () => {
    const pipeline = rendered(
      [task("lint", { stage: "check" }), task("unit", { stage: "check" }), task("e2e", { deps: ["unit"], stage: "check" }), task("ship", { stage: "out" })],
      [
        { name: "check", tasks: ["lint", "unit", "e2e"], after: [] },
        { name: "out", tasks: ["ship"], after: ["check"] },
      ],
    );
    expect(passed(pipeline.config)).toEqual({ lint: undefined, unit: undefined, e2e: ["unit"], ship: ["e2e", "lint"] });
    expect(pipeline.config.jobs.map((job) => job.name)).toEqual(["lint", "unit", "e2e", "ship"]);
  });

  test("28.1: when stages are declared, the jobs of tasks in no stage are the group `other` (`other-2` beside a stage named other); without stages, no groups", () => {
    const loose = [task("a", { stage: "other" }), task("b"), task("c", { stage: "x" })];
    const pipeline = rendered(loose, [
      { name: "other", tasks: ["a"], after: [] },
      { name: "x", tasks: ["c"], after: [] },
    ]);
    expect(pipeline.config.groups).toEqual([
      { name: "other", jobs: ["a"] },
      { name: "x", jobs: ["c"] },
      { name: "other-2", jobs: ["b"] },
    ]);
    expect(rendered([task("a"), task("b")], []).config.groups).toBeUndefined();
  });

  test("28.1: a stage of groups only has no tab; the stages after it wait for what its groups stand for", () => {
    const pipeline = rendered(
      [task("lib"), task("all", { deps: ["lib"], group: true, stage: "build" }), task("ship", { stage: "out" })],
      [
        { name: "build", tasks: ["all"], after: [] },
        { name: "out", tasks: ["ship"], after: ["build"] },
      ],
    );
    expect([pipeline.config.groups, passed(pipeline.config)]).toEqual([
      [
        { name: "out", jobs: ["ship"] },
        { name: "other", jobs: ["lib"] },
      ],
      { lib: undefined, ship: ["lib"] },
    ]);
  });

  test("28.1: stages render the same text whatever order the tasks came in", () => {
    expect(rendered([...tasks].reverse(), stages).yaml).toBe(rendered(tasks, stages).yaml);
  });
});
