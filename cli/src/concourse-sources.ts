/**
 * What a one-off build of `--executor concourse` needs, besides its tasks' inputs, to load the
 * Buildfile there and compute the same keys: the Buildfile's own sources and, in an npm, pnpm or
 * yarn workspace, what `scripts()` and `workspace()` read as they load — the root package.json,
 * pnpm-workspace.yaml, every package's package.json (discovery reads them all, whichever task runs),
 * the lockfile (a script task's key holds its entries) and the .gitignore files that shape the
 * default inputs. None of these is a declared input of every task, so without them the run there
 * fails to load the Buildfile or finds another key.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { discoverWorkspace } from "@rbuild/workspaces";
import type { Workspace } from "./workspace.js";

/** Absolute paths; those that do not exist are left out (the archive holds files only). */
export function concourseSources(workspace: Pick<Workspace, "root" | "buildfile" | "buildfileSources">): string[] {
  const { root } = workspace;
  const sources = [workspace.buildfile, ...workspace.buildfileSources.files];
  if (!existsSync(join(root, "package.json"))) return sources;
  let packageDirs: string[];
  let lockfile: string | undefined;
  try {
    const ws = discoverWorkspace(root);
    packageDirs = ws.packages.map((pkg) => pkg.dir);
    lockfile = ws.lockfile;
  } catch {
    // Not a workspace root (or one that does not parse): the Buildfile does not read it as one.
    return sources;
  }
  const files = ["package.json", "pnpm-workspace.yaml", ".gitignore", ...(lockfile === undefined ? [] : [lockfile])];
  for (const dir of packageDirs) files.push(`${dir}/package.json`, `${dir}/.gitignore`);
  for (const file of files) {
    const path = join(root, file);
    if (existsSync(path)) sources.push(path);
  }
  return sources;
}
