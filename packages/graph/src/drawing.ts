/** What the drawn formats (DOT, Mermaid) share: a task's label and the edges hints say are missing. */
import type { GraphReport, TaskReport } from "./analyse.js";

/** `name`, then its recorded duration and hit rate when there are any. */
export function taskLabel(task: TaskReport, showMs: (ms: number) => string): string {
  const facts: string[] = [];
  if (task.kind === "group") facts.push("group");
  else if (task.durationMs !== null) facts.push(showMs(task.durationMs));
  if (task.kind === "impure") facts.push("impure");
  if (task.hitRate !== null) facts.push(`${Math.round(task.hitRate * 100)}% hits`);
  return facts.length === 0 ? task.name : `${task.name}\n${facts.join(", ")}`;
}

/** The dependencies the error hints say are missing: from the task to depend on, to the task that needs it. */
export function missingEdges(report: GraphReport): { from: string; to: string; code: string }[] {
  const edges: { from: string; to: string; code: string }[] = [];
  const seen = new Set<string>();
  for (const hint of report.hints) {
    if (hint.code !== "missing-dep" && hint.code !== "missing-import-dep") continue;
    const [to, ...from] = hint.tasks;
    for (const dep of from) {
      const id = `${dep}\0${to}`;
      if (to === undefined || seen.has(id)) continue;
      seen.add(id);
      edges.push({ from: dep, to, code: hint.code });
    }
  }
  return edges;
}
