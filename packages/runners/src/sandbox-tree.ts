/**
 * The workspace as one sandboxed run sees it, and what it wrote there.
 *
 * Everything is at the workspace's own absolute paths, so commands and error
 * messages read as they do outside. Two host directories per run, beside
 * the system's temp files:
 *
 * - `t`, the read-only tree: the task's declared inputs and its deps'
 *   outputs as hard links (symbolic links as links), bound read-only at the
 *   workspace root in one mount. Nothing else of the workspace is there: a
 *   read of an undeclared file finds nothing, and a write outside the
 *   writable directories fails with EROFS.
 * - `s`, the scratch tree: for each writable directory, the static base of
 *   an output glob (`dist` for `dist/**`; the parent of a plain path, as
 *   `out` for `out/a.txt`), an empty directory bound writable at its place.
 *   Inputs inside one are bound read-only over it file by file (bwrap makes
 *   their mount points there: empty files).
 *
 * A bind costs bwrap about a millisecond (on disk, more), a hard link a few
 * microseconds: most inputs are links. When an output glob has no base (a
 * root-level `*.log`, a plain `out.txt`), the whole root is scratch and every
 * input is bound file by file; so is an input that cannot be linked (another
 * file system, another user's file).
 *
 * After the run `s` holds the mount points and everything the task wrote:
 * what the output globs match is moved back into the workspace (renamed, or
 * copied across file systems); any other file or link that is not a mount
 * point was written where no output glob reaches, and the run is refused,
 * naming them (`undeclared-write`). Directories alone are never reported.
 */
import { copyFileSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix, relative } from "node:path";
import { expandGlobs, globMatcher, splitPatterns, staticBase } from "@rbuild/hash";
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

/** Whether relative `path` is `dir` or below it (`""` is the root, above everything). */
function within(dir: string, path: string): boolean {
  return dir === "" || path === dir || path.startsWith(`${dir}/`);
}

/** The directories (relative) a run may write in: each output glob's static base, or a plain path's parent; none inside another. */
export function writableBases(outputs: readonly string[]): string[] {
  const bases = splitPatterns(outputs).include.map((pattern) => {
    const base = staticBase(pattern);
    const plain = base === pattern.replace(/^\.\/+/, "").replace(/\/+$/, "");
    return plain ? posix.dirname(base).replace(/^\.$/, "") : base;
  });
  const sorted = [...new Set(bases)].sort((a, b) => a.length - b.length);
  const kept: string[] = [];
  for (const base of sorted) if (!kept.some((outer) => within(outer, base))) kept.push(base);
  return kept;
}

export class SandboxTree {
  /** The scratch tree (see above), at the workspace root's place: its paths are the workspace's. */
  readonly dir: string;
  /** The read-only tree of links (see above). */
  readonly #tree: string;
  /** Both trees' directory. */
  readonly #run: string;
  /** The writable directories, relative; `""` for the whole root. */
  readonly #writable: readonly string[];
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
    this.#run = mkdtempSync(join(tmpdir(), "rbuild-sandbox-"));
    this.dir = join(this.#run, "s");
    this.#tree = join(this.#run, "t");
    this.#writable = request.outputs.length === 0 ? [] : writableBases(request.outputs);
    const wholeRoot = this.#writable.includes("");
    mkdirSync(wholeRoot ? this.dir : this.#tree);
    const args = wholeRoot ? ["--bind", this.dir, request.root] : ["--ro-bind", this.#tree, request.root];
    const binds: string[] = [];
    const mounted = new Set<string>();
    for (const path of [...readable].sort()) {
      const at = join(request.root, path);
      let link: string | undefined;
      try {
        link = lstatSync(at).isSymbolicLink() ? readlinkSync(at) : undefined;
      } catch {
        continue; // Gone since it was listed: the task will find it missing, as outside.
      }
      mounted.add(path);
      if (wholeRoot || this.#writable.some((dir) => within(dir, path))) {
        if (link === undefined) binds.push("--ro-bind", at, at);
        else binds.push("--symlink", link, at);
        continue;
      }
      const inTree = join(this.#tree, path);
      mkdirSync(dirname(inTree), { recursive: true });
      if (link !== undefined) symlinkSync(link, inTree);
      else if (!tryLink(at, inTree)) {
        writeFileSync(inTree, ""); // Its mount point, in the tree that is read-only once bound.
        binds.push("--ro-bind", at, at);
      }
    }
    if (!wholeRoot) {
      for (const dir of this.#writable) {
        mkdirSync(join(this.#tree, dir), { recursive: true });
        mkdirSync(join(this.dir, dir), { recursive: true });
        args.push("--bind", join(this.dir, dir), join(request.root, dir));
      }
      mkdirSync(this.dir, { recursive: true });
    }
    this.#mounted = mounted;
    this.args = [...args, ...binds];
  }

  /** Makes `cwd` in the scratch directory when it is in the workspace, so that the sandbox can start there. */
  ensureDirectory(cwd: string): void {
    if (!isBelow(this.#root, cwd) || cwd === this.#root) return;
    const path = relative(this.#root, cwd);
    const writable = this.#writable.some((dir) => within(dir, path));
    mkdirSync(join(writable ? this.dir : this.#tree, path), { recursive: true });
  }

  /** Whether `path` (relative to the workspace root) is in the sandbox: bound there, or written by the run. */
  has(path: string): boolean {
    if (this.#mounted.has(path)) return true;
    for (const tree of [this.dir, this.#tree]) {
      try {
        lstatSync(join(tree, path));
        return true;
      } catch {
        // Not in this one.
      }
    }
    return false;
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
    rmSync(this.#run, { recursive: true, force: true });
  }
}

/** Hard-links `from` at `to`; false when it cannot (another file system, a file the kernel will not let this user link). */
function tryLink(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch {
    return false;
  }
}
