/**
 * Mermaid: a `graph TD` block (paste it into a ```mermaid fence). Nodes get
 * short ids (`t0`, `t1`, ...) since task names may hold any character; the
 * labels carry the names, durations and hit rates. The critical path is in
 * the `critical` class, missing dependencies are dotted edges.
 */
import type { GraphReport } from "./analyse.js";
import { showMs } from "./duration.js";
import { missingEdges, taskLabel } from "./drawing.js";

/** A Mermaid label: quotes and markup characters as entities, lines broken with <br/>. */
function label(text: string): string {
  const escaped = text.replace(/&/g, "#amp;").replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;");
  return `"${escaped.replace(/\n/g, "<br/>")}"`;
}

export function formatMermaid(report: GraphReport): string {
  const ids = new Map<string, string>();
  const id = (name: string): string => {
    let known = ids.get(name);
    if (known === undefined) ids.set(name, (known = `t${ids.size}`));
    return known;
  };
  let text = "graph TD\n";
  for (const task of report.tasks) {
    const shown = label(taskLabel(task, showMs));
    text += `  ${id(task.name)}${task.kind === "group" ? `([${shown}])` : `[${shown}]`}\n`;
  }
  for (const task of report.tasks) {
    for (const dep of task.deps) text += `  ${id(dep)} --> ${id(task.name)}\n`;
  }
  for (const edge of missingEdges(report)) {
    if (!ids.has(edge.from)) text += `  ${id(edge.from)}[${label(edge.from)}]\n`;
    text += `  ${id(edge.from)} -.->|${edge.code}| ${id(edge.to)}\n`;
  }
  const critical = report.criticalPath.tasks.map(id);
  if (critical.length > 0) text += `  classDef critical stroke:#c22,stroke-width:3px\n  class ${critical.join(",")} critical\n`;
  const impure = report.tasks.filter((task) => task.kind === "impure").map((task) => id(task.name));
  if (impure.length > 0) text += `  classDef impure fill:#fde2c8\n  class ${impure.join(",")} impure\n`;
  return text;
}
