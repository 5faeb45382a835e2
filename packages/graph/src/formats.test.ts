import { spawnSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import { analyse } from "./analyse.js";
import { formatDot } from "./format-dot.js";
import { formatMermaid } from "./format-mermaid.js";
import { formatText } from "./format-text.js";
import { inputOf, ran } from "./test-support/input.js";

const HAS_DOT = spawnSync("dot", ["-V"]).status === 0;

// Names with the characters each format must escape.
const input = inputOf(
  [
    { name: 'gen "quoted"', outputs: ["src/gen/**"] },
    { name: "lib\\<b>", inputs: ["src/**"], outputs: ["dist/**"] },
    { name: "app & co", deps: ["lib\\<b>"] },
    { name: "all", kind: "group", deps: ["app & co"] },
  ],
  { history: new Map([["lib\\<b>", ran(1500)], ["app & co", ran(250)]]) },
);

describe("formats", () => {
  test("23.2: hints most valuable first: severity, then the time they save", () => {
    const report = analyse(input);
    expect(report.hints.map((hint) => [hint.severity, hint.code])).toEqual([
      ["error", "missing-dep"],
      ["info", "critical-path"],
    ]);
    expect(formatText(report)).toBe(`4 tasks, 1 hint: 1 error

error missing-dep: "lib\\\\<b>" has an input glob ("src/**") that would match a path such as src/gen/x, an output of "gen \\"quoted\\"" ("src/gen/**"), but does not depend on "gen \\"quoted\\"": the two can run at once, and "lib\\\\<b>" may read a stale or half-written file
  fix: add "gen \\"quoted\\"" to deps of "lib\\\\<b>"

critical path: 3 tasks, 1.8s of 1.8s total work
  lib\\<b>   1.5s
  app & co  250ms
  all       group
the critical path is 3 tasks taking 1.8s of 1.8s total work: no number of cores makes the build more than 1x faster than one core, and -j 2 at most 1x
  fix: to make the build faster, make "lib\\\\<b>" (1.5s, the longest task on the path) faster or split it into tasks that can run side by side
`);
  });

  test.skipIf(!HAS_DOT)("23.2: DOT with quotes and backslashes in names renders with Graphviz, every task a node", () => {
    const dot = formatDot(analyse(input));
    const svg = spawnSync("dot", ["-Tsvg"], { input: dot, encoding: "utf8" });
    expect([svg.status, svg.stderr]).toEqual([0, ""]);
    const titles = [...svg.stdout.matchAll(/<title>([^<]*)<\/title>/g)].map((match) => match[1]);
    for (const name of ["gen &quot;quoted&quot;", "lib\\&lt;b&gt;", "app &amp; co", "all"]) expect(titles).toContain(name);
    const labels = [...svg.stdout.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((match) => match[1]);
    expect(labels.slice(0, 3)).toEqual(["gen &quot;quoted&quot;", "lib\\&lt;b&gt;", "1.5s, 0% hits"]);
  });

  test("23.2: Mermaid labels escape quotes and markup; ids stand for the names", () => {
    expect(formatMermaid(analyse(input))).toBe(`graph TD
  t0["gen #quot;quoted#quot;"]
  t1["lib\\#lt;b#gt;<br/>1.5s, 0% hits"]
  t2["app #amp; co<br/>250ms, 0% hits"]
  t3(["all<br/>group"])
  t1 --> t2
  t2 --> t3
  t0 -.->|missing-dep| t1
  classDef critical stroke:#c22,stroke-width:3px
  class t1,t2,t3 critical
`);
  });
});
