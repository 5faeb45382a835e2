// `rbuild graph --format html` opened in headless Chromium (Debian's, driven by playwright-core): every
// task is drawn, a click on a hint highlights its tasks, and the page asks the network for nothing.
import { cpSync, existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { Workspace } from "./test-support/workspace.js";

const FIXTURES = fileURLToPath(new URL("../../fixtures/", import.meta.url));
/** Debian's chromium, which .ci/run installs; playwright-core downloads no browser of its own. */
const CHROMIUM = "/usr/bin/chromium";
const HAS_CHROMIUM = existsSync(CHROMIUM);

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
});
afterEach(() => ws.remove());

describe("rbuild graph --format html", () => {
  test("23.2: html in headless Chromium: every task is a node, a hint click highlights its tasks, nothing is fetched", { timeout: 120_000 }, async ({ skip }) => {
    // Outside CI a machine without chromium skips, saying why; on CI (which installs it) a missing one fails.
    if (!HAS_CHROMIUM && process.env.CI !== "true") skip(`${CHROMIUM} is not installed (apt-get install chromium): the html view is not checked in a browser`);
    expect(HAS_CHROMIUM, `${CHROMIUM} is missing: .ci/run installs Debian's chromium for this test`).toBe(true);

    cpSync(`${FIXTURES}graph-demo`, ws.root, { recursive: true, filter: (source) => !/\/(dist|build|node_modules|\.rbuild)(\/|$)/.test(source.slice(FIXTURES.length)) });
    expect((await ws.run(["util:build", "-j", "1"])).exitCode).toBe(0);
    const result = await ws.run(["graph", "--format", "html", "--out", "graph.html"]);
    expect([result.exitCode, result.stdout, result.stderr]).toEqual([0, "", ""]);
    const json = JSON.parse((await ws.run(["graph", "--format", "json"])).stdout) as { tasks: { name: string }[]; hints: { code: string; tasks: string[] }[] };

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on("request", (request) => requests.push(request.url()));
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      const url = pathToFileURL(`${ws.root}/graph.html`).href;
      await page.goto(url);
      await page.waitForSelector("body[data-ready=true]", { timeout: 60_000 });
      expect(errors).toEqual([]);
      expect(requests).toEqual([url]);

      const drawn = await page.$$eval("g.node", (nodes) => nodes.map((node) => [node.getAttribute("data-task"), node.querySelectorAll("text")[1]?.textContent]));
      expect(drawn.map(([name]) => name)).toEqual(json.tasks.map((task) => task.name));
      // Durations and hit rates: util:build ran once; the others have no record.
      expect(drawn.find(([name]) => name === "util:build")![1]).toMatch(/^\d+(ms|\.\ds), 0% hits, 1 run$/);
      expect(drawn.find(([name]) => name === "publish")![1]).toBe("no record");
      expect(await page.$$eval("li.hint", (items) => items.map((item) => item.getAttribute("data-code")))).toEqual(json.hints.map((hint) => hint.code));

      const highlighted = () => page.$$eval("g.node.highlight", (nodes) => nodes.map((node) => node.getAttribute("data-task")));
      expect(await highlighted()).toEqual([]);
      const missing = json.hints.findIndex((hint) => hint.code === "missing-dep");
      await page.click(`li.hint[data-index="${missing}"]`);
      expect(await highlighted()).toEqual(["codegen", "app:build"]);
      expect(await page.$$eval("li.hint.selected", (items) => items.map((item) => item.getAttribute("data-index")))).toEqual([String(missing)]);
      const redundant = json.hints.findIndex((hint) => hint.code === "redundant-edge");
      await page.click(`li.hint[data-index="${redundant}"]`);
      expect(await highlighted()).toEqual(["util:build", "publish"]);
      await page.click(`li.hint[data-index="${redundant}"]`); // Again: cleared.
      expect(await highlighted()).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
