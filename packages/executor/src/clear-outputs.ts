import { lstatSync, rmdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { expandGlobs, type ExpandOptions } from "@rbuild/hash";
import { openUp, removeOpeningUp } from "@rbuild/store";

/**
 * Removes what a task's output globs match under `root`, and then the matched
 * directories left empty, deepest first. Files the task's input globs also
 * match are kept: a task may rewrite its own inputs (a formatter). Returns how
 * many files and links were removed.
 *
 * Outputs are the task's to remove whatever modes it gave them: a directory it
 * (or a restored layer) left unreadable or read-only is opened up to its owner
 * first, as `chmod -R u+rwx` before `rm -rf` would (see remove-tree.ts in the store).
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
  for (const path of expandOpeningUp(root, task.outputs, { directories: true, ignore })) {
    if (inputs.has(path)) continue;
    const full = join(root, path);
    const stat = lstatSync(full, { throwIfNoEntry: false });
    if (stat?.isDirectory() === true) {
      directories.push(full);
    } else if (stat !== undefined) {
      removeOpeningUp(full, (p) => rmSync(p, { force: true }));
      removed++;
    }
  }
  for (const dir of directories.reverse()) {
    try {
      removeOpeningUp(dir, rmdirSync);
    } catch {
      // Not empty: it holds something that is not an output.
    }
  }
  return removed;
}

/**
 * expandGlobs, opening up each directory below `root` that it cannot list (see
 * clearOutputs). When `opened` is given, each directory opened up is added to
 * it (absolute path -> the mode it had), for the caller to put back.
 */
export function expandOpeningUp(root: string, patterns: readonly string[], options: ExpandOptions, opened?: Map<string, number>): string[] {
  for (;;) {
    try {
      return expandGlobs(root, patterns, options);
    } catch (error) {
      const { code, path } = error as NodeJS.ErrnoException;
      // Each turn opens up one more directory, or gives up.
      if (code !== "EACCES" || path === undefined || !path.startsWith(`${root}/`)) throw error;
      const mode = lstatSync(path, { throwIfNoEntry: false })?.mode;
      if (!openUp(path)) throw error;
      if (mode !== undefined && !opened?.has(path)) opened?.set(path, mode & 0o7777);
      // The next turn collects everything again.
      options.visited?.clear();
      options.undecodable?.splice(0);
      options.unmatched?.splice(0);
      options.crossings?.splice(0);
    }
  }
}
