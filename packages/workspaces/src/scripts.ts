/**
 * Package scripts as tasks: `scripts("build", options)` declares, for every
 * workspace package whose package.json has a `build` script, the task
 * `<package>#build` (turbo's name for it) that runs the script the way the
 * workspace's package manager would (`npm run build`, `pnpm run build`, ...)
 * in the package's directory.
 *
 * What enters such a task's key, beyond its command and declared env:
 * - its inputs: by default every file of the package's directory except
 *   `node_modules/`, the outputs of every script task of the package (its own
 *   and those other scripts() calls of the Buildfile declare: a `test` writing
 *   `coverage/` must not change the `build`'s inputs, nor the other way round,
 *   or each would rerun the other), what the `.gitignore` files of the
 *   root, the package and the directories between them ignore (see
 *   gitignore.ts) and the directories of packages nested inside it; `inputs`
 *   (relative to the package) replaces that default;
 * - the files of every workspace package it depends on, transitively, chosen
 *   the same way (less this call's outputs in each): a package's tests import
 *   its dependencies through node_modules, and an edit in one must run them
 *   again even when the build in between comes out the same (early cutoff
 *   would otherwise keep a stale test result: a wrong hit);
 * - always: the package's package.json (it holds the script's text, which
 *   the command only names) and the root files named in `rootInputs`;
 * - the root lockfile's entries for the package (see lockfile-entries.ts), as
 *   the key part `<lockfile> entries of <dir>`: a dependency bump reruns the
 *   packages that install it, itself or through a workspace dependency or the
 *   root. A lockfile rbuild does not read by entries is an input, whole;
 * - the outputs of its deps (early cutoff as for every task).
 *
 * A package whose directory is, or is below, a symbolic link (see
 * WorkspacePackage.link) is refused, naming the package, when this call would
 * declare its task or read its files: every glob of such a task would pass
 * through the link, which the symlink rule (symlink-rule.ts in @rbuild/hash)
 * refuses for inputs and outputs alike.
 *
 * `deps` entries: `^name` is the `name` task of every workspace dependency,
 * looking through a dependency without that script to its own dependencies
 * (turbo's `^build`); a plain `name` is the same package's `name` task, left
 * out when the package has no such script; a name with `#` is that task
 * exactly; a Task object is itself.
 */
import { declareTask, evaluationContext, perEvaluation, type Task } from "@rbuild/core";
import { linkTarget } from "@rbuild/hash";
import { dependencyClosure } from "./dependency-closure.js";
import { discoverWorkspace, type Workspace, type WorkspacePackage } from "./discover.js";
import { lockfileDigests } from "./lockfile-entries.js";
import { gitignoreGlobs, gitignoreLines } from "./gitignore.js";
import { WorkspaceError } from "./errors.js";
import { nameMatcher } from "./name-matcher.js";

/** What one package's script task may set; globs are relative to the package's directory. */
export interface ScriptTaskOptions {
  readonly deps?: readonly (string | Task)[];
  /** The files it reads, relative to the package; replaces the default (the package's files). */
  readonly inputs?: readonly string[];
  /** The files it writes, relative to the package, e.g. `["dist/**"]`. */
  readonly outputs?: readonly string[];
  /** Files at the workspace root that it reads too, e.g. `["tsconfig.base.json"]`. */
  readonly rootInputs?: readonly string[];
  readonly env?: readonly string[];
  /** `false` for a script with effects outside the workspace: it always runs. */
  readonly pure?: boolean;
}

export interface ScriptsOptions extends ScriptTaskOptions {
  /** Only these packages: name globs (`@acme/*`), `!` to leave some out. Default: every package with the script. */
  readonly packages?: readonly string[];
  /** Per package, by name glob: options that replace the shared ones for the packages it matches. */
  readonly overrides?: Readonly<Record<string, ScriptTaskOptions>>;
  /** The workspace to use; default: `workspace()` of the Buildfile's directory. */
  readonly workspace?: Workspace;
}

/**
 * The workspace rooted at the Buildfile's directory (or `root`): its packages
 * in dependency order, with their scripts and internal dependencies. Read once
 * per evaluation of the Buildfile.
 */
export function workspace(root: string = process.cwd()): Workspace {
  return perEvaluation(`rbuild.workspace:${root}`, () => discoverWorkspace(root));
}

/**
 * `npm run build`, with the script's name quoted for sh when it needs it. npm
 * is told not to look for a newer npm: that check goes out to the network and
 * prints a notice into the task's output.
 */
function runCommand(ws: Workspace, script: string): string {
  const name = /^[\w:.@/+-]+$/.test(script) ? script : `'${script.replace(/'/g, `'\\''`)}'`;
  return ws.packageManager === "npm" ? `npm --no-update-notifier run ${name}` : `${ws.packageManager} run ${name}`;
}

function under(dir: string, glob: string): string {
  const negated = glob.startsWith("!");
  const body = (negated ? glob.slice(1) : glob).replace(/^\.\//, "");
  return `${negated ? "!" : ""}${dir}/${body}`;
}

/**
 * The default inputs of a package's tasks, without its outputs: the package's
 * files less what is not source. `ignored` reads each directory's .gitignore
 * once for all the packages below it.
 */
function packageFiles(pkg: WorkspacePackage, nested: readonly string[], ignored: (dir: string, within: string) => string[]): string[] {
  const excluded = [`${pkg.dir}/node_modules/**`];
  const segments = pkg.dir.split("/");
  for (let depth = 0; depth <= segments.length; depth++) excluded.push(...ignored(segments.slice(0, depth).join("/"), pkg.dir));
  for (const dir of nested) excluded.push(`${dir}/**`);
  return [`${pkg.dir}/**`, ...excluded.map((glob) => `!${glob}`)];
}

/** For each package directory, the package directories below it (most have none). */
function nestedPackages(ws: Workspace): Map<string, string[]> {
  const dirs = new Set(ws.packages.map((pkg) => pkg.dir));
  const nested = new Map<string, string[]>();
  for (const dir of dirs) {
    for (let cut = dir.lastIndexOf("/"); cut > 0; cut = dir.lastIndexOf("/", cut - 1)) {
      const above = dir.slice(0, cut);
      if (dirs.has(above)) nested.set(above, [...(nested.get(above) ?? []), dir]);
    }
  }
  return nested;
}

/** A package's script tasks so far: the excludes of their outputs, and the default inputs of each. */
interface Siblings {
  readonly excludes: string[];
  readonly defaultInputs: string[][];
}

/**
 * Leaves the outputs of every script task of the package at `dir` out of the
 * default inputs of its others: this task's out of those declared before it
 * (their input lists are appended to, before the planner reads any), theirs
 * out of this one's (`inputs`, undefined when the task names its own). A task
 * that reads a sibling's outputs has it in `deps`: its deps' outputs are in its key.
 */
function siblingOutputs(siblings: Map<string, Siblings>, dir: string, inputs: string[] | undefined, outputs: readonly string[]): void {
  let known = siblings.get(dir);
  if (known === undefined) siblings.set(dir, (known = { excludes: [], defaultInputs: [] }));
  const excludes = outputs.filter((glob) => !glob.startsWith("!")).map((glob) => `!${glob}`);
  for (const other of known.defaultInputs) other.push(...excludes);
  if (inputs !== undefined) {
    inputs.push(...known.excludes);
    known.defaultInputs.push(inputs);
  }
  known.excludes.push(...excludes);
}

/** Refuses a package reached through a symbolic link (see the module comment); `reader` is the task that would read its files as a dependency. */
function refuseLinked(ws: Workspace, pkg: WorkspacePackage, script: string, reader?: WorkspacePackage): void {
  if (pkg.link === undefined) return;
  const where = pkg.link === pkg.dir ? `${pkg.dir}, a symbolic link` : `${pkg.dir}, below ${pkg.link}, a symbolic link`;
  const who = reader === undefined ? `workspace package "${pkg.name}" (task "${pkg.name}#${script}")` : `workspace package "${pkg.name}" (whose files task "${reader.name}#${script}" reads)`;
  const leftOut = (reader ?? pkg).name;
  throw new WorkspaceError(
    `${who} is at ${where} (${pkg.link} -> ${linkTarget(ws.root, pkg.link)}); rbuild does not read, clear or store files through a symbolic link, ` +
      `which could reach files outside the workspace. Make ${pkg.link} a real directory (move the package into the workspace), or leave "${leftOut}" out with \`packages: ["!${leftOut}"]\`.`,
  );
}

/** The tasks of `pkg` that `dep` names, for a task of script `script` (see the module comment). */
function depNames(byName: ReadonlyMap<string, WorkspacePackage>, pkg: WorkspacePackage, dep: string, hasTask: (pkg: WorkspacePackage, script: string) => boolean): string[] {
  if (dep.startsWith("^")) {
    const script = dep.slice(1);
    const found = new Set<string>();
    const seen = new Set<string>();
    const through = (from: WorkspacePackage): void => {
      for (const name of from.dependencies) {
        if (seen.has(name)) continue;
        seen.add(name);
        const target = byName.get(name)!;
        if (hasTask(target, script)) found.add(`${target.name}#${script}`);
        else through(target);
      }
    };
    through(pkg);
    return [...found].sort();
  }
  if (dep.includes("#")) return [dep];
  return hasTask(pkg, dep) ? [`${pkg.name}#${dep}`] : [];
}

/** The options of scripts(), and of one package in `overrides` (the first six). */
const OPTIONS = ["deps", "inputs", "outputs", "rootInputs", "env", "pure", "packages", "overrides", "workspace"] as const;
const PACKAGE_OPTIONS: readonly string[] = OPTIONS.slice(0, 6);
/** What users of other tools write for an option (turbo's, Nx's), or a near miss. */
const ALIASES: Readonly<Record<string, string>> = { dependsOn: "deps", dependencies: "deps", input: "inputs", output: "outputs", cache: "pure", filter: "packages" };
/** Fields of task() that scripts() does not set: for those, the task is declared with task(). */
const TASK_FIELDS = new Set(["name", "run", "cwd", "keyParts", "keyPartsFrom", "retries", "retryDelay", "retryOn", "undo", "pool", "context", "incremental", "runner", "network", "transform"]);

/**
 * What is wrong with the options' names, or undefined: a name scripts() does
 * not know would otherwise be ignored without a word (turbo's `dependsOn`, a
 * task field such as `retries`), and the tasks built without what it asked for.
 */
function unknownOptions(options: ScriptsOptions): string | undefined {
  const problems: string[] = [];
  const check = (given: object, known: readonly string[], where: string): void => {
    for (const key of Object.keys(given)) {
      if (known.includes(key)) continue;
      const why = TASK_FIELDS.has(key) ? "it is a task() field: declare that task with task() to use it" : ALIASES[key] === undefined ? undefined : `did you mean \`${ALIASES[key]}\`?`;
      problems.push(`\`${key}\`${where} is not a scripts() option${why === undefined ? "" : ` (${why})`}`);
    }
  };
  check(options, OPTIONS, "");
  for (const [glob, override] of Object.entries(options.overrides ?? {})) check(override ?? {}, PACKAGE_OPTIONS, ` in overrides[${JSON.stringify(glob)}]`);
  return problems.length === 0 ? undefined : `${problems.join("; ")}. Its options are: ${OPTIONS.join(", ")}.`;
}

/**
 * Declares `<package>#<script>` for every selected package that has `script`,
 * and returns them in the workspace's dependency order.
 *
 * ```ts
 * import { scripts, task } from "rbuild";
 * const build = scripts("build", { deps: ["^build"], outputs: ["dist/**"] });
 * export const test = scripts("test", { deps: ["build"] });
 * ```
 */
export function scripts(script: string, options: ScriptsOptions = {}): Task[] {
  if (typeof script !== "string" || script === "") throw new WorkspaceError(`scripts() needs the name of a package.json script as its first argument, got ${JSON.stringify(script)}`);
  const unknown = unknownOptions(options);
  if (unknown !== undefined) throw new WorkspaceError(`scripts(${JSON.stringify(script)}): ${unknown}`);
  const ws = options.workspace ?? workspace();
  const selected = nameMatcher(options.packages ?? []);
  const overrides = Object.entries(options.overrides ?? {}).map(([glob, override]) => [nameMatcher([glob]), override] as const);
  const chosen = (pkg: WorkspacePackage): boolean => pkg.scripts[script] !== undefined && selected(pkg.name);
  // A dependency's task of this same script exists only where this call declares one; other scripts' are
  // assumed declared for every package that has them.
  const hasTask = (pkg: WorkspacePackage, name: string): boolean => (name === script ? chosen(pkg) : pkg.scripts[name] !== undefined);
  const byName = new Map(ws.packages.map((pkg) => [pkg.name, pkg]));
  const nested = nestedPackages(ws);
  // The script tasks declared so far in each package, across this evaluation's scripts() calls (see siblingOutputs).
  const siblings = perEvaluation(`rbuild.scripts-siblings:${ws.root}`, () => new Map<string, Siblings>());
  // Once per evaluation: every scripts() call of the Buildfile keys on the same entries.
  const lockDigests = perEvaluation(`rbuild.lockfile-entries:${ws.root}`, () => lockfileDigests(ws, evaluationContext().cacheDir));
  const gitignores = new Map<string, string[]>();
  const ignored = (dir: string, within: string): string[] => {
    let lines = gitignores.get(dir);
    if (lines === undefined) gitignores.set(dir, (lines = gitignoreLines(ws.root, dir)));
    return gitignoreGlobs(lines, dir, within);
  };
  const tasks: Task[] = [];
  // A package's files and what excludes this call's outputs in it, made once: each stands in the
  // inputs of every package that depends on it.
  const asDependency = new Map<string, readonly string[]>();
  const dependencyInputs = (dep: WorkspacePackage, outputGlobs: readonly string[]): readonly string[] => {
    const id = `${dep.name}\0${outputGlobs.join("\0")}`;
    let globs = asDependency.get(id);
    if (globs === undefined) {
      globs = [...packageFiles(dep, nested.get(dep.dir) ?? [], ignored), ...outputGlobs.filter((glob) => !glob.startsWith("!")).map((glob) => `!${under(dep.dir, glob)}`)];
      asDependency.set(id, globs);
    }
    return globs;
  };
  for (const pkg of ws.packages) {
    if (!chosen(pkg)) continue;
    refuseLinked(ws, pkg, script);
    const closure = dependencyClosure(pkg, byName);
    for (const dep of closure) refuseLinked(ws, dep, script, pkg);
    const own = overrides.find(([matches]) => matches(pkg.name))?.[1];
    const merged: ScriptTaskOptions = { ...options, ...own };
    const outputs = (merged.outputs ?? []).map((glob) => under(pkg.dir, glob));
    const lockDigest = lockDigests?.get(pkg.name);
    const inputs = [
      ...(merged.inputs === undefined ? packageFiles(pkg, nested.get(pkg.dir) ?? [], ignored) : merged.inputs.map((glob) => under(pkg.dir, glob))),
      // It holds the script itself, which the command (`npm run build`) only names.
      `${pkg.dir}/package.json`,
      // What it imports at run time through node_modules: an edit there must re-run it even when the
      // outputs of the task in between (the build it depends on) come out the same.
      ...closure.flatMap((dep) => dependencyInputs(dep, merged.outputs ?? [])),
      ...outputs.filter((glob) => !glob.startsWith("!")).map((glob) => `!${glob}`),
      ...(ws.lockfile !== undefined && lockDigest === undefined ? [ws.lockfile] : []),
      ...(merged.rootInputs ?? []),
    ];
    siblingOutputs(siblings, pkg.dir, merged.inputs === undefined ? inputs : undefined, outputs);
    const deps = (merged.deps ?? []).flatMap((dep): (string | Task)[] => (typeof dep === "string" ? depNames(byName, pkg, dep, hasTask) : [dep]));
    tasks.push(
      declareTask(
        {
          name: `${pkg.name}#${script}`,
          cwd: pkg.dir,
          run: runCommand(ws, script),
          deps,
          inputs,
          outputs,
          ...(merged.env === undefined ? {} : { env: merged.env }),
          ...(merged.pure === undefined ? {} : { pure: merged.pure }),
          ...(lockDigest === undefined ? {} : { keyParts: { [`${ws.lockfile} entries of ${pkg.dir}`]: lockDigest }, keyPartsFrom: [ws.lockfile!] }),
        },
        scripts,
      ),
    );
  }
  return tasks;
}
