/** `rbuild clean [--cache]`: removes every task's declared outputs, and with --cache the local cache. */
import { existsSync } from "node:fs";
import { clearOutputs } from "@rbuild/executor";
import { acquireBuildLock, removeTree } from "@rbuild/store";
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
  // A build running now would store whatever it then finds of its outputs as their layer (and a
  // removed cache under it): wait for it, as a second build would. Taking the lock also tells the
  // next build's stamp check that the workspace may have changed.
  const lock = existsSync(cacheDir)
    ? await acquireBuildLock(cacheDir, (pid) => process.stderr.write(`rbuild: waiting for another rbuild (pid ${pid}) building this workspace\n`))
    : undefined;
  try {
    let removed = 0;
    for (const task of definitions.tasks.values()) removed += clearOutputs(root, task);
    let text = `removed ${removed} output files\n`;
    if (args.cleanCache) {
      removeTree(cacheDir);
      text += `removed the cache ${cacheDir}\n`;
    }
    process.stdout.write(text);
    return ExitCode.Ok;
  } finally {
    lock?.release(); // Nothing to do if the cache went with it.
  }
}
