/** `rbuild clean [--cache]`: removes every task's declared outputs, and with --cache the local cache. */
import { describeFailure, type StrayErrors } from "@rbuild/core";
import { existsSync } from "node:fs";
import { clearOutputs } from "@rbuild/executor";
import { globCrossings } from "@rbuild/hash";
import { leftRunningMessage, stopLeftRunning } from "@rbuild/runners";
import { acquireBuildLock, removeTree, type BuildLock } from "@rbuild/store";
import type { Args } from "./args.js";
import { guardingCache } from "./cache-access.js";
import { ExitCode, reportSetupFailures } from "./exit.js";
import { lockWaitMessage } from "./lock-wait.js";
import { openWorkspace, type Workspace } from "./workspace.js";

export async function cleanCommand(args: Args, strays: StrayErrors): Promise<number> {
  const workspace = await openWorkspace(args.directory, process.env, { strays });
  if (!workspace.ok) {
    reportSetupFailures(workspace.error, process.cwd());
    return ExitCode.Usage;
  }
  return guardingCache(workspace.value.cacheDir, process.cwd(), () => clean(args, workspace.value));
}

async function clean(args: Args, { root, definitions, cacheDir }: Workspace): Promise<number> {
  // A build running now would store whatever it then finds of its outputs as their layer (and a
  // removed cache under it): wait for it, as a second build would. Taking the lock also tells the
  // next build's freshness check that the workspace may have changed.
  let lock: BuildLock | undefined;
  if (existsSync(cacheDir)) {
    const interrupt = new AbortController();
    const stop = (): void => interrupt.abort();
    process.on("SIGINT", stop).on("SIGTERM", stop);
    lock = await acquireBuildLock(cacheDir, (wait) => process.stderr.write(`rbuild: ${lockWaitMessage(wait)}\n`), interrupt.signal);
    process.off("SIGINT", stop).off("SIGTERM", stop);
    if (lock === undefined) return ExitCode.Interrupted;
  }
  try {
    // What a build that was killed left running would write outputs again after they are removed (and
    // --cache removes its record): stop it first.
    if (lock !== undefined) {
      const stopped = await stopLeftRunning(cacheDir);
      if (stopped.length > 0) process.stderr.write(`rbuild: ${leftRunningMessage(stopped)}\n`);
    }
    let removed = 0;
    let refusals = "";
    for (const task of definitions.tasks.values()) {
      // The symlink rule: outputs whose glob passes through a link are left alone (expandGlobs would not crawl them either).
      const crossing = globCrossings(root, task.outputs)[0];
      if (crossing === undefined) removed += clearOutputs(root, task);
      else refusals += `rbuild: error: ${describeFailure({ reason: "through-symlink", task: task.name, field: "outputs", ...crossing }, { cwd: process.cwd() })} Its outputs were left as they are.\n`;
    }
    let text = `removed ${removed} output files\n`;
    if (args.cleanCache) {
      removeTree(cacheDir);
      text += `removed the cache ${cacheDir}\n`;
    }
    process.stdout.write(text);
    process.stderr.write(refusals);
    return refusals === "" ? ExitCode.Ok : ExitCode.TaskFailed;
  } finally {
    lock?.release(); // Nothing to do if the cache went with it.
  }
}
