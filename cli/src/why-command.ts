/**
 * `rbuild why <task>`: why the task would run now, or why it ran the last time
 * it ran; for a group, which of its deps (direct or not) would run, and why;
 * for a stage, which of its tasks and what they need.
 */
import type { StrayErrors } from "@rbuild/core";
import { dryRun } from "@rbuild/executor";
import { plan, type Graph } from "@rbuild/planner";
import { Store } from "@rbuild/store";
import type { Args } from "./args.js";
import { guardingCache } from "./cache-access.js";
import { ExitCode, reportSetupFailures } from "./exit.js";
import { openWorkspace } from "./workspace.js";

export async function whyCommand(args: Args, strays: StrayErrors): Promise<number> {
  const cwd = process.cwd();
  const workspace = await openWorkspace(args.directory, process.env, { strays });
  if (!workspace.ok) {
    reportSetupFailures(workspace.error, cwd);
    return ExitCode.Usage;
  }
  const name = args.targets[0]!;
  const graph = plan(workspace.value.definitions, [name]);
  if (!graph.ok) {
    reportSetupFailures(graph.error, cwd);
    return ExitCode.Usage;
  }
  return guardingCache(workspace.value.cacheDir, cwd, () => whyWork(name, graph.value, workspace.value.cacheDir));
}

function whyWork(name: string, graph: Graph, cacheDir: string): number {
  const store = Store.open({ dir: cacheDir, onInfo: (_code, message) => process.stderr.write(`rbuild: ${message}\n`) });
  try {
    const rows = dryRun(graph, { store });
    // A stage (see plan-stages.ts) stands for its tasks, as a group does for its deps.
    const row = rows.find((r) => r.name === name) ?? { name, action: "stage" as const, key: null, reasons: [] };
    // The graph holds the group and what it depends on: of those, the tasks that would run, each with why.
    const running = rows.filter((r) => r.action === "run");
    let text: string;
    if (row.action === "stage") {
      const what = `${name} is a stage: of its tasks and what they need (the stages it follows too),`;
      text = running.length === 0 ? `${what} none would run.\n` : `${what} ${running.length} would run:\n${running.map((r) => `  ${r.name} (${r.reasons.join(", ")})\n`).join("")}`;
    } else if (row.action === "group" && running.length > 0) {
      text = `${name} is a group: it runs nothing itself; of its deps, ${running.length} would run:\n${running.map((r) => `  ${r.name} (${r.reasons.join(", ")})\n`).join("")}`;
    } else if (row.action === "run") {
      text = `${name} would run:\n${row.reasons.map((r) => `  ${r}\n`).join("")}`;
    } else {
      const state = store.taskState(name);
      const last = state === undefined || state.ranReasons.length === 0 ? "" : `\nIt last ran because:\n${state.ranReasons.map((r) => `  ${r}\n`).join("")}`;
      text = row.action === "group" ? `${name} is a group: it runs nothing itself, and none of its deps would run.\n` : `${name} is up to date: its result is cached (key ${row.key?.slice(0, 16)}).${last === "" ? "\n" : last}`;
    }
    process.stdout.write(text);
    return ExitCode.Ok;
  } finally {
    store.close();
  }
}
