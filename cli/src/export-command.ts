/**
 * `rbuild export <task> --oci DIR [--run N]`: writes the stored outputs of a
 * task's last run (or the one N runs before it) as an OCI image layout in
 * DIR, a new or empty directory: its layer stack, bottom first (a transform's
 * dep's layers, then its own difference), as the image's layers (see
 * oci-layout.ts). A container task's layers go over the image it ran in, the
 * same one or none (oci-base.ts). The run is found as `rbuild show` finds it,
 * from the history, without loading the Buildfile.
 */
import { resolve } from "node:path";
import type { StrayErrors } from "@rbuild/core";
import type { Args } from "./args.js";
import { ExitCode } from "./exit.js";
import { processIO } from "./history-access.js";
import { emptyDirProblem, runName, storedStack, withRun } from "./history-run.js";
import { exportBase } from "./oci-base.js";
import { refName, writeOciLayout } from "./oci-layout.js";

export async function exportCommand(args: Args, strays: StrayErrors): Promise<number> {
  const dir = resolve(process.cwd(), args.history.oci!);
  return withRun(args, processIO(strays), emptyDirProblem("--oci", dir), (store, detail, root) => {
    const name = runName(detail);
    const stack = storedStack(store, detail, `export ${name}`);
    if (!stack.ok) return failed(stack.problem);
    const base = exportBase(store, detail, name, root);
    if (!base.ok) return failed(base.problem);
    try {
      const layers = stack.layers.map(({ digest, task, layer }) => ({ source: layer, createdBy: task === null ? `rbuild layer ${digest}` : `rbuild task ${task}` }));
      const manifest = writeOciLayout(dir, layers, refName(detail.task), base.base);
      const all = base.base.layers.length + layers.length;
      const count = all === 1 ? "1 layer" : `${all} layers`;
      const under = base.image === undefined ? "" : ` (${base.base.layers.length} of them its image ${base.image.path}'s, below its own)`;
      process.stdout.write(`Wrote ${name} to ${dir}: an OCI image layout of ${count}${under}, manifest ${manifest.digest}\n`);
      return ExitCode.Ok;
    } finally {
      base.cleanup();
    }
  });
}

function failed(problem: string): number {
  process.stderr.write(`rbuild: error: ${problem}\n`);
  return ExitCode.TaskFailed;
}
