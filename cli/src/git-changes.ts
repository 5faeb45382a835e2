/**
 * What changed since a git ref, for `--since`: every path that differs
 * between the merge base of the ref and HEAD and the working tree (committed
 * since, staged, unstaged), and every untracked file git does not ignore.
 *
 * From the merge base, as turbo's `--affected` (`[main...HEAD]`) and Nx's
 * `affected` compare: on a branch, what main gained after the branch forked is
 * not the branch's change. For a ref HEAD descends from (`HEAD~1`, a tag) the
 * merge base is the ref itself. A deleted file is a change (it leaves a key),
 * and a rename is its old path and its new one (`--no-renames`).
 *
 * Three git processes, started at once: `rev-parse` (where the workspace sits
 * in the repository, whether the clone is shallow, and whether the ref names a
 * commit), `diff` and `ls-files`. Their argv never passes through a shell
 * (`--end-of-options` keeps a ref from being read as an option), paths come
 * NUL-separated (`-z`) so that any file name survives, and
 * `GIT_OPTIONAL_LOCKS=0` keeps git from taking the index lock that a `git
 * commit` running beside rbuild needs.
 */
import { execFile } from "node:child_process";
import { err, ok, type Result, type SetupFailure } from "@rbuild/core";

/** Changed paths relative to the workspace root, with `../` for those outside it; sorted, each once. */
export type ChangedPaths = readonly string[];

interface GitRun {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
  /** The process did not start (`ENOENT`: no git on PATH). */
  readonly spawnError?: string;
}

/** Runs git with `args` in `cwd`; never rejects. */
function git(args: readonly string[], cwd: string, env: Readonly<Record<string, string | undefined>>): Promise<GitRun> {
  return new Promise((resolve) => {
    execFile(
      "git",
      args,
      // LC_ALL=C: git's own words, which the errors below are told apart by.
      { cwd, env: { ...env, GIT_OPTIONAL_LOCKS: "0", LC_ALL: "C" }, encoding: "buffer", maxBuffer: 1 << 30 },
      (error, stdout, stderr) => {
        const failure = error as (NodeJS.ErrnoException & { code?: number | string }) | null;
        if (failure !== null && typeof failure.code === "string") {
          resolve({ code: -1, stdout, stderr: stderr.toString(), spawnError: failure.code });
          return;
        }
        resolve({ code: failure === null ? 0 : typeof failure.code === "number" ? failure.code : 1, stdout, stderr: stderr.toString() });
      },
    );
  });
}

/** NUL-terminated paths, as `-z` writes them. */
function nulPaths(stdout: Buffer): string[] {
  const text = stdout.toString("utf8");
  return text === "" ? [] : text.split("\0").filter((path) => path !== "");
}

/** git's first line of complaint, without its "fatal: ". */
const complaint = (stderr: string): string => (stderr.trim().split("\n")[0] ?? "").replace(/^(fatal|error): /, "");

/**
 * The paths changed since `ref` in the repository holding `root` (the
 * workspace root), or why git cannot say; each failure names `--since` and
 * what to do.
 */
export async function changedSince(ref: string, root: string, env: Readonly<Record<string, string | undefined>>): Promise<Result<ChangedPaths, SetupFailure>> {
  const since = `--since ${ref}`;
  const fail = (message: string): Result<ChangedPaths, SetupFailure> => err({ reason: "git-changes", message: `${since}: ${message}` });
  const [where, diff, untracked] = await Promise.all([
    git(["rev-parse", "--show-prefix", "--is-shallow-repository", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`], root, env),
    git(["diff", "--merge-base", "--name-only", "-z", "--no-renames", "--no-ext-diff", "--end-of-options", ref, "--"], root, env),
    git(["ls-files", "--others", "--exclude-standard", "-z", "--full-name", "--", ":/"], root, env),
  ]);
  if (where.spawnError !== undefined) {
    return fail(
      where.spawnError === "ENOENT"
        ? "finding what changed needs git, and there is no `git` command on PATH; install git (e.g. `apt-get install git`), or build without --since."
        : `git could not be started (${where.spawnError}); fix that, or build without --since.`,
    );
  }
  if (/not a git repository/i.test(where.stderr)) {
    return fail(`the workspace ${root} is not inside a git repository, so there is nothing to compare with ${ref}; run rbuild in a git checkout, or build without --since.`);
  }
  // rev-parse prints the prefix, then "true"/"false", then the commit: read from the end (a prefix may hold a newline).
  const lines = where.stdout.toString("utf8").replace(/\n$/, "").split("\n");
  const commit = where.code === 0 ? lines.pop() : undefined;
  const shallow = lines.pop() === "true";
  const prefix = lines.join("\n");
  const deepen = "fetch more history (`git fetch --deepen=100`, or `git fetch --unshallow`; in GitHub Actions, actions/checkout with `fetch-depth: 0`)";
  if (where.code !== 0 && where.stderr.trim() !== "") return fail(`git rev-parse failed: ${complaint(where.stderr)}; fix that, or build without --since.`);
  if (commit === undefined) {
    return fail(
      shallow
        ? `this is a shallow clone and it has no commit ${ref}; ${deepen}, or fetch the ref itself (\`git fetch origin ${ref}\`).`
        : `git knows no commit ${ref}; name a branch, tag or commit (main, origin/main, v1.2, HEAD~1), and fetch a remote's branch first (\`git fetch origin main\`).`,
    );
  }
  if (diff.code !== 0) {
    if (/no merge base/i.test(diff.stderr)) {
      return fail(
        shallow
          ? `this is a shallow clone, and the commit where ${ref} and HEAD meet is not in it; ${deepen}.`
          : `${ref} and HEAD share no history (no merge base); name a ref HEAD descends from, or one that meets it.`,
      );
    }
    return fail(`git diff failed: ${complaint(diff.stderr)}; fix that, or build without --since.`);
  }
  if (untracked.code !== 0) return fail(`git ls-files failed: ${complaint(untracked.stderr)}; fix that, or build without --since.`);
  // Paths come relative to the repository's top; the workspace is `prefix` below it.
  const up = prefix === "" ? "" : "../".repeat(prefix.split("/").filter(Boolean).length);
  const inWorkspace = (path: string): string => (path.startsWith(prefix) ? path.slice(prefix.length) : `${up}${path}`);
  const paths = new Set([...nulPaths(diff.stdout), ...nulPaths(untracked.stdout)].map(inWorkspace));
  return ok([...paths].sort());
}
