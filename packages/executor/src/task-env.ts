/**
 * Strict env: a task sees the variables it declares and a small pass-through
 * set that programs need to work at all, never the rest of the caller's
 * environment. What a task can see is what can be keyed, so a variable that
 * changes outputs without being declared cannot cause a wrong cache hit.
 */
import { existsSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";

/**
 * Passed to every task. These locate programs and the user's files, and set
 * language and terminal; none should change what a correct build produces.
 * `LC_*` variables pass too.
 */
export const PASS_THROUGH_ENV: readonly string[] = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "TMPDIR",
  "TMP",
  "TEMP",
  "LANG",
  "LANGUAGE",
  "TERM",
  "COLORTERM",
  "NO_COLOR",
  "TZ",
];

function passesThrough(name: string): boolean {
  return PASS_THROUGH_ENV.includes(name) || name.startsWith("LC_");
}

/** `node_modules/.bin` of `dir` and each directory above it that has one, nearest first (as `npm run` does). */
function binDirs(dir: string): string[] {
  const found: string[] = [];
  for (let current = dir; ; current = dirname(current)) {
    const bin = join(current, "node_modules", ".bin");
    if (existsSync(bin)) found.push(bin);
    if (dirname(current) === current) return found;
  }
}

/** Builds task environments; remembers the `node_modules/.bin` lookups per directory. */
export class TaskEnvBuilder {
  readonly #base: Readonly<Record<string, string | undefined>>;
  /** The pass-through variables, picked once: listing process.env asks the C library for each entry. */
  readonly #passed: readonly (readonly [string, string])[];
  readonly #paths = new Map<string, string>();

  constructor(base: Readonly<Record<string, string | undefined>>) {
    this.#base = base;
    const passed: [string, string][] = [];
    for (const [name, value] of Object.entries(base)) {
      if (value !== undefined && passesThrough(name)) passed.push([name, value]);
    }
    this.#passed = passed;
  }

  /** The environment of a task that declares `declared` and runs in `cwd` (absolute). */
  build(declared: readonly string[], cwd: string): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [name, value] of this.#passed) env[name] = value;
    for (const name of declared) {
      const value = this.#base[name];
      if (value !== undefined) env[name] = value;
    }
    env.PATH = this.#pathFor(cwd, env.PATH ?? "");
    return env;
  }

  #pathFor(cwd: string, path: string): string {
    let prefix = this.#paths.get(cwd);
    if (prefix === undefined) {
      prefix = binDirs(cwd).join(delimiter);
      this.#paths.set(cwd, prefix);
    }
    if (prefix === "") return path;
    return path === "" ? prefix : `${prefix}${delimiter}${path}`;
  }
}
