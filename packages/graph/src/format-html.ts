/**
 * HTML: one self-contained file that needs no network when viewed. The
 * report is embedded as JSON, dagre (@dagrejs/dagre, its browser build read
 * from node_modules when the file is made) lays the DAG out in the page, and
 * a small script (html-viewer.ts) draws it as SVG, with durations and hit
 * rates, and lists the hints beside it; a click on a hint highlights its
 * tasks. Nothing in the page refers to any other file.
 *
 * Marks the viewer leaves for tools and tests: each task is a `g.node` with
 * `data-task`, each hint an `li.hint` with `data-index`; a highlighted task
 * has the class `highlight`, a selected hint `selected`. The body gets
 * `data-ready` when all is drawn; the performance marks `rbuild:start`,
 * `rbuild:laid-out` and `rbuild:built` time the script's parts.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { GraphReport } from "./analyse.js";
import { VIEWER_SCRIPT, VIEWER_STYLE } from "./html-viewer.js";

const load = createRequire(import.meta.url);

/** dagre's browser build (it defines the global `dagre`), without its source map comment: the page loads nothing else. */
export function dagreSource(): string {
  // The package exports only "." and package.json: its browser build is found beside the latter.
  const dir = dirname(load.resolve("@dagrejs/dagre/package.json"));
  return readFileSync(join(dir, "dist", "dagre.min.js"), "utf8").replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n");
}

/** Text made safe inside a `<script>`: no `</script`, `<!--` or `<script` can end or confuse it. */
function inScript(text: string): string {
  return text.replace(/<(?=\/?script|!--)/gi, "\\x3C");
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

export function formatHtml(report: GraphReport, title = "rbuild graph"): string {
  // JSON with `<` escaped cannot end the script it stands in, and parses back as it was.
  const data = JSON.stringify(report).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>${VIEWER_STYLE}</style>
</head>
<body>
<main>
<section id="graph"><svg id="dag" xmlns="http://www.w3.org/2000/svg"></svg></section>
<aside id="hints"><h1>${escapeHtml(title)}</h1><p id="summary"></p><ol id="hint-list"></ol></aside>
</main>
<script id="report" type="application/json">${data}</script>
<script>${inScript(dagreSource())}</script>
<script>${inScript(VIEWER_SCRIPT)}</script>
</body>
</html>
`;
}
