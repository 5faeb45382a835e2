/**
 * The fewest read-only binds that show exactly the declared files: a
 * directory whose every entry, all the way down, is declared (`src/**`
 * declares all of `src`) is bound once, as a whole, instead of file by file.
 * A bind costs bwrap a fraction of a millisecond or more; a directory listing
 * costs microseconds.
 *
 * A directory is never bound whole when a writable directory is inside it or
 * it is inside one (its files would become read-only, or it would hide the
 * scratch below it), nor the workspace root itself. Symbolic links are
 * declared entries like files; what `.rbuild/` and `.git/` hold is never
 * declared (glob expansion leaves them out), so a directory holding them is
 * not whole.
 */
import { readdirSync } from "node:fs";
import { join, posix } from "node:path";

export interface BindCover {
  /** Directories to bind whole (relative to the root). */
  readonly directories: readonly string[];
  /** Files and links to bind (or make) one by one. */
  readonly files: readonly string[];
}

/** Whether relative `path` is `dir` or below it (`""` is the root, above everything). */
function within(dir: string, path: string): boolean {
  return dir === "" || path === dir || path.startsWith(`${dir}/`);
}

export function bindCover(root: string, declared: ReadonlySet<string>, writable: readonly string[]): BindCover {
  /** The directories that hold something declared, with what they hold. */
  const children = new Map<string, Set<string>>();
  for (const path of declared) {
    let child = path;
    for (let dir = posix.dirname(path); ; child = dir, dir = posix.dirname(dir)) {
      const key = dir === "." ? "" : dir;
      let set = children.get(key);
      const known = set !== undefined;
      if (set === undefined) children.set(key, (set = new Set()));
      set.add(child);
      if (known || key === "") break;
    }
  }
  const whole = new Map<string, boolean>();
  const isWhole = (dir: string): boolean => {
    let answer = whole.get(dir);
    if (answer !== undefined) return answer;
    answer = dir !== "" && !writable.some((w) => within(w, dir) || within(dir, w));
    if (answer) {
      let entries;
      try {
        entries = readdirSync(join(root, dir), { withFileTypes: true });
      } catch {
        entries = undefined;
      }
      answer = entries !== undefined && entries.every((entry) => {
        const path = `${dir}/${entry.name}`;
        return entry.isDirectory() ? children.has(path) && isWhole(path) : declared.has(path);
      });
    }
    whole.set(dir, answer);
    return answer;
  };
  const directories: string[] = [];
  const files: string[] = [];
  const cover = (dir: string): void => {
    for (const child of [...(children.get(dir) ?? [])].sort()) {
      if (children.has(child)) {
        if (isWhole(child)) directories.push(child);
        else cover(child);
      }
      if (declared.has(child)) files.push(child);
    }
  };
  cover("");
  return { directories, files };
}
