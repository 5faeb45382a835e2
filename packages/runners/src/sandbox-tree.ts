/**
 * The workspace as one sandboxed run sees it, and what it wrote there.
 *
 * Everything is at the workspace's own absolute paths, so commands and error
 * messages read as they do outside. Two host directories per run: the base,
 * in /dev/shm where there is one, bound read-only at the workspace root, and
 * `s`, the scratch directory, beside the system's temp files (none for a
 * run with no outputs, which can write nowhere). What the task sees there:
 *
 * - its declared inputs and its deps' outputs, and nothing else of the
 *   workspace: a read of an undeclared file finds nothing. A directory that
 *   they fill wholly (all of `src` for `src/**`) is bound read-only at once
 *   (bind-cover.ts); the other files are copied into the base (reflinked
 *   where the file system can), links made as links;
 * - for each writable directory, the static base of an output glob (`dist`
 *   for `dist/**`; the parent of a plain path, as `out` for `out/a.txt`), its
 *   directory in `s`, bound writable at its place. Inputs inside one are
 *   copied there. A write anywhere else fails with EROFS.
 *
 * When an output glob has no base (a root-level `*.log`, a plain `out.txt`),
 * the whole root is the scratch directory instead.
 *
 * Why copies: bwrap 0.8 reads the whole mount table after each bind, so n
 * binds cost O(n²) (2,500 took 50 s on this machine); hard links would change
 * each input's ctime, so every stat cache entry of a sandboxed task's inputs
 * would be stale after each run; symbolic links into a view of the whole
 * workspace (Bazel's sandbox) let a tool that resolves them (Node does) read
 * undeclared files beside their targets without an error. A copy costs its
 * bytes, once per run: sources are small, and big trees are mostly declared
 * whole (`node_modules/**`), which is one bind.
 *
 * After the run `s` holds the copied inputs and everything the task wrote:
 * what the output globs match is moved back into the workspace (renamed, or
 * copied across file systems); any other file or link, and a copied input
 * that changed or went, was written where no output glob reaches, and the run
 * is refused, naming them (`undeclared-write`). Directories alone are never
 * reported.
 *
 * A copied input (a dep's output, for a transform: it starts from its dep's
 * outputs) that the output globs match is an output like any other: changed,
 * it is moved back; gone, it goes from the workspace too, with the
 * directories above it that went in `s` (a transform's deletions, which its
 * layer records as whiteouts).
 */
import { constants as fsConstants, copyFileSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, renameSync, rmdirSync, rmSync, symlinkSync, utimesSync, type Stats } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix, relative } from "node:path";
import { expandGlobs, globMatcher, splitPatterns, staticBase } from "@rbuild/hash";
import { bindCover } from "./bind-cover.js";
import type { RunRequest } from "./runner.js";

/** What a finished run left in its scratch directory, relative to the workspace root. */
export interface Written {
  /** Files, links and directories its output globs match: moved back into the workspace. */
  readonly outputs: readonly string[];
  /** Files and links no output glob matches, which are not mount points: written where they will not be stored. */
  readonly stray: readonly string[];
  /** Copied inputs its output globs match that the run deleted, and the directories above them that went with them, what is in a directory before it: removed from the workspace. */
  readonly deleted: readonly string[];
}

/** What a copied input was when copied: changed after the run, it was written. */
interface Copy {
  readonly size: number;
  readonly mtimeMs: number;
  readonly mode: number;
  /** A link's target. */
  readonly link?: string;
}

/** What is at `full`, if anything: a file where a directory above it was is nothing there too. */
function entryAt(full: string): Stats | undefined {
  try {
    return lstatSync(full);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw error;
  }
}

/** Whether what is at `full` now is not `copy`, or is gone. */
function changed(full: string, copy: Copy): boolean {
  const now = entryAt(full);
  if (now === undefined) return true;
  if (copy.link !== undefined) return !now.isSymbolicLink() || readlinkSync(full) !== copy.link;
  return now.isSymbolicLink() || now.size !== copy.size || now.mtimeMs !== copy.mtimeMs || now.mode !== copy.mode;
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
  /**
   * The scratch directory (see above), at the workspace root's place: its
   * paths are the workspace's. None (`""`) for a run with no outputs: it has
   * nowhere to write.
   */
  readonly dir: string;
  /** The read-only base (see above). */
  readonly #base: string;
  /** The run's directory beside the system's temp files, removed at the end: the scratch directory's parent; made when first needed. */
  #run: string | undefined;
  /** Whether the whole root is the scratch directory (see above). */
  readonly #wholeRoot: boolean;
  /** The directories above the declared paths: they are in the sandbox too. */
  readonly #directories: ReadonlySet<string>;
  readonly #args: readonly string[];
  /** The writable directories, relative; `""` for the whole root. */
  readonly #writable: readonly string[];
  readonly #root: string;
  /** The declared paths (inputs and deps' outputs): their copies and mount points are not the task's writes. */
  readonly #mounted: ReadonlySet<string>;
  /** The inputs copied into the scratch directory, with their size and mtime: changed after the run, they were written. */
  readonly #copies = new Map<string, Copy>();
  readonly #outputs: readonly string[];

  constructor(request: RunRequest) {
    this.#root = request.root;
    this.#outputs = request.outputs;
    // Separately: one list's "!" excludes are not the other's.
    const readable = new Set([...expandGlobs(request.root, request.inputs), ...expandGlobs(request.root, request.depOutputs)]);
    this.#writable = request.outputs.length === 0 ? [] : writableBases(request.outputs);
    this.#wholeRoot = this.#writable.includes("");
    // A directory made and removed on disk costs a run about 0.3 ms: none for a run with no outputs (a test, a lint).
    this.dir = this.#writable.length === 0 ? "" : join(this.#runDirectory(), "s");
    if (this.dir !== "") mkdirSync(this.dir);
    const shm = inMemory();
    if (shm !== undefined) this.#base = shm;
    else {
      this.#base = join(this.#runDirectory(), "t");
      mkdirSync(this.#base);
    }
    const args = this.#wholeRoot ? ["--bind", this.dir, request.root] : ["--ro-bind", this.#base, request.root];
    if (!this.#wholeRoot) {
      for (const dir of this.#writable) {
        mkdirSync(join(this.#base, dir), { recursive: true });
        mkdirSync(join(this.dir, dir), { recursive: true });
        args.push("--bind", join(this.dir, dir), join(request.root, dir));
      }
    }
    const directories = new Set<string>();
    for (const path of readable) {
      for (let dir = posix.dirname(path); dir !== "." && !directories.has(dir); dir = posix.dirname(dir)) directories.add(dir);
    }
    const cover = bindCover(request.root, readable, this.#writable);
    for (const dir of cover.directories) {
      mkdirSync(join(this.#base, dir), { recursive: true });
      args.push("--ro-bind", join(request.root, dir), join(request.root, dir));
    }
    for (const path of cover.files) this.#copy(path);
    this.#mounted = readable;
    this.#directories = directories;
    this.#args = args;
  }

  /** Copies input `path` into the base, or into the scratch directory when it is in a writable one (see above). */
  #copy(path: string): void {
    const from = join(this.#root, path);
    const writable = this.#wholeRoot || this.#writable.some((dir) => within(dir, path));
    const to = join(writable ? this.dir : this.#base, path);
    let stats;
    try {
      stats = lstatSync(from);
      mkdirSync(dirname(to), { recursive: true });
      if (stats.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
      else {
        copyFileSync(from, to, fsConstants.COPYFILE_FICLONE);
        utimesSync(to, stats.atime, stats.mtime);
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return; // Gone since it was listed: the task will find it missing, as outside.
      throw error;
    }
    if (!writable) return;
    const copied = lstatSync(to);
    this.#copies.set(path, { size: copied.size, mtimeMs: copied.mtimeMs, mode: copied.mode, ...(copied.isSymbolicLink() ? { link: readlinkSync(to) } : {}) });
  }

  /** The bwrap arguments for the workspace part of the sandbox. */
  args(): readonly string[] {
    return this.#args;
  }

  /** A path for a file of the runner's own beside the scratch directory (removed with it), not in the sandbox. */
  scratchFile(name: string): string {
    return join(this.#runDirectory(), name);
  }

  #runDirectory(): string {
    this.#run ??= mkdtempSync(join(tmpdir(), "rbuild-sandbox-"));
    return this.#run;
  }

  /** Makes `cwd` in the sandbox when it is in the workspace, so that the sandbox can start there. */
  ensureDirectory(cwd: string): void {
    if (!isBelow(this.#root, cwd) || cwd === this.#root) return;
    const path = relative(this.#root, cwd);
    const writable = this.#wholeRoot || this.#writable.some((dir) => within(dir, path));
    mkdirSync(join(writable ? this.dir : this.#base, path), { recursive: true });
  }

  /** Whether `path` (relative to the workspace root) is a writable directory's mount point, which the run cannot remove or rename over. */
  isMountPoint(path: string): boolean {
    return !this.#wholeRoot && this.#writable.includes(path);
  }

  /** Whether `path` (relative to the workspace root) is in the sandbox: bound there, or written by the run. */
  has(path: string): boolean {
    if (this.#mounted.has(path) || this.#directories.has(path)) return true;
    if (this.dir === "") return false;
    try {
      lstatSync(join(this.dir, path));
      return true;
    } catch {
      return false;
    }
  }

  /** What the run wrote: its outputs, what it wrote outside them, and the outputs it deleted. */
  written(): Written {
    const matches = globMatcher(this.#outputs);
    const isOutput = (path: string): boolean => this.#outputs.length > 0 && matches(path);
    const outputs: string[] = [];
    const stray: string[] = [];
    const walk = (dir: string, prefix: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
        if (entry.isDirectory()) {
          if (isOutput(path)) outputs.push(path);
          walk(join(dir, entry.name), path);
        } else if (this.#mounted.has(path)) {
          const copy = this.#copies.get(path);
          if (copy === undefined || !changed(join(dir, entry.name), copy)) continue;
          (isOutput(path) ? outputs : stray).push(path);
        } else if (isOutput(path)) outputs.push(path);
        else stray.push(path);
      }
    };
    if (this.dir !== "") walk(this.dir, "");
    const deleted = new Set<string>();
    for (const path of this.#copies.keys()) {
      if (entryAt(join(this.dir, path)) !== undefined) continue;
      if (!isOutput(path)) {
        stray.push(path);
        continue;
      }
      deleted.add(path);
      for (let dir = posix.dirname(path); dir !== "." && isOutput(dir) && entryAt(join(this.dir, dir))?.isDirectory() !== true; dir = posix.dirname(dir)) deleted.add(dir);
    }
    // Longest first: what is in a directory comes before it.
    return { outputs, stray: stray.sort(), deleted: [...deleted].sort((a, b) => b.length - a.length || (a < b ? -1 : 1)) };
  }

  /** Applies `written` (from written()) to the workspace: removes what the run deleted, and moves its outputs there, replacing what is there. */
  moveBack(written: Written): void {
    for (const path of written.deleted) {
      const full = join(this.#root, path);
      const stats = entryAt(full);
      if (stats === undefined) continue;
      try {
        if (stats.isDirectory()) rmdirSync(full);
        else rmSync(full, { force: true });
      } catch (error) {
        // A directory that holds something no copy was of (not an input of the task): it stays.
        if ((error as NodeJS.ErrnoException).code !== "ENOTEMPTY") throw error;
      }
    }
    for (const path of written.outputs) {
      const from = join(this.dir, path);
      const to = join(this.#root, path);
      const stats = lstatSync(from);
      // An output whose type the run changed (a file where a directory was, or the other way): what was there goes.
      const there = entryAt(to);
      if (there !== undefined && there.isDirectory() !== stats.isDirectory()) rmSync(to, { recursive: true, force: true });
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
    if (this.dir !== "") removeTree(this.dir);
    if (this.#run !== undefined) removeTree(this.#run);
    if (this.#run === undefined || !isBelow(this.#run, this.#base)) removeTree(this.#base);
  }
}

/**
 * Removes directory `dir` and what is in it. After most runs it holds only
 * empty directories (the writable ones, their outputs moved out): each goes
 * with one rmdir, where rmSync's walk costs about 0.15 ms more a directory.
 */
function removeTree(dir: string): void {
  try {
    rmdirSync(dir);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return;
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
  }
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) removeTree(path);
    else rmSync(path, { force: true });
  }
  rmdirSync(dir);
}


/**
 * A new directory for the base in memory (/dev/shm), where there is one,
 * since copying and removing a few hundred small files on disk took tens of
 * milliseconds on a loaded machine; else undefined (it goes beside the
 * scratch directory).
 */
function inMemory(): string | undefined {
  try {
    return mkdtempSync("/dev/shm/rbuild-sandbox-");
  } catch {
    return undefined;
  }
}
