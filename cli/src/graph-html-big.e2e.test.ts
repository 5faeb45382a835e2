// The html view of a big graph in headless Chromium: above 300 tasks the page lays the tasks out in one
// layered pass (dagre took a minute for the 1,000-task benchmark): every task is drawn, each below its
// deps, none on top of another, and a hint click still highlights its tasks.
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { describe, expect, test } from "vitest";
import { testWorkspace } from "./test-support/workspace.js";

const CHROMIUM = "/usr/bin/chromium";
const HAS_CHROMIUM = existsSync(CHROMIUM);

/** 400 tasks in 20 layers of 20, each on the one above it (every fifth on its neighbour too), a group on all; gen writes what t0 reads. */
function buildfile(): string {
  const lines = ['import { task } from "rbuild";', 'task({ name: "gen", outputs: ["src/gen/**"], run: "true" });'];
  for (let i = 0; i < 400; i++) {
    const deps = i < 20 ? [] : [`t${i - 20}`, ...(i % 5 === 0 && (i % 20) + 1 < 20 ? [`t${i - 19}`] : [])];
    lines.push(`task({ name: "t${i}", deps: ${JSON.stringify(deps)}, ${i === 0 ? 'inputs: ["src/**"], ' : ""}run: "true" });`);
  }
  lines.push(`task({ name: "all", deps: ${JSON.stringify(Array.from({ length: 400 }, (_, i) => `t${i}`))} });`);
  return `${lines.join("\n")}\n`;
}

describe("rbuild graph --format html, big", () => {
  test("23.html: above 300 tasks, one layered pass: every task drawn below its deps, none overlapping, hints still highlight", { timeout: 180_000 }, async ({ skip }) => {
    if (!HAS_CHROMIUM && process.env.CI !== "true") skip(`${CHROMIUM} is not installed (apt-get install chromium): the html view is not checked in a browser`);
    expect(HAS_CHROMIUM, `${CHROMIUM} is missing: .ci/run installs Debian's chromium for this test`).toBe(true);
    const ws = testWorkspace({ "Buildfile.ts": buildfile() });
    expect((await ws.run(["graph", "--format", "html", "--out", "graph.html"])).exitCode).toBe(0);
    const json = JSON.parse((await ws.run(["graph", "--format", "json"])).stdout) as { tasks: { name: string; deps: string[] }[]; hints: { code: string; tasks: string[] }[] };

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      await page.goto(pathToFileURL(`${ws.root}/graph.html`).href);
      await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
      expect(errors).toEqual([]);
      expect(await page.getAttribute("svg#dag", "data-layout")).toBe("layered");

      const boxes = await page.$$eval("g.node", (nodes) =>
        nodes.map((node) => {
          const rect = node.querySelector("rect")!;
          const [x, y] = /translate\(([-\d.e]+),([-\d.e]+)\)/.exec(node.getAttribute("transform")!)!.slice(1).map(Number) as [number, number];
          return { name: node.getAttribute("data-task")!, x, y, width: Number(rect.getAttribute("width")), height: Number(rect.getAttribute("height")) };
        }),
      );
      expect(boxes.map((box) => box.name)).toEqual(json.tasks.map((task) => task.name));
      const byName = new Map(boxes.map((box) => [box.name, box]));
      const upsideDown = json.tasks.flatMap((task) => task.deps.filter((dep) => byName.get(dep)!.y + byName.get(dep)!.height > byName.get(task.name)!.y).map((dep) => `${dep} -> ${task.name}`));
      expect(upsideDown).toEqual([]);
      const overlapping = boxes.filter((a, i) => boxes.some((b, j) => j > i && a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height));
      expect(overlapping).toEqual([]);
      expect(await page.$$eval("path.edge", (paths) => paths.length)).toBe(json.tasks.reduce((sum, task) => sum + task.deps.length, 0));

      const missing = json.hints.findIndex((hint) => hint.code === "missing-dep");
      await page.click(`li.hint[data-index="${missing}"]`);
      expect(await page.$$eval("g.node.highlight", (nodes) => nodes.map((node) => node.getAttribute("data-task")))).toEqual(["gen", "t0"]);
    } finally {
      await browser.close();
    }
  });
});
