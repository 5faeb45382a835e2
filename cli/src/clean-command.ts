/** `rbuild clean [--cache]`: removes every task's declared outputs, and with --cache the local cache. */
import { rmSync } from "node:fs";
import { clearOutputs } from "@rbuild/executor";
import type { Args } from "./args.js";
import { ExitCode, reportSetupFailures } from "./exit.js";
import { openWorkspace } from "./workspace.js";

export async function cleanCommand(args: Args): Promise<number> {
  const workspace = await openWorkspace(args.directory, process.env);
  if (!workspace.ok) {
    reportSetupFailures(workspace.error, process.cwd());
    return ExitCode.Usage;
  }
  const { root, definitions, cacheDir } = workspace.value;
  let removed = 0;
  for (const task of definitions.tasks.values()) removed += clearOutputs(root, task);
  let text = `removed ${removed} output files\n`;
  if (args.cleanCache) {
    rmSync(cacheDir, { recursive: true, force: true });
    text += `removed the cache ${cacheDir}\n`;
  }
  process.stdout.write(text);
  return ExitCode.Ok;
}
