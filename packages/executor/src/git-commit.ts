/**
 * The git commit a workspace is at, for the build history: read from the
 * files of its git directory, never by starting `git` (a no-op build records
 * it too, and a process would cost more than the build). The nearest `.git`
 * at or above the root: a directory, or a file `gitdir: <path>` (a worktree,
 * a submodule). Its HEAD names a commit (detached) or a ref, which is a file
 * of its own (in the worktree's directory or the common one) or a line of
 * `packed-refs`. Anything else (no repository, a branch with no commit yet, a
 * reftable repository, a file that cannot be read) is no commit: the history
 * is for reading, never a reason to fail a build.
 */
import { lstatSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** A full object name: SHA-1, or SHA-256. */
const OBJECT_NAME = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** The git directory of the repository holding `root`, if any. */
function gitDirOf(root: string): string | undefined {
  for (let dir = root; ; dir = dirname(dir)) {
    const dotGit = join(dir, ".git");
    const stat = lstatSync(dotGit, { throwIfNoEntry: false });
    if (stat?.isDirectory() === true) return dotGit;
    if (stat?.isFile() === true) {
      const pointer = /^gitdir: (.+)$/m.exec(read(dotGit) ?? "")?.[1];
      return pointer === undefined ? undefined : resolve(dir, pointer.trim());
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** The commit the workspace at `root` has checked out, or null. */
export function gitCommit(root: string): string | null {
  try {
    const gitDir = gitDirOf(root);
    const head = gitDir === undefined ? undefined : read(join(gitDir, "HEAD"));
    if (gitDir === undefined || head === undefined) return null;
    if (OBJECT_NAME.test(head)) return head;
    const ref = /^ref: (refs\/\S+)$/.exec(head)?.[1];
    if (ref === undefined || ref.split("/").includes("..")) return null;
    const common = resolve(gitDir, read(join(gitDir, "commondir")) ?? ".");
    for (const dir of [gitDir, common]) {
      const loose = read(join(dir, ref));
      if (loose !== undefined && OBJECT_NAME.test(loose)) return loose;
    }
    for (const line of (read(join(common, "packed-refs")) ?? "").split("\n")) {
      const [name, refName] = line.split(" ");
      if (refName === ref && name !== undefined && OBJECT_NAME.test(name)) return name;
    }
    return null;
  } catch {
    return null;
  }
}
