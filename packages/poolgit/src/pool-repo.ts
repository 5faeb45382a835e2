/**
 * A pool repository cloned into a fresh temporary directory for one command
 * and removed after it: a pool repo is small, and a fresh clone never starts
 * from a stale or half-updated state. The clone's branch is the one pushed to.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { err, ok, type Result } from "@rbuild/core";
import type { PoolGitFailure } from "./failure.js";
import { gitProblem, runGit, type GitResult } from "./git.js";

export interface PoolRepoOptions {
  /** A URL git understands, or a path (relative to `cwd`). */
  readonly url: string;
  /** The branch holding the pools; default: the remote's default branch. */
  readonly branch?: string | undefined;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface PoolRepo {
  readonly url: string;
  readonly dir: string;
  readonly branch: string;
  /** Runs git in the clone. */
  git(args: readonly string[]): Promise<GitResult>;
  /** Runs git in the clone; a failure is a `git-failed` value naming the step. */
  gitOk(args: readonly string[], doing: string): Promise<Result<string, PoolGitFailure>>;
  /** Removes the clone. */
  close(): Promise<void>;
}

/** Clones the pool repository; on failure nothing is left behind. */
export async function openPoolRepo(options: PoolRepoOptions): Promise<Result<PoolRepo, PoolGitFailure>> {
  const local = resolve(options.cwd, options.url);
  const url = existsSync(local) ? local : options.url;
  const root = await mkdtemp(join(tmpdir(), "rbuild-pool-"));
  const dir = join(root, "repo");
  const close = (): Promise<void> => rm(root, { recursive: true, force: true });
  const branchArgs = options.branch === undefined ? [] : ["--branch", options.branch];
  const cloneArgs = ["clone", "--quiet", "--no-tags", ...branchArgs, "--", url, dir];
  const cloned = await runGit(cloneArgs, { cwd: root, env: options.env });
  if (cloned.code !== 0) {
    await close();
    return err({
      reason: "git-failed",
      message: `could not clone the pool repository ${options.url}: ${gitProblem(cloneArgs, cloned)}\nCheck the URL${options.branch === undefined ? "" : ` and the branch "${options.branch}"`}, and that git reaches it without asking for a password (prompts are off).`,
    });
  }
  const git = (args: readonly string[]): Promise<GitResult> => runGit(args, { cwd: dir, env: options.env });
  const gitOk = async (args: readonly string[], doing: string): Promise<Result<string, PoolGitFailure>> => {
    const result = await git(args);
    return result.code === 0 ? ok(result.stdout) : err({ reason: "git-failed", message: `${doing}: ${gitProblem(args, result)}` });
  };
  const head = await gitOk(["symbolic-ref", "--quiet", "--short", "HEAD"], "could not read the branch of the pool repository");
  const hasCommit = (await git(["rev-parse", "--verify", "--quiet", "HEAD"])).code === 0;
  if (!head.ok || !hasCommit) {
    await close();
    return err({ reason: "git-failed", message: `the pool repository ${options.url} has no commits${options.branch === undefined ? " on its default branch" : ` on branch "${options.branch}"`}; there are no pools to look at.` });
  }
  return ok({ url: options.url, dir, branch: head.value.trim(), git, gitOk, close });
}

/** Clones, runs `use` on the clone, and removes the clone whatever happens. */
export async function withPoolRepo<T>(options: PoolRepoOptions, use: (repo: PoolRepo) => Promise<Result<T, PoolGitFailure>>): Promise<Result<T, PoolGitFailure>> {
  const opened = await openPoolRepo(options);
  if (!opened.ok) return opened;
  try {
    return await use(opened.value);
  } finally {
    await opened.value.close();
  }
}
