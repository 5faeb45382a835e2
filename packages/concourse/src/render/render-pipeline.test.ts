import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { concourseName, imageResource, renderPipeline, uniqueNames, validatePipeline, type PipelineTask } from "../index.js";

const task = (name: string, fields: Partial<PipelineTask> = {}): PipelineTask => ({ name, deps: [], group: false, pure: true, ...fields });
const options = { image: "acme/rbuild-ci:1", remote: "https://rbuild-cache.example:8080" };

function rendered(tasks: readonly PipelineTask[]) {
  const result = renderPipeline(tasks, options);
  if (!result.ok) throw new Error(result.error);
  return result.value;
}

describe("28.1: task names as Concourse identifiers", () => {
  test("28.1: lowercased, other characters as one '-', digits-only and empty names prefixed", () => {
    expect(["compile:main", "@acme/app#build", "Build", "compile:Grüße", "a__b..c", "--x--", "123", "#", "日本:テスト", "Ǆx"].map(concourseName)).toEqual([
      "compile-main",
      "acme-app-build",
      "build",
      "compile-grüße",
      "a__b..c",
      "x",
      "task-123",
      "task",
      "日本-テスト",
      "ǆx",
    ]);
  });

  test("28.1: names that map alike are told apart (a name that is its own identifier keeps it, then the order of the task names), whatever order they came in", () => {
    const expected = new Map([
      ["build", "build"],
      ["a-b-2", "a-b-2"],
      ["Build", "build-2"],
      ["a/b", "a-b"],
      ["a:b", "a-b-3"],
    ]);
    expect(uniqueNames(["build", "a/b", "Build", "a-b-2", "a:b"])).toEqual(expected);
    expect(uniqueNames(["a:b", "a-b-2", "Build", "build", "a/b"])).toEqual(expected);
  });
});

describe("28.1: rendering a graph as a pipeline", () => {
  test("28.1: a job per task running `rbuild run <task> --only`, passed: on the one source resource naming the deps' jobs, groups looked through", () => {
    const pipeline = rendered([
      task("lib"),
      task("gen:Code"),
      task("all", { group: true, deps: ["lib", "gen:Code"] }),
      task("app", { deps: ["all", "lib"] }),
    ]);
    expect([...pipeline.jobs]).toEqual([
      ["lib", "lib"],
      ["gen:Code", "gen-code"],
      ["app", "app"],
    ]);
    expect(pipeline.config).toEqual({
      resources: [{ name: "source", type: "git", source: { uri: "((source-uri))", branch: "((source-branch))" } }],
      jobs: ["gen-code", "lib", "app"].map((name) => ({
        name,
        plan: [
          { get: "source", ...(name === "app" ? { passed: ["gen-code", "lib"] } : {}), trigger: true },
          {
            task: name,
            config: {
              platform: "linux",
              image_resource: { type: "registry-image", source: { repository: "acme/rbuild-ci", tag: "1" } },
              inputs: [{ name: "source" }],
              params: { CI: "true", RBUILD_REMOTE_CACHE: "https://rbuild-cache.example:8080", RBUILD_TOKEN: "((rbuild-cache-token))" },
              run: { path: "rbuild", args: ["run", name === "gen-code" ? "gen:Code" : name, "--only"], dir: "source" },
            },
          },
        ],
      })),
    });
    // The YAML holds the same config, with the task of each job in a comment.
    expect(parse(pipeline.yaml)).toEqual(pipeline.config);
    expect(pipeline.yaml.match(/^ {2}# task: .*$/gm)).toEqual(["  # task: gen:Code", "  # task: lib", "  # task: app"]);
    expect(validatePipeline(parse(pipeline.yaml), { strict: true })).toEqual({ errors: [], warnings: [] });
  });

  test("28.1: a pool becomes a serial group, an impure task's job has no trigger", () => {
    const pipeline = rendered([task("migrate", { pure: false, pool: "Staging DB" }), task("seed", { deps: ["migrate"], pool: "Staging DB" })]);
    const [migrate, seed] = pipeline.config.jobs as any[];
    expect([migrate.serial_groups, migrate.plan[0]]).toEqual([["staging-db"], { get: "source" }]);
    expect([seed.serial_groups, seed.plan[0]]).toEqual([["staging-db"], { get: "source", passed: ["migrate"], trigger: true }]);
  });

  test("28.1: the same graph in another order renders the same text", () => {
    const tasks = [task("a"), task("b", { deps: ["a"] }), task("c", { deps: ["a"] }), task("d", { deps: ["b", "c"] })];
    expect(rendered([...tasks].reverse()).yaml).toBe(rendered(tasks).yaml);
  });

  test("28.1: a task's own image over --image; bad images and a graph of groups only are refused", () => {
    const pipeline = rendered([task("a", { image: "registry.example:5000/tools/node@sha256:" + "ab".repeat(32) })]);
    expect((pipeline.config.jobs[0] as any).plan[1].config.image_resource).toEqual({
      type: "registry-image",
      source: { repository: "registry.example:5000/tools/node" },
      version: { digest: "sha256:" + "ab".repeat(32) },
    });
    expect(renderPipeline([task("a")], { ...options, image: "not an image" })).toEqual({ ok: false, error: '"not an image" is not a container image reference; give one such as node:20 or registry.example:5000/acme/ci:1.2.' });
    expect(renderPipeline([task("g", { group: true })], options)).toEqual({ ok: false, error: "There is nothing to render: the tasks given are groups only, with no task that runs a command." });
  });

  test("28.1: image references", () => {
    expect(["node", "node:20", "localhost:5000/a/b:c", "a/b@sha256:" + "0".repeat(64), "a:", "a//b", ":1"].map(imageResource)).toEqual([
      { type: "registry-image", source: { repository: "node" } },
      { type: "registry-image", source: { repository: "node", tag: "20" } },
      { type: "registry-image", source: { repository: "localhost:5000/a/b", tag: "c" } },
      { type: "registry-image", source: { repository: "a/b" }, version: { digest: "sha256:" + "0".repeat(64) } },
      undefined,
      undefined,
      undefined,
    ]);
  });
});
