/**
 * The workspace as one sandboxed run sees it, and what it wrote there.
 *
 * Layout (all at the workspace's own absolute paths, so commands and error
 * messages read as they do outside): the workspace root is a fresh, empty,
 * writable scratch directory of the host (`dir`, beside the system's temp
 * files), and each of the task's declared inputs and its deps' outputs is
 * bound read-only over it, file by file (symbolic links are made as links).
 * Nothing else of the workspace is there: a read of an undeclared file finds
 * nothing. bwrap makes the mount points in the scratch directory (empty files
 * and directories), so after the run the scratch directory holds those and
 * everything the task wrote, and nothing else:
 *
 * - what the output globs match is moved back into the workspace (renamed,
 *   or copied when the scratch directory is on another file system);
 * - any other file or link that is not a mount point was written outside the
 *   declared outputs: the run is refused, naming them (`undeclared-write`);
 * - directories alone are never reported (bwrap made most of them).
 */
import { copyFileSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { expandGlobs, globMatcher } from "@rbuild/hash";
import type { RunRequest } from "./runner.js";

/** What a finished run left in its scratch directory, relative to the workspace root. */
export interface Written {
  /** Files, links and directories its output globs match: moved back into the workspace. */
  readonly outputs: readonly string[];
  /** Files and links no output glob matches, which are not mount points: written where they will not be stored. */
  readonly stray: readonly string[];
}

/** Whether `path` is `root` or below it. */
export function isBelow(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith("/") ? root : `${root}/`);
}

export class SandboxTree {
  /** The scratch directory bound at the workspace root. */
  readonly dir: string;
  readonly #root: string;
  /** The workspace paths bound read-only (inputs and deps' outputs): their mount points are not the task's writes. */
  readonly #mounted: ReadonlySet<string>;
  readonly #outputs: readonly string[];
  /** The bwrap arguments for the workspace part of the sandbox. */
  readonly args: readonly string[];

  constructor(request: RunRequest) {
    this.#root = request.root;
    this.#outputs = request.outputs;
    // Separately: one list's "!" excludes are not the other's.
    const readable = new Set([...expandGlobs(request.root, request.inputs), ...expandGlobs(request.root, request.depOutputs)]);
    this.#mounted = readable;
    this.dir = mkdtempSync(join(tmpdir(), "rbuild-sandbox-"));
    const args = ["--bind", this.dir, request.root];
    for (const path of [...readable].sort()) {
      const at = join(request.root, path);
      let link: string | undefined;
      try {
        link = lstatSync(at).isSymbolicLink() ? readlinkSync(at) : undefined;
      } catch {
        continue; // Gone since it was listed: the task will find it missing, as outside.
      }
      if (link === undefined) args.push("--ro-bind", at, at);
      else args.push("--symlink", link, at);
    }
    this.args = args;
  }

  /** Makes `cwd` in the scratch directory when it is in the workspace, so that the sandbox can start there. */
  ensureDirectory(cwd: string): void {
    if (isBelow(this.#root, cwd) && cwd !== this.#root) mkdirSync(join(this.dir, relative(this.#root, cwd)), { recursive: true });
  }

  /** Whether `path` (relative to the workspace root) is in the sandbox: bound there, or written by the run. */
  has(path: string): boolean {
    if (this.#mounted.has(path)) return true;
    try {
      lstatSync(join(this.dir, path));
      return true;
    } catch {
      return false;
    }
  }

  /** What the run wrote: its outputs, and what it wrote outside them. */
  written(): Written {
    const isOutput = globMatcher(this.#outputs);
    const outputs: string[] = [];
    const stray: string[] = [];
    const walk = (dir: string, prefix: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
        if (entry.isDirectory()) {
          if (isOutput(path) && this.#outputs.length > 0) outputs.push(path);
          walk(join(dir, entry.name), path);
        } else if (this.#mounted.has(path)) {
          continue;
        } else if (this.#outputs.length > 0 && isOutput(path)) outputs.push(path);
        else stray.push(path);
      }
    };
    walk(this.dir, "");
    return { outputs, stray: stray.sort() };
  }

  /** Moves `outputs` (from written()) into the workspace, replacing what is there. */
  moveBack(outputs: readonly string[]): void {
    for (const path of outputs) {
      const from = join(this.dir, path);
      const to = join(this.#root, path);
      const stats = lstatSync(from);
      if (stats.isDirectory()) {
        mkdirSync(to, { recursive: true });
        continue;
      }
      mkdirSync(dirname(to), { recursive: true });
      try {
        renameSync(from, to);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
        rmSync(to, { force: true });
        if (stats.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
        else copyFileSync(from, to);
      }
    }
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
