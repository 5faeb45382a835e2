/**
 * Commands that start without a shell, as GNU make starts them.
 *
 * `/bin/sh -c` costs a task an exec of the shell, its start-up and a fork:
 * about a millisecond of CPU, often more than a small program itself. GNU
 * make has long run a command with no shell metacharacters directly; rbuild
 * does the same, and only that: a command of plain words, the first naming a
 * program, runs as that program with the words as its arguments. Everything
 * else (pipes and redirections included) runs with `/bin/sh -c`, so sh's own
 * reading, messages and statuses hold; nothing of sh is imitated here.
 *
 * The rule is a whitelist: words made of `A-Z a-z 0-9 _ . / , : @ % + = -`,
 * separated by spaces or tabs, and a first word that is neither a shell
 * keyword or builtin nor an assignment. Such a line means the same to every
 * shell: the words, split at blanks, and nothing to expand.
 *
 * The program must also be found as sh would find it, and be executable;
 * else sh runs the line, with its own "not found" or "Permission denied" and
 * its status (127, or 126): a command that fails to start has no cost worth
 * saving, and the user reads exactly what sh says. That check is a few stats
 * on the main thread, against the shell's fork and exec. sh exports PWD, so
 * spawn-group.ts sets it for a command started without one too.
 *
 * What still differs from sh (README.md, "A Buildfile"): a program killed by
 * signal N is reported as killed by that signal, as bash's `sh -c` reports a
 * lone command (it execs it) and as make reports it; dash, which waits for the
 * command as a child, would exit 128+N after printing the signal's name.
 */
import { accessSync, constants as fsConstants, statSync } from "node:fs";
import { resolve } from "node:path";

/** Reserved words and builtins of dash and bash: a command named so means something else outside a shell. */
const SHELL_NAMES = new Set(
  (
    "! { } [[ ]] case coproc do done elif else esac fi for function if in select then time until while " +
    ". : [ alias bg bind break builtin caller cd chdir command compgen complete compopt continue declare dirs " +
    "disown echo enable eval exec exit export false fc fg getopts hash help history jobs kill let local logout " +
    "mapfile popd printf pushd pwd read readarray readonly return set shift shopt source suspend test times " +
    "trap true type typeset ulimit umask unalias unset wait"
  ).split(" "),
);

/** Plain words only, blank-separated, at least one. */
const PLAIN = /^[ \t]*[A-Za-z0-9_./,:@%+=-]+(?:[ \t]+[A-Za-z0-9_./,:@%+=-]+)*[ \t]*$/;

/** The words of `command` when a shell is not needed to read it, else undefined (run it with `/bin/sh -c`). */
export function plainWords(command: string): string[] | undefined {
  if (!PLAIN.test(command)) return undefined;
  const words = command.split(/[ \t]+/).filter((word) => word !== "");
  const name = words[0]!;
  return name.includes("=") || SHELL_NAMES.has(name) ? undefined : words;
}

/** Whether `path` is a regular file (following symlinks, as exec does). */
function isFile(path: string): boolean {
  try {
    // No exception for the common miss: most PATH entries do not have the program.
    return statSync(path, { throwIfNoEntry: false })?.isFile() === true;
  } catch {
    return false; // Missing, or a PATH entry that is not a searchable directory.
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether sh, in `cwd` with this PATH, would find `name` and could run it. As
 * dash looks: a name with a `/` is that file; else the first regular file of
 * that name in PATH's directories (an empty entry is the current directory),
 * which must be executable. No PATH: sh's own default applies, so say no.
 */
function runnable(name: string, cwd: string, path: string | undefined): boolean {
  if (name.includes("/")) {
    const file = resolve(cwd, name);
    return isFile(file) && isExecutable(file);
  }
  if (path === undefined) return false;
  for (const dir of path.split(":")) {
    const candidate = resolve(cwd, dir, name);
    if (isFile(candidate)) return isExecutable(candidate);
  }
  return false;
}

/**
 * The program and arguments to start `command` with, without a shell, in
 * `cwd` with `env`; undefined when it is to run with `/bin/sh -c`.
 */
export function argvWithoutShell(command: string, cwd: string, env: Readonly<Record<string, string | undefined>>): string[] | undefined {
  const words = plainWords(command);
  return words !== undefined && runnable(words[0]!, cwd, env.PATH) ? words : undefined;
}
