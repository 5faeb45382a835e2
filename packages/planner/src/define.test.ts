import { describe, expect, test } from "vitest";
import { describeFailure, task, type TaskOptions } from "@rbuild/core";
import { defineTasks, TASK_FIELDS } from "./define.js";

const KNOWN_FIELDS = TASK_FIELDS.join(", ");

const ROOT = "/work/ws";

/** Defines the tasks and returns every failure message, without the location prefix. */
function problems(...options: unknown[]): string[] {
  const defs = defineTasks(options.map((o) => task(o as TaskOptions)), ROOT);
  if (defs.ok) return [];
  return defs.error.map((f) => describeFailure(f, { cwd: ROOT }).replace(/^.*define\.test\.ts:\d+:\d+: /, ""));
}

describe("defineTasks", () => {
  test("valid tasks are normalised: deps by name, env sorted and unique, cwd normalised, pure by default", () => {
    const build = task({ name: "build", run: "tsc", env: ["B", "A", "B"], cwd: "./pkg/a/" });
    const defs = defineTasks([build, task({ name: "test", deps: [build, "build"], pure: false })], ROOT);
    expect(defs.ok).toBe(true);
    if (!defs.ok) return;
    const b = defs.value.tasks.get("build")!;
    expect([b.env, b.cwd, b.pure, b.deps]).toEqual([["A", "B"], "pkg/a", true, []]);
    const t = defs.value.tasks.get("test")!;
    expect([t.deps, t.pure, t.run]).toEqual([["build"], false, undefined]);
  });

  test("the location of task() is the caller's line in the Buildfile", () => {
    const line = new Error().stack!.split("\n")[1]!.match(/:(\d+):\d+\)?$/)![1];
    const t = task({ name: "here" });
    expect(t.location?.file).toMatch(/define\.test\.ts$/);
    expect(t.location?.line).toBe(Number(line) + 1);
  });

  test("duplicate names are reported once, naming the name", () => {
    expect(problems({ name: "a", run: "x" }, { name: "a", run: "y" })).toEqual([
      expect.stringMatching(/^Task name "a" is declared more than once \(at .*define\.test\.ts:\d+:\d+ and .*define\.test\.ts:\d+:\d+\)\. Task names must be unique: rename one of them\.$/),
    ]);
  });

  test("an unknown dep suggests the nearest task", () => {
    expect(problems({ name: "build", run: "x" }, { name: "test", deps: ["biuld"] })).toEqual([
      'Task "test" depends on "biuld", but no task has that name. Did you mean "build"?',
    ]);
  });

  test("every invalid field is reported, with what to do", () => {
    expect(
      problems(
        { name: "" },
        { name: "has space" },
        { name: "-flag" },
        { name: "a", depz: ["x"] },
        { name: "b", deps: "x" },
        { name: "c", inputs: "src/**" },
        { name: "d", inputs: ["/etc/passwd", "../outside/**", "!"] },
        { name: "e", outputs: [3] },
        { name: "f", env: ["OK", "NOT-OK"] },
        { name: "g", run: "  " },
        { name: "h", run: 42 },
        { name: "i", pure: "yes" },
        { name: "j", cwd: "../up" },
        { name: "k", deps: [{}] },
      ),
    ).toEqual([
      'Task "?": `name` must be a non-empty string, got ""',
      'Task "has space": `name` must not contain whitespace or control characters, got "has space"',
      'Task "-flag": `name` must not start with "-" (it would read as a flag), got "-flag"',
      'Task "a": `depz` is not a task field. Did you mean `deps`? Known fields: ' + KNOWN_FIELDS + '.',
      'Task "b": `deps` must be an array of tasks or task names, got "x"',
      'Task "c": `inputs` must be an array of globs, got "src/**"',
      'Task "d": `inputs` contains the absolute path "/etc/passwd"; globs are relative to the Buildfile\'s directory',
      'Task "d": `inputs` contains "../outside/**", which leaves the workspace; globs must stay inside the Buildfile\'s directory',
      'Task "d": `inputs` contains an empty glob',
      'Task "e": `outputs` must contain only strings, got 3',
      'Task "f": `env` contains "NOT-OK", which is not a valid environment variable name',
      'Task "g": `run` must be a shell command string or an async function, got "  "; leave it out for a group task',
      'Task "h": `run` must be a shell command string or an async function, got 42; leave it out for a group task',
      'Task "i": `pure` must be true or false, got "yes"',
      'Task "j": `cwd` contains "../up", which leaves the workspace; paths must stay inside the Buildfile\'s directory',
      'Task "k": `deps` must contain tasks or task names, got an object',
    ]);
  });

  test("task() called without an object is reported", () => {
    expect(problems(undefined)).toEqual(['Task "?": `task()` must be called with an options object, got undefined']);
  });
});
