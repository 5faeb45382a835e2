/**
 * The workspace as one sandboxed run sees it, and what it wrote there.
 *
 * Everything is at the workspace's own absolute paths, so commands and error
 * messages read as they do outside. The workspace root is an empty tmpfs
 * made read-only once it is set up. On it:
 *
 * - each of the task's declared inputs and its deps' outputs, bound
 *   read-only file by file (symbolic links are made as links), or a whole
 *   directory at once where all it holds is declared (bind-cover.ts).
 *   Nothing else of the workspace is there: a read of an undeclared file
 *   finds nothing;
 * - for each writable directory, the static base of an output glob (`dist`
 *   for `dist/**`; the parent of a plain path, as `out` for `out/a.txt`), an
 *   empty directory of the host's, `s/<dir>` beside the system's temp
 *   files, bound writable at its place. Inputs inside one are bound over it
 *   (bwrap makes their mount points there: empty files). A write anywhere
 *   else fails with EROFS.
 *
 * When an output glob has no base (a root-level `*.log`, a plain `out.txt`),
 * the whole root is the host's scratch directory instead.
 *
 * Not hard links, though a bind costs bwrap far more (about 0.3 ms on a tmpfs,
 * 1-2 ms onto a mount point on disk, on a loaded machine): linking changes
 * each input's ctime, so every stat cache entry of a sandboxed task's inputs
 * would be stale after each run. Not symbolic links into a view of the whole
 * workspace (Bazel's sandbox): a tool that resolves them (Node does) would
 * then read undeclared files beside their targets without an error.
 *
 * After the run `s` holds the mount points and everything the task wrote:
 * what the output globs match is moved back into the workspace (renamed, or
 * copied across file systems); any other file or link that is not a mount
 * point was written where no output glob reaches, and the run is refused,
 * naming them (`undeclared-write`). Directories alone are never reported.
 */
import { copyFileSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync } from "node:fs";
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
  /** The scratch directory (see above), at the workspace root's place: its paths are the workspace's. */
  readonly dir: string;
  /** The scratch directory's parent, removed at the end. */
  readonly #run: string;
  /** Whether the whole root is the scratch directory (see above). */
  readonly #wholeRoot: boolean;
  /** The directories above the bound paths: they are in the sandbox too. */
  readonly #directories: ReadonlySet<string>;
  readonly #args: readonly string[];
  /** The writable directories, relative; `""` for the whole root. */
  readonly #writable: readonly string[];
  readonly #root: string;
  /** The workspace paths bound read-only (inputs and deps' outputs): their mount points are not the task's writes. */
  readonly #mounted: ReadonlySet<string>;
  readonly #outputs: readonly string[];

  constructor(request: RunRequest) {
    this.#root = request.root;
    this.#outputs = request.outputs;
    // Separately: one list's "!" excludes are not the other's.
    const readable = new Set([...expandGlobs(request.root, request.inputs), ...expandGlobs(request.root, request.depOutputs)]);
    this.#run = mkdtempSync(join(tmpdir(), "rbuild-sandbox-"));
    this.dir = join(this.#run, "s");
    mkdirSync(this.dir);
    this.#writable = request.outputs.length === 0 ? [] : writableBases(request.outputs);
    this.#wholeRoot = this.#writable.includes("");
    const args = this.#wholeRoot ? ["--bind", this.dir, request.root] : ["--tmpfs", request.root];
    if (!this.#wholeRoot) {
      for (const dir of this.#writable) {
        mkdirSync(join(this.dir, dir), { recursive: true });
        args.push("--bind", join(this.dir, dir), join(request.root, dir));
      }
    }
    const mounted = new Set<string>();
    const directories = new Set<string>();
    for (const path of readable) {
      mounted.add(path);
      for (let dir = posix.dirname(path); dir !== "." && !directories.has(dir); dir = posix.dirname(dir)) directories.add(dir);
    }
    const cover = bindCover(request.root, readable, this.#writable);
    for (const dir of cover.directories) args.push("--ro-bind", join(request.root, dir), join(request.root, dir));
    for (const path of cover.files) {
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
    this.#mounted = mounted;
    this.#directories = directories;
    this.#args = args;
  }

  /** The bwrap arguments for the workspace part of a sandbox that starts in `cwd`. */
  args(cwd: string): string[] {
    if (this.#wholeRoot) return [...this.#args];
    const made = isBelow(this.#root, cwd) && cwd !== this.#root && !this.#writable.some((dir) => within(dir, relative(this.#root, cwd))) ? ["--dir", cwd] : [];
    return [...this.#args, ...made, "--remount-ro", this.#root];
  }

  /** Makes `cwd` in the scratch directory when it is in the workspace, so that the sandbox can start there. */
  ensureDirectory(cwd: string): void {
    if (!isBelow(this.#root, cwd) || cwd === this.#root) return;
    const path = relative(this.#root, cwd);
    if (this.#wholeRoot || this.#writable.some((dir) => within(dir, path))) mkdirSync(join(this.dir, path), { recursive: true });
  }

  /** Whether `path` (relative to the workspace root) is in the sandbox: bound there, or written by the run. */
  has(path: string): boolean {
    if (this.#mounted.has(path) || this.#directories.has(path)) return true;
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
    rmSync(this.#run, { recursive: true, force: true });
  }
}

