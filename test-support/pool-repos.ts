/**
 * Real pool-resource repositories for tests: a bare remote, a "pipeline" clone
 * that lays out pools and claims locks the way concourse/pool-resource does
 * (git mv unclaimed→claimed, its commit subject, dated in the past with
 * GIT_AUTHOR_DATE/GIT_COMMITTER_DATE), and hooks that push from another clone
 * at a chosen moment of the pool boy's run.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** An environment with no user or system git config, so the machine's settings do not leak in. */
export function isolatedGitEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  return { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0", ...extra };
}

const PIPELINE_IDENTITY = {
  GIT_AUTHOR_NAME: "CI Pool Resource",
  GIT_AUTHOR_EMAIL: "ci-pool@localhost",
  GIT_COMMITTER_NAME: "CI Pool Resource",
  GIT_COMMITTER_EMAIL: "ci-pool@localhost",
};

export function git(cwd: string, args: readonly string[], env: Record<string, string> = {}): string {
  return execFileSync("git", args, { cwd, env: isolatedGitEnv({ ...PIPELINE_IDENTITY, ...env }), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

export interface PoolFixture {
  readonly root: string;
  /** The bare remote the pool boy is pointed at. */
  readonly remote: string;
  /** A pipeline's clone of it, used to lay out pools and claim locks. */
  readonly pipeline: string;
  /** Removes everything. */
  cleanup(): void;
}

/** A bare remote on branch main, with `pools` laid out: each lock unclaimed, `.gitkeep` in both directories. */
export function makePoolFixture(pools: Record<string, readonly string[]>): PoolFixture {
  const root = mkdtempSync(join(tmpdir(), "rbuild-poolgit-test-"));
  const remote = join(root, "locks.git");
  const pipeline = join(root, "pipeline");
  git(root, ["init", "--quiet", "--bare", "--initial-branch=main", remote]);
  git(root, ["clone", "--quiet", remote, pipeline]);
  git(pipeline, ["symbolic-ref", "HEAD", "refs/heads/main"]);
  writeFileSync(join(pipeline, "README.md"), "locks\n");
  for (const [pool, locks] of Object.entries(pools)) {
    for (const side of ["claimed", "unclaimed"]) {
      mkdirSync(join(pipeline, pool, side), { recursive: true });
      writeFileSync(join(pipeline, pool, side, ".gitkeep"), "");
    }
    for (const lock of locks) writeFileSync(join(pipeline, pool, "unclaimed", lock), `{"lock":"${lock}"}\n`);
  }
  git(pipeline, ["add", "--all"]);
  git(pipeline, ["commit", "--quiet", "-m", "lay out the pools"], dated("2026-11-01T00:00:00Z"));
  git(pipeline, ["push", "--quiet", "origin", "main"]);
  return { root, remote, pipeline, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

const dated = (iso: string): Record<string, string> => ({ GIT_AUTHOR_DATE: iso, GIT_COMMITTER_DATE: iso });

/** Claims `lock` of `pool` in `clone` as pool-resource does, with `subject` (and `body`), committed at `iso`, and pushes. */
export function claim(clone: string, pool: string, lock: string, iso: string, subject: string, body?: string): string {
  git(clone, ["pull", "--quiet", "--rebase", "origin", "main"]);
  git(clone, ["mv", `${pool}/unclaimed/${lock}`, `${pool}/claimed/${lock}`]);
  git(clone, ["commit", "--quiet", "-m", subject, ...(body === undefined ? [] : ["-m", body])], dated(iso));
  git(clone, ["push", "--quiet", "origin", "HEAD:main"]);
  return git(clone, ["rev-parse", "HEAD"]).trim();
}

/** Releases `lock` of `pool` in `clone` as pool-resource does, and pushes. */
export function release(clone: string, pool: string, lock: string, iso: string, subject: string): void {
  git(clone, ["pull", "--quiet", "--rebase", "origin", "main"]);
  git(clone, ["mv", `${pool}/claimed/${lock}`, `${pool}/unclaimed/${lock}`]);
  git(clone, ["commit", "--quiet", "-m", subject], dated(iso));
  git(clone, ["push", "--quiet", "origin", "HEAD:main"]);
}

/** Another clone of the fixture's remote (another pipeline). */
export function cloneAgain(fixture: PoolFixture, name: string): string {
  const dir = join(fixture.root, name);
  git(fixture.root, ["clone", "--quiet", fixture.remote, dir]);
  return dir;
}

const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * A hooks directory with a hook that, the first time it runs (or every time
 * with `every`), runs `commands` (shell lines) in `clone` with the pipeline's
 * identity and pushes: a push from another clone after the pool boy cloned,
 * before its push (post-commit, the default: its push is then a plain
 * non-fast-forward), or during it (pre-push: the remote's ref moves under the
 * push, "failed to update ref"). Point the pool boy's git at it with
 * {@link hooksEnv}.
 */
export function anotherClonePushes(
  fixture: PoolFixture,
  clone: string,
  commands: readonly string[],
  options: { every?: boolean; hook?: "post-commit" | "pre-push" } = {},
): string {
  const dir = join(fixture.root, `hooks-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir);
  const marker = join(dir, "ran");
  const lines = [
    "#!/bin/sh",
    "set -e",
    ...(options.every === true ? [] : [`[ -e ${shellQuote(marker)} ] && exit 0`, `: > ${shellQuote(marker)}`]),
    "unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_PREFIX GIT_CONFIG_COUNT GIT_CONFIG_KEY_0 GIT_CONFIG_VALUE_0",
    ...Object.entries(PIPELINE_IDENTITY).map(([name, value]) => `export ${name}=${shellQuote(value)}`),
    "export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1",
    `cd ${shellQuote(clone)}`,
    "git pull --quiet --rebase origin main",
    ...commands,
    "git push --quiet origin HEAD:main",
    `echo x >> ${shellQuote(join(dir, "pushes"))}`,
  ];
  const hook = join(dir, options.hook ?? "post-commit");
  writeFileSync(hook, `${lines.join("\n")}\n`);
  chmodSync(hook, 0o755);
  return dir;
}

/** Environment entries that make git use `hooksDir` (GIT_CONFIG_COUNT: no file to edit in a clone made later). */
export const hooksEnv = (hooksDir: string): Record<string, string> => ({ GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "core.hooksPath", GIT_CONFIG_VALUE_0: hooksDir });

/** The remote's main branch: `<subject>` per commit, newest first. */
export const remoteSubjects = (fixture: PoolFixture): string[] => git(fixture.remote, ["log", "--format=%s", "main"]).trim().split("\n");

/** The files of `pool` on the remote's main branch, `claimed/x` and `unclaimed/y`, without `.gitkeep`. */
export const remoteLocks = (fixture: PoolFixture, pool: string): string[] =>
  git(fixture.remote, ["ls-tree", "-r", "--name-only", "main", "--", `${pool}/`])
    .trim()
    .split("\n")
    .filter((path) => !path.endsWith("/.gitkeep"))
    .map((path) => path.slice(pool.length + 1));
