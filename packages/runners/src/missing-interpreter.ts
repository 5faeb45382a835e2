/**
 * Why a command that was found and is executable still could not start: its
 * `#!` line names an interpreter that does not exist. The kernel reports that
 * as ENOENT, which reads as if the script itself were missing; sh says "not
 * found" (127) just as unhelpfully. Looked at only after a start failed.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { delimiter, isAbsolute, resolve } from "node:path";

/** Where `program` is, as exec would find it: a path with a slash against `cwd`, else along `PATH`. */
function locate(program: string, cwd: string, path: string): string | undefined {
  if (program.includes("/")) return resolve(cwd, program);
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const candidate = resolve(cwd, dir, program);
    if (statSync(candidate, { throwIfNoEntry: false })?.isFile() === true) return candidate;
  }
  return undefined;
}

/** The interpreter the `#!` line of the file at `file` names, if it has one. */
function interpreterOf(file: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return undefined;
  }
  try {
    const head = Buffer.alloc(256);
    const line = head.subarray(0, readSync(fd, head, 0, head.length, 0)).toString("latin1").split("\n")[0]!;
    return /^#![ \t]*(\S+)/.exec(line)?.[1];
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * The message for a task whose command `command` could not start, when the
 * reason is a missing `#!` interpreter; else undefined (the runner's own stands).
 */
export function missingInterpreter(command: string | readonly string[], cwd: string, env: Readonly<Record<string, string>>): string | undefined {
  const program = typeof command === "string" ? command.trim().split(/[ \t]+/)[0] : command[0];
  if (program === undefined || program === "") return undefined;
  const file = locate(program, cwd, env.PATH ?? "");
  if (file === undefined) return undefined;
  const interpreter = interpreterOf(file);
  if (interpreter === undefined || !isAbsolute(interpreter) || statSync(interpreter, { throwIfNoEntry: false }) !== undefined) return undefined;
  return `its program ${program} is a script for the interpreter ${interpreter} (its #! line), which was not found. Install it, or fix the script's first line.`;
}
