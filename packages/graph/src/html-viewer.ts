/**
 * The page script and style of the HTML format (format-html.ts). The script
 * runs in the browser after dagre's: it reads the report from
 * `#report`, lays the tasks out with dagre (deps above their dependents; in
 * one layered pass above DAGRE_MAX_TASKS tasks, `svg[data-layout]` says which),
 * draws them as SVG with their durations and hit rates (the critical path in
 * red, impure tasks filled, groups rounded), lists the hints, most valuable
 * first, and on a click on a hint highlights its tasks (a second click
 * clears it). Plain ES2017, no template literals (it sits in one here).
 */

export const VIEWER_STYLE = String.raw`
body { margin: 0; font: 13px/1.4 system-ui, sans-serif; color: #222; }
main { display: flex; height: 100vh; }
#graph { flex: 1; overflow: auto; background: #fafafa; }
#hints { width: 420px; overflow: auto; border-left: 1px solid #ddd; padding: 0 12px; }
h1 { font-size: 16px; }
#hint-list { padding-left: 18px; }
.hint { cursor: pointer; margin: 0 0 10px; padding: 6px; border-radius: 4px; }
.hint:hover { background: #f0f0f0; }
.hint.selected { background: #fff3c4; }
.hint .code { font-weight: 600; }
.hint .error { color: #b00020; } .hint .warning { color: #a05a00; } .hint .info { color: #2255aa; }
.hint .fix { color: #555; }
.node rect { fill: #fff; stroke: #888; stroke-width: 1; }
.node.impure rect { fill: #fde2c8; }
.node.critical rect { stroke: #cc2222; stroke-width: 2; }
.node.highlight rect { fill: #ffe066; stroke: #d08000; stroke-width: 3; }
.node text { font-size: 11px; text-anchor: middle; }
.node .facts { fill: #555; }
.edge { fill: none; stroke: #999; }
.edge.critical { stroke: #cc2222; stroke-width: 2; }
`;

export const VIEWER_SCRIPT = String.raw`
(function () {
  "use strict";
  // Marks for timing the page (bench/graph.mjs): where the script starts, the layout ends, the drawing is built.
  function mark(name) { if (window.performance && performance.mark) performance.mark(name); }
  mark("rbuild:start");
  var SVG = "http://www.w3.org/2000/svg";
  var report = JSON.parse(document.getElementById("report").textContent);
  var critical = report.criticalPath.tasks;

  function count(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
  function showMs(ms) {
    if (ms < 1000) return Math.round(ms) + "ms";
    if (ms < 60000) return (ms / 1000).toFixed(1) + "s";
    var s = Math.round(ms / 1000);
    return Math.floor(s / 60) + "m" + String(s % 60).padStart(2, "0") + "s";
  }
  function facts(task) {
    var out = [];
    if (task.kind === "group") out.push("group");
    else out.push(task.durationMs === null ? "no record" : showMs(task.durationMs));
    if (task.kind === "impure") out.push("impure");
    if (task.hitRate !== null) out.push(Math.round(task.hitRate * 100) + "% hits");
    if (task.runs > 0) out.push(task.runs + " run" + (task.runs === 1 ? "" : "s"));
    return out.join(", ");
  }
  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    for (var key in attrs) node.setAttribute(key, attrs[key]);
    if (parent) parent.appendChild(node);
    return node;
  }

  var NODE_SEP = 24, RANK_SEP = 44, MARGIN = 16, HEIGHT = 38;
  // Above this many tasks dagre takes tens of seconds (its ranking and crossing
  // reduction grow much faster than the graph: a minute for 1,000 tasks), so
  // the page lays the tasks out in one pass instead.
  var DAGRE_MAX_TASKS = 300;
  function widthOf(task) { return Math.max(task.name.length, facts(task).length) * 6.6 + 20; }
  /** Boxes by name ({x, y} the centre), edges as polylines, the size: dagre's answer. */
  function dagreLayout() {
    var g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: "TB", nodesep: NODE_SEP, ranksep: RANK_SEP, marginx: MARGIN, marginy: MARGIN });
    g.setDefaultEdgeLabel(function () { return {}; });
    report.tasks.forEach(function (task) { g.setNode(task.name, { width: widthOf(task), height: HEIGHT }); });
    report.tasks.forEach(function (task) {
      task.deps.forEach(function (dep) { if (g.hasNode(dep)) g.setEdge(dep, task.name); });
    });
    dagre.layout(g);
    var boxes = {};
    g.nodes().forEach(function (name) { boxes[name] = g.node(name); });
    var edges = g.edges().map(function (e) { return { v: e.v, w: e.w, points: g.edge(e).points }; });
    return { name: "dagre", boxes: boxes, edges: edges, width: g.graph().width, height: g.graph().height };
  }
  /**
   * One pass, for big graphs: each task one rank below its lowest dep (the
   * tasks come in topological order), ordered in its rank by the mean position
   * of its deps (a single top-down barycentre sweep), edges straight from a
   * dep's bottom to the task's top. More crossings than dagre, in milliseconds.
   */
  function layeredLayout() {
    var rank = {}, ranks = [];
    report.tasks.forEach(function (task, index) {
      var r = 0;
      task.deps.forEach(function (dep) { if (rank[dep] !== undefined) r = Math.max(r, rank[dep] + 1); });
      rank[task.name] = r;
      (ranks[r] = ranks[r] || []).push({ task: task, index: index });
    });
    var position = {}, boxes = {}, widest = 0, rows = [];
    ranks.forEach(function (row) {
      row.forEach(function (entry) {
        var known = entry.task.deps.filter(function (dep) { return position[dep] !== undefined; });
        entry.key = known.length === 0 ? entry.index : known.reduce(function (sum, dep) { return sum + position[dep]; }, 0) / known.length;
      });
      row.sort(function (a, b) { return a.key - b.key || a.index - b.index; });
      var x = 0;
      row.forEach(function (entry, i) {
        position[entry.task.name] = i;
        entry.x = x;
        entry.width = widthOf(entry.task);
        x += entry.width + NODE_SEP;
      });
      rows.push(x - NODE_SEP);
      widest = Math.max(widest, x - NODE_SEP);
    });
    ranks.forEach(function (row, r) {
      var offset = MARGIN + (widest - rows[r]) / 2;
      row.forEach(function (entry) {
        boxes[entry.task.name] = { x: offset + entry.x + entry.width / 2, y: MARGIN + r * (HEIGHT + RANK_SEP) + HEIGHT / 2, width: entry.width, height: HEIGHT };
      });
    });
    var edges = [];
    report.tasks.forEach(function (task) {
      var to = boxes[task.name];
      task.deps.forEach(function (dep) {
        var from = boxes[dep];
        if (from) edges.push({ v: dep, w: task.name, points: [{ x: from.x, y: from.y + HEIGHT / 2 }, { x: to.x, y: to.y - HEIGHT / 2 }] });
      });
    });
    return { name: "layered", boxes: boxes, edges: edges, width: widest + 2 * MARGIN, height: ranks.length * (HEIGHT + RANK_SEP) - RANK_SEP + 2 * MARGIN };
  }
  var layout = report.tasks.length > DAGRE_MAX_TASKS ? layeredLayout() : dagreLayout();
  mark("rbuild:laid-out");

  var svg = document.getElementById("dag");
  svg.setAttribute("data-layout", layout.name);
  // An empty graph has no extent (dagre says -Infinity): draw an empty picture, not an invalid one.
  svg.setAttribute("width", String(Math.max(0, Math.ceil(layout.width)) || 0));
  svg.setAttribute("height", String(Math.max(0, Math.ceil(layout.height)) || 0));
  var onCritical = {};
  critical.forEach(function (name, i) { onCritical[name] = i; });
  layout.edges.forEach(function (e) {
    var points = e.points.map(function (p) { return p.x + "," + p.y; });
    var onPath = onCritical[e.v] !== undefined && onCritical[e.w] === onCritical[e.v] + 1;
    el("path", { "class": "edge" + (onPath ? " critical" : ""), d: "M" + points.join("L"), "data-from": e.v, "data-to": e.w }, svg);
  });
  var nodes = {};
  report.tasks.forEach(function (task) {
    var box = layout.boxes[task.name];
    var classes = "node " + task.kind + (onCritical[task.name] !== undefined ? " critical" : "");
    var group = el("g", { "class": classes, "data-task": task.name, transform: "translate(" + (box.x - box.width / 2) + "," + (box.y - box.height / 2) + ")" }, svg);
    el("rect", { width: box.width, height: box.height, rx: task.kind === "group" ? 16 : 3 }, group);
    el("text", { x: box.width / 2, y: 15 }, group).textContent = task.name;
    el("text", { "class": "facts", x: box.width / 2, y: 30 }, group).textContent = facts(task);
    el("title", {}, group).textContent = task.name + ": " + facts(task);
    nodes[task.name] = group;
  });

  var counts = { error: 0, warning: 0, info: 0 };
  report.hints.forEach(function (hint) { counts[hint.severity]++; });
  var path = report.criticalPath;
  document.getElementById("summary").textContent = count(report.tasks.length, "task") + "; " + count(counts.error, "error") + ", " + count(counts.warning, "warning") + ", " + counts.info + " info; critical path " + showMs(path.ms) + " of " + showMs(path.totalWorkMs) + " total work";

  var list = document.getElementById("hint-list");
  var items = [];
  var selected = -1;
  function select(index) {
    selected = selected === index ? -1 : index;
    items.forEach(function (item, i) { item.classList.toggle("selected", i === selected); });
    var tasks = selected < 0 ? [] : report.hints[selected].tasks;
    Object.keys(nodes).forEach(function (name) { nodes[name].classList.toggle("highlight", tasks.indexOf(name) >= 0); });
    var first = tasks.filter(function (name) { return nodes[name]; })[0];
    if (first && nodes[first].scrollIntoView) nodes[first].scrollIntoView({ block: "nearest", inline: "nearest" });
  }
  report.hints.forEach(function (hint, index) {
    var item = document.createElement("li");
    item.className = "hint";
    item.setAttribute("data-index", String(index));
    item.setAttribute("data-code", hint.code);
    var head = document.createElement("div");
    var severity = document.createElement("span");
    severity.className = hint.severity;
    severity.textContent = hint.severity + " ";
    var code = document.createElement("span");
    code.className = "code";
    code.textContent = hint.code + (hint.savingMs === null ? "" : " (saves " + showMs(hint.savingMs) + ")");
    head.appendChild(severity);
    head.appendChild(code);
    var message = document.createElement("div");
    message.textContent = hint.message;
    var fix = document.createElement("div");
    fix.className = "fix";
    fix.textContent = "fix: " + hint.fix;
    item.appendChild(head);
    item.appendChild(message);
    item.appendChild(fix);
    item.addEventListener("click", function () { select(index); });
    list.appendChild(item);
    items.push(item);
  });
  mark("rbuild:built");
  document.body.setAttribute("data-ready", "true");
})();
`;
