import { lstatSync, rmdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { expandGlobs } from "@rbuild/hash";

/**
 * Removes what a task's output globs match under `root`, and then the matched
 * directories left empty, deepest first. Files the task's input globs also
 * match are kept: a task may rewrite its own inputs (a formatter). Returns how
 * many files and links were removed.
 */
export function clearOutputs(
  root: string,
  task: { readonly inputs: readonly string[]; readonly outputs: readonly string[] },
  ignore: readonly string[] = [],
  /** The task's input files, when the caller has already expanded them. */
  knownInputs?: ReadonlySet<string>,
): number {
  if (task.outputs.length === 0) return 0;
  const inputs = knownInputs ?? new Set(expandGlobs(root, task.inputs, { ignore }));
  const directories: string[] = [];
  let removed = 0;
  for (const path of expandGlobs(root, task.outputs, { directories: true, ignore })) {
    if (inputs.has(path)) continue;
    const full = join(root, path);
    const stat = lstatSync(full, { throwIfNoEntry: false });
    if (stat?.isDirectory() === true) {
      directories.push(full);
    } else if (stat !== undefined) {
      rmSync(full, { force: true });
      removed++;
    }
  }
  for (const dir of directories.reverse()) {
    try {
      rmdirSync(dir);
    } catch {
      // Not empty: it holds something that is not an output.
    }
  }
  return removed;
}
