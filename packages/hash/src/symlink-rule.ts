/**
 * The symlink rule, one rule for inputs and outputs alike: rbuild never reads,
 * deletes, writes or stores *through* a symbolic link below the workspace root.
 *
 * - A glob whose directory part below the root passes through a link (the
 *   directories of its static base, and for a glob the base itself, which is
 *   crawled) is refused: `ln -s /tmp/v lnk` and `outputs: ["lnk/dist/**"]`
 *   would otherwise clear and store `/tmp/v/dist`. expandGlobs never crawls such
 *   a pattern (so nothing can be cleared, captured or cleaned through it, by any
 *   caller) and reports it in `crossings`; the executor fails the task with
 *   `through-symlink`, naming the task, the glob and the link, before anything of
 *   it is cleared, restored or stored, and `rbuild clean` leaves its outputs.
 *   Links above the root (a checkout reached through a link) are not rbuild's
 *   business: only the path below the root is walked.
 * - Wildcards never descend into a link: it is an entry. As an output it is
 *   cleared as the link (never its target) and stored as a link, restored only
 *   when it stays inside the workspace (the store's extract-layer.ts).
 * - As an input, a link to a file is keyed by the file it points to (what a
 *   command reads). A link to a directory that an input glob matches is refused
 *   as above: its files are not in the key, so an edit below it would be a
 *   silent stale hit.
 * - A link that leads back to itself (`ln -s b a; ln -s a b`, ELOOP) that a
 *   glob matches refuses its task, input or output (`loop`): it reaches no
 *   file, so it can be neither read nor checked to stay inside the workspace
 *   to be restored. A dangling link is no refusal: it is a link to nothing yet.
 * - A workspace package whose directory is (or is below) a link is refused by
 *   `scripts()`, naming the package: its tasks' globs would all cross it.
 *
 * Why refuse rather than follow links that stay inside the workspace: every
 * guarantee rbuild gives reasons about paths as text, one path one file. Keys
 * name input paths; the overlapping-outputs check (issue 20, item 3) compares
 * output globs; restores refuse paths and links that leave the workspace
 * (item 2); freshness entries stat paths; `clean` removes what output globs
 * match. A followed link makes one file two paths (keyed twice, the output of
 * two tasks that the overlap check cannot see, deleted by a `clean` of a task
 * that does not own it) and can make cycles. A refusal costs the user one edit,
 * named in the message (declare the real path, or make the link a real
 * directory), and nothing is ever silent.
 *
 * When: the rule is checked where globs are expanded, when a task is about to
 * be keyed (after its deps ran) and again when its outputs are captured. A link
 * made at run time by an upstream task, or by the task itself, is caught the
 * same way as one that was there when the build started, and a no-op build
 * (which expands no glob) pays nothing for the check.
 */
import { lstatSync, readlinkSync, statSync, type Stats } from "node:fs";

/** A glob refused by the rule, and the link it passes through (or, for an input, matches). */
export interface LinkCrossing {
  /** The pattern as declared. */
  readonly glob: string;
  /** The link, relative to the workspace root. */
  readonly link: string;
  /** What the link points to, as written in it. */
  readonly target: string;
  /**
   * `through`: the glob's directory part passes through the link; `matched`: an input glob matches a link to a
   * directory; `loop`: the glob matches a link that leads back to itself.
   */
  readonly kind: "through" | "matched" | "loop";
}

/** What walkBelowRoot found: the first link on the way, or else the path's own stats (none when there is nothing there). */
export type Walk = { readonly link: string } | { readonly link?: undefined; readonly stat: Stats | undefined };

/** lstat, or undefined when there is no entry: also when a file stands where the path needs a directory. */
export function lstatIfThere(path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
    throw error;
  }
}

/**
 * Walks `path` (relative to `root`, `""` for the root) one directory at a time
 * with lstat: the first link among the directories it passes through (and
 * `path` itself when `asDirectory`, as a glob's base that is crawled), or else
 * `path`'s own lstat. `seen` keeps the lstats of one expansion, whose patterns
 * share their first directories.
 */
export function walkBelowRoot(root: string, path: string, asDirectory: boolean, seen?: Map<string, Stats | undefined>): Walk {
  if (path === "") return { stat: lstatIfThere(root) };
  for (let at = 0; ; ) {
    const slash = path.indexOf("/", at);
    const prefix = slash === -1 ? path : path.slice(0, slash);
    let stat: Stats | undefined;
    if (seen?.has(prefix) === true) stat = seen.get(prefix);
    else {
      stat = lstatIfThere(`${root}/${prefix}`);
      seen?.set(prefix, stat);
    }
    if (stat?.isSymbolicLink() === true && (slash !== -1 || asDirectory)) return { link: prefix };
    if (slash === -1) return { stat };
    // Nothing there, or a file where a directory is needed: nothing below it either.
    if (stat === undefined || !stat.isDirectory()) return { stat: undefined };
    at = slash + 1;
  }
}

/** What `link` (relative to `root`) points to, as written in it; `?` if it went meanwhile. */
export function linkTarget(root: string, link: string): string {
  try {
    return readlinkSync(`${root}/${link}`);
  } catch {
    return "?";
  }
}

/** Whether `path` (relative) is a link to a directory: an input the rule refuses when a glob matches it. */
export function isDirectoryLink(root: string, path: string, stat: Stats | undefined = statSync(`${root}/${path}`, { throwIfNoEntry: false })): boolean {
  return stat?.isDirectory() === true && lstatIfThere(`${root}/${path}`)?.isSymbolicLink() === true;
}

/**
 * stat, following links: undefined when there is nothing there, `"loop"` when
 * following the links never ends (ELOOP: a link loop, refused by the rule).
 */
export function statFollowing(full: string): Stats | undefined | "loop" {
  try {
    return statSync(full, { throwIfNoEntry: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOOP") return "loop";
    throw error;
  }
}
