/**
 * git, run as a child process with an argument array (never a shell string).
 * GIT_TERMINAL_PROMPT=0 so that a repository needing credentials fails at once
 * instead of waiting for a password nobody will type; the pool boy's commits
 * carry `rbuild pool boy <rbuild@localhost>` unless the environment names an
 * author or committer (GIT_AUTHOR_NAME and friends win over `-c user.*`).
 */
import { spawn } from "node:child_process";

export interface GitResult {
  /** git's exit status; null when it could not be started or died by a signal. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Where git runs and with which environment (the caller's own by default). */
export interface GitContext {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export const POOL_BOY_NAME = "rbuild pool boy";
export const POOL_BOY_EMAIL = "rbuild@localhost";

export function runGit(args: readonly string[], context: GitContext): Promise<GitResult> {
  const env: Record<string, string | undefined> = { ...context.env, GIT_TERMINAL_PROMPT: "0" };
  // Messages are parsed (push's [rejected]): keep them in English.
  env.LC_ALL = "C";
  const identity = ["-c", `user.name=${POOL_BOY_NAME}`, "-c", `user.email=${POOL_BOY_EMAIL}`];
  return new Promise((resolve) => {
    const child = spawn("git", [...identity, ...args], { cwd: context.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", (error) => resolve({ code: null, stdout, stderr: `${stderr}${error.message}` }));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** `git <args>` said in a message, with what git wrote on failure. */
export function gitProblem(args: readonly string[], result: GitResult): string {
  const said = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-5).join("\n");
  const status = result.code === null ? "could not run" : `exited with status ${result.code}`;
  return `\`git ${args.join(" ")}\` ${status}${said === "" ? "" : `:\n${said}`}`;
}
