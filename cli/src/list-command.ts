/** `rbuild list`: every task, its kind and its deps, in declaration order; then the stages, if any. */
import type { StrayErrors } from "@rbuild/core";
import type { Args } from "./args.js";
import { ExitCode, reportSetupFailures } from "./exit.js";
import { openWorkspace } from "./workspace.js";

export async function listCommand(args: Args, strays: StrayErrors): Promise<number> {
  const workspace = await openWorkspace(args.directory, process.env, { strays, writesCache: false });
  if (!workspace.ok) {
    reportSetupFailures(workspace.error, process.cwd());
    return ExitCode.Usage;
  }
  const tasks = [...workspace.value.definitions.tasks.values()];
  const width = Math.max(0, ...tasks.map((t) => t.name.length));
  let text = "";
  for (const task of tasks) {
    const notes: string[] = [];
    if (task.run === undefined) notes.push("group");
    if (!task.pure) notes.push("impure");
    if (task.deps.length > 0) notes.push(`deps: ${task.deps.join(", ")}`);
    text += notes.length === 0 ? `${task.name}\n` : `${task.name.padEnd(width)}  ${notes.join("  ")}\n`;
  }
  const stages = [...workspace.value.definitions.stages.values()];
  if (stages.length > 0) {
    const stageWidth = Math.max(...stages.map((stage) => stage.name.length));
    text += "\nstages:\n";
    for (const stage of stages) {
      const after = stage.after.length === 0 ? "" : `  after: ${stage.after.join(", ")}`;
      text += `  ${stage.name.padEnd(stageWidth)}  tasks: ${stage.tasks.join(", ") || "none"}${after}\n`;
    }
  }
  process.stdout.write(text);
  return ExitCode.Ok;
}
