/**
 * Graphviz DOT: one box per task (deps above their dependents), labelled with
 * its recorded duration and hit rate; the critical path in bold red, impure
 * tasks filled, groups as ellipses, and every missing dependency a hint found
 * as a dashed red edge from the task to depend on; the tasks of a stage in a
 * cluster named for it. Renders with `dot -Tsvg`.
 */
import type { GraphReport } from "./analyse.js";
import { showMs } from "./duration.js";
import { missingEdges, taskLabel } from "./drawing.js";

/** A DOT ID: quoted, `"` escaped (the only escape an ID has: a backslash stays as it is). */
function quote(text: string): string {
  return `"${text.replace(/"/g, '\\"')}"`;
}

/** A DOT label (an escString, where backslash sequences mean something): `\` and `"` escaped, lines broken by `\n`. */
function label(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

export function formatDot(report: GraphReport): string {
  const critical = new Set(report.criticalPath.tasks);
  let text = `digraph rbuild {\n  rankdir=TB;\n  node [shape=box, fontname="Helvetica", fontsize=11];\n  edge [color="#555555"];\n`;
  const node = (task: GraphReport["tasks"][number], indent: string): string => {
    const attrs = [`label=${label(taskLabel(task, showMs))}`];
    if (task.kind === "group") attrs.push("shape=ellipse");
    if (task.kind === "impure") attrs.push('style=filled, fillcolor="#fde2c8"');
    if (critical.has(task.name)) attrs.push('color="#cc2222", penwidth=2');
    return `${indent}${quote(task.name)} [${attrs.join(", ")}];\n`;
  };
  const stages = [...new Set(report.tasks.flatMap((task) => (task.stage === undefined ? [] : [task.stage])))];
  for (const [n, stage] of stages.entries()) {
    text += `  subgraph ${quote(`cluster_${n}`)} {\n    label=${label(`stage ${stage}`)};\n    style=rounded;\n    color="#888888";\n`;
    for (const task of report.tasks) if (task.stage === stage) text += node(task, "    ");
    text += "  }\n";
  }
  for (const task of report.tasks) if (task.stage === undefined) text += node(task, "  ");
  const known = new Set(report.tasks.map((task) => task.name));
  for (const task of report.tasks) {
    for (const dep of task.deps) {
      const onPath = critical.has(task.name) && critical.has(dep) && report.criticalPath.tasks.indexOf(dep) === report.criticalPath.tasks.indexOf(task.name) - 1;
      text += `  ${quote(dep)} -> ${quote(task.name)}${onPath ? ' [color="#cc2222", penwidth=2]' : ""};\n`;
    }
  }
  for (const edge of missingEdges(report)) {
    if (!known.has(edge.from)) text += `  ${quote(edge.from)} [label=${label(edge.from)}, style=dotted];\n`;
    text += `  ${quote(edge.from)} -> ${quote(edge.to)} [style=dashed, color="#cc2222", fontcolor="#cc2222", label=${label(edge.code)}];\n`;
  }
  return `${text}}\n`;
}
