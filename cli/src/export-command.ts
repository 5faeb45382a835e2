/**
 * `rbuild export <task> --oci DIR [--run N]`: writes the stored outputs of a
 * task's last run (or the one N runs before it) as an OCI image layout in
 * DIR, a new or empty directory: its layer stack, bottom first (a transform's
 * dep's layers, then its own difference), as the image's layers (see
 * oci-layout.ts). The run is found as `rbuild show` finds it, from the history,
 * without loading the Buildfile.
 */
import { readdirSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { StrayErrors } from "@rbuild/core";
import { runCount, runDetail } from "@rbuild/store";
import type { Args } from "./args.js";
import { guardingCache } from "./cache-access.js";
import { ExitCode, reportSetupFailures } from "./exit.js";
import { checkTask, historyPlace, openHistoryStore, processIO } from "./history-access.js";
import { refName, writeOciLayout, type LayoutLayer } from "./oci-layout.js";

export async function exportCommand(args: Args, strays: StrayErrors): Promise<number> {
  const cwd = process.cwd();
  const place = historyPlace(args.directory, process.env);
  if (!place.ok) {
    reportSetupFailures([place.error], cwd);
    return ExitCode.Usage;
  }
  const task = args.targets[0]!;
  const { run } = args.history;
  const dir = resolve(cwd, args.history.oci!);
  const problem = dirProblem(dir);
  if (problem !== undefined) {
    reportSetupFailures([{ reason: "usage", message: problem }], cwd);
    return ExitCode.Usage;
  }
  return guardingCache(place.value.cacheDir, cwd, async () => {
    const store = openHistoryStore(place.value);
    try {
      const detail = runDetail(store, task, run);
      if (detail === undefined) {
        const known = await checkTask(store, task, args.directory, processIO(strays));
        reportSetupFailures(known.ok ? [{ reason: "no-such-run", task, runs: runCount(store, task), asked: run }] : known.error, cwd);
        return ExitCode.Usage;
      }
      const name = `task "${task}" run ${detail.run} (build ${detail.build})`;
      const outputs = detail.outputs;
      if (outputs.state !== "stored") {
        process.stderr.write(`rbuild: error: cannot export ${name}: its outputs are not in the cache (${outputs.state === "impure" ? "the task is impure" : outputs.state}); rebuild with \`rbuild ${task} --force\`.\n`);
        return ExitCode.TaskFailed;
      }
      const layers: LayoutLayer[] = [];
      const stack = outputs.layer === null ? [] : [...outputs.stack, { digest: outputs.layer, task }];
      for (const { digest, task: by } of stack) {
        const read = store.readLayer(digest);
        if (read.check !== "ok") {
          process.stderr.write(`rbuild: error: cannot export ${name}: its layer ${digest} is ${read.check} in the cache (removed or damaged since); rebuild with \`rbuild ${task} --force\`.\n`);
          return ExitCode.TaskFailed;
        }
        layers.push({ source: read.layer, createdBy: by === null ? `rbuild layer ${digest}` : `rbuild task ${by}` });
      }
      const manifest = writeOciLayout(dir, layers, refName(task));
      const count = layers.length === 1 ? "1 layer" : `${layers.length} layers`;
      process.stdout.write(`Wrote ${name} to ${dir}: an OCI image layout of ${count}, manifest ${manifest.digest}\n`);
      return ExitCode.Ok;
    } finally {
      store.close();
    }
  });
}

/** Why DIR cannot take the layout: something there that is not an empty directory. */
function dirProblem(dir: string): string | undefined {
  const stat = statSync(dir, { throwIfNoEntry: false });
  if (stat === undefined) return undefined;
  if (!stat.isDirectory()) return `--oci ${dir} exists and is not a directory; give a new or empty directory.`;
  if (readdirSync(dir).length > 0) return `--oci ${dir} is not empty; give a new or empty directory, so that nothing in it is overwritten.`;
  return undefined;
}
