import { describe, expect, test } from "vitest";
import { inputOf, ran } from "../test-support/input.js";
import { serialBottleneck } from "./serial-bottleneck.js";

describe("serial-bottleneck", () => {
  test("23.3: a critical-path task most tasks wait for, with little beside it, is a warning with its share of the path", () => {
    const input = inputOf(
      [
        { name: "schema" },
        { name: "a", deps: ["schema"] },
        { name: "b", deps: ["schema"] },
        { name: "c", deps: ["schema"] },
        { name: "d", deps: ["schema"] },
        { name: "lint" },
        { name: "all", kind: "group", deps: ["a", "b", "c", "d", "lint"] },
      ],
      {
        jobs: 2,
        history: new Map([
          ["schema", ran(4000)],
          ["a", ran(500)],
          ["b", ran(400)],
          ["c", ran(300)],
          ["d", ran(200)],
          ["lint", ran(100)],
        ]),
      },
    );
    expect(serialBottleneck(input)).toEqual([
      {
        code: "serial-bottleneck",
        severity: "warning",
        tasks: ["schema"],
        message: '"schema" takes 4.0s, 89% of the 4.5s critical path, and 4 of the 5 other tasks wait for it: while it runs, 100ms of other work can run beside it on 2 cores',
        evidence: { task: "schema", ms: 4000, criticalPathMs: 4500, share: 0.889, waiting: 4, tasks: 5, besideMs: 100, jobs: 2, idleCoreMs: 3900 },
        savingMs: 4000,
        fix: 'split "schema" into smaller tasks that its dependents can start after one by one (each depending on the part it needs), or make it faster: everything after it waits for all of it',
      },
    ]);
  });

  test("23.3: clean: a short chain, enough work beside it, a small share of the path, or no durations give no hint", () => {
    const chain = inputOf([{ name: "lib" }, { name: "app", deps: ["lib"] }], { history: new Map([["lib", ran(1000)], ["app", ran(1000)]]) });
    expect(serialBottleneck(chain)).toEqual([]);

    const waiters = ["a", "b", "c", "d", "e"].map((name) => ({ name, deps: ["schema"] }));
    const busy = inputOf([{ name: "schema" }, ...waiters, { name: "f" }, { name: "g" }, { name: "h" }], {
      jobs: 2,
      history: new Map([["schema", ran(1000)], ...waiters.map(({ name }) => [name, ran(100)] as const), ["f", ran(1000)], ["g", ran(1000)], ["h", ran(1000)]]),
    });
    expect(serialBottleneck(busy)).toEqual([]);

    const small = inputOf([{ name: "root" }, ...["a", "b", "c"].map((name) => ({ name, deps: ["root"] })), { name: "x", deps: ["a"] }], {
      history: new Map([["root", ran(100)], ["a", ran(10)], ["b", ran(10)], ["c", ran(10)], ["x", ran(5000)]]),
    });
    expect(serialBottleneck(small)).toEqual([]);

    expect(serialBottleneck(inputOf([{ name: "schema" }, ...waiters]))).toEqual([]);
  });

  test("23.rt2: clean: a chain of packages, each built then tested, or a first link under a second, gives no hint", () => {
    const packages = ["util", "core", "app"];
    const tasks = packages.flatMap((name, i) => [
      { name: `${name}#build`, deps: i === 0 ? [] : [`${packages[i - 1]}#build`] },
      { name: `${name}#test`, deps: [`${name}#build`] },
    ]);
    const timed = (build: number, test: number) => new Map(tasks.map(({ name }) => [name, ran(name === "util#build" ? build : name.endsWith("#build") ? build / 2 : test)] as const));
    // The red-team's npm chain: util#build 588 ms, the largest share of the critical path, and every other task waits for it.
    expect(serialBottleneck(inputOf(tasks, { jobs: 2, history: timed(588, 100) }))).toEqual([]);
    // The same chain three times slower: long enough, but what waits for it waits in line anyway.
    expect(serialBottleneck(inputOf(tasks, { jobs: 2, history: timed(1800, 300) }))).toEqual([]);
  });
});
