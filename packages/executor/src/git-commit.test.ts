import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { gitCommit } from "./git-commit.js";

let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-git-")));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Real git, to make the repositories whose files gitCommit reads (it never starts git itself). */
function git(cwd: string, ...args: string[]): string {
  const env = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t", GIT_CONFIG_NOSYSTEM: "1", HOME: dir };
  return execFileSync("git", args, { cwd, env, encoding: "utf8" }).trim();
}

function repoWithCommit(): string {
  const repo = join(dir, "repo");
  mkdirSync(join(repo, "packages", "app"), { recursive: true });
  git(repo, "init", "-q", "-b", "main");
  writeFileSync(join(repo, "a.txt"), "a");
  git(repo, "add", "a.txt");
  git(repo, "commit", "-q", "-m", "one");
  return repo;
}

describe("gitCommit", () => {
  test("24.5: the commit of a branch, from a loose ref and from packed-refs, in the repository's root or below it", () => {
    const repo = repoWithCommit();
    const head = git(repo, "rev-parse", "HEAD");
    expect([gitCommit(repo), gitCommit(join(repo, "packages", "app"))]).toEqual([head, head]);
    git(repo, "pack-refs", "--all");
    expect(gitCommit(repo)).toBe(head);
  });

  test("24.5: a detached HEAD, and a worktree (its .git a file naming its git directory)", () => {
    const repo = repoWithCommit();
    const first = git(repo, "rev-parse", "HEAD");
    writeFileSync(join(repo, "a.txt"), "b");
    git(repo, "commit", "-q", "-am", "two");
    git(repo, "checkout", "-q", "--detach", first);
    expect(gitCommit(repo)).toBe(first);
    git(repo, "checkout", "-q", "main");
    const second = git(repo, "rev-parse", "HEAD");
    git(repo, "worktree", "add", "-q", "-b", "side", join(dir, "side"), first);
    expect([gitCommit(join(dir, "side")), gitCommit(repo)]).toEqual([first, second]);
    git(repo, "pack-refs", "--all");
    expect(gitCommit(join(dir, "side"))).toBe(first);
  });

  test("24.5: no commit outside git, and none on a branch with no commit yet", () => {
    expect(gitCommit(dir)).toBeNull();
    const empty = join(dir, "empty");
    mkdirSync(empty);
    git(empty, "init", "-q");
    expect(gitCommit(empty)).toBeNull();
  });
});
