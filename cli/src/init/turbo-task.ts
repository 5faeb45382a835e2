/**
 * One turbo task definition (`"build": { "dependsOn": [...], ... }`) as the
 * options of a `scripts()` call, with a note for each setting that has no
 * counterpart. How each key maps:
 *
 * - `dependsOn`: `^build`, `build` and `pkg#build` mean in scripts() what they
 *   mean in turbo; one naming a task the Buildfile does not declare (a
 *   persistent task, a root task, a task not in turbo.json) is left out with a
 *   note, since rbuild would reject it. `$NAME` (turbo 1's env dependency) is `env`.
 * - `inputs`: globs relative to the package, `$TURBO_ROOT$/x` becomes the root
 *   input `x`. Without `$TURBO_DEFAULT$` they replace the default, and the
 *   package's `package.json` is added, as turbo always hashes it (it holds the
 *   script's command, which `npm run` hides from rbuild's key). With it, rbuild's
 *   default (the package's files less what .gitignore ignores) stands for
 *   turbo's (its git-tracked files).
 * - globs in the planner's normal form (`./dist/**` is `dist/**`), one it
 *   would refuse or that leaves the package left out with a note.
 * - `outputs` relative to the package; `env` names as they are, after `globalEnv`;
 *   `cache: false` is `pure: false`; `globalDependencies` are root inputs.
 * - `persistent: true` (a dev server) cannot be a build task: the caller comments it out.
 */
import { normalGlob } from "@rbuild/planner";
import { notTranslated, shown, type PlannedOptions } from "./plan.js";

export interface TaskContext {
  /** `globalEnv` names: every task's env starts with them. */
  readonly globalEnv: readonly string[];
  /** `globalDependencies`, as root inputs of every task. */
  readonly rootInputs: readonly string[];
  /** Whether the Buildfile declares script tasks of `script` (a dependsOn may name it). */
  readonly declares: (script: string) => boolean;
  /** Whether workspace package `pkg` has a script `script`; undefined when there is no such package. */
  readonly packageHas: (pkg: string, script: string) => boolean | undefined;
}

export interface TranslatedTask {
  readonly options: PlannedOptions;
  readonly persistent: boolean;
  readonly description: string | undefined;
  /** `rbuild init: <key> not translated: <why>` for each setting left out. */
  readonly notes: readonly string[];
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ROOT = "$TURBO_ROOT$/";
const DEFAULT = "$TURBO_DEFAULT$";

/** Why each turbo task key that does not map is left out. */
const UNMAPPED: Readonly<Record<string, string>> = {
  passThroughEnv: "a task sees only the variables in its env, and those enter its key; add the ones it needs to env",
  outputLogs: "choose what a run shows with `rbuild --output-logs`",
  outputMode: "choose what a run shows with `rbuild --output-logs`",
  interactive: "rbuild gives tasks no terminal input",
  interruptible: "it is for turbo watch, which rbuild has no equivalent of yet",
  with: "rbuild does not start tasks alongside others; start them yourself",
  dotEnv: "list the .env files in inputs (relative to the package) or rootInputs",
};

const KNOWN = new Set(["dependsOn", "inputs", "outputs", "env", "cache", "persistent", "description", ...Object.keys(UNMAPPED)]);

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item) => typeof item === "string") ? (value as string[]) : undefined;
}

/** The env names rbuild can declare, with a note for each it cannot. */
export function envNames(names: readonly string[], key: string, notes: string[]): string[] {
  const kept: string[] = [];
  for (const raw of names) {
    const name = raw.startsWith("$") ? raw.slice(1) : raw;
    if (ENV_NAME.test(name)) kept.push(name);
    else if (name.includes("*") || name.startsWith("!")) {
      notes.push(notTranslated(`${key} ${JSON.stringify(raw)}`, "rbuild declares variables by their exact names; add the ones the task reads to env"));
    } else notes.push(notTranslated(`${key} ${JSON.stringify(raw)}`, "it is not a valid variable name"));
  }
  return kept;
}

/**
 * `glob` (relative to the package, or to the root for a root input) in the
 * planner's normal form (`./dist` is `dist`, `a/../b` is `b`), so that the
 * overlap check init runs sees what the planner will; or undefined, with a
 * note, for one the planner would refuse. `leaving` says what to do with one
 * that leaves the package (or the workspace).
 */
export function normalisedGlob(glob: string, key: string, leaving: string, notes: string[]): string | undefined {
  const normal = normalGlob(glob);
  if (normal.ok) return normal.glob;
  const why =
    normal.reason === "leaves" ? leaving : normal.reason === "after-wildcard" ? '".." after a wildcard cannot be resolved from the text; write the glob without ".."' : "it is empty";
  notes.push(notTranslated(`${key} ${JSON.stringify(glob)}`, why));
  return undefined;
}

const LEAVES_PACKAGE = "it leaves the package; write it as $TURBO_ROOT$/... (a root input)";
const LEAVES_WORKSPACE = "it leaves the workspace; rbuild reads only files inside it";

function dependency(entry: string, context: TaskContext, notes: string[], env: string[]): string | undefined {
  const skip = (why: string): undefined => void notes.push(notTranslated(`dependsOn ${JSON.stringify(entry)}`, why));
  if (entry.startsWith("$")) return void env.push(...envNames([entry], "dependsOn", notes));
  if (entry.startsWith("//#")) return skip("it names a root task, which this Buildfile does not declare (see the note on it)");
  const topological = entry.startsWith("^");
  const name = topological ? entry.slice(1) : entry;
  const hash = name.indexOf("#");
  if (hash !== -1) {
    if (topological) return skip("rbuild has no `^` form for a task of one named package; name it without `^`");
    const [pkg, script] = [name.slice(0, hash), name.slice(hash + 1)];
    const has = context.packageHas(pkg, script);
    if (has === undefined) return skip(`no workspace package is named ${JSON.stringify(pkg)}`);
    if (!has || !context.declares(script)) return skip(`the Buildfile declares no task ${name}`);
    return entry;
  }
  if (!context.declares(name)) return skip(`the Buildfile declares no "${name}" tasks (see the note on it)`);
  return entry;
}

function inputsOf(globs: readonly string[], notes: string[]): { inputs?: string[]; rootInputs: string[] } {
  const rootInputs: string[] = [];
  const own: string[] = [];
  for (const glob of globs) {
    if (glob === DEFAULT) continue;
    const negated = glob.startsWith("!");
    const body = negated ? glob.slice(1) : glob;
    if (body.startsWith(ROOT)) {
      const root = normalisedGlob(`${negated ? "!" : ""}${body.slice(ROOT.length)}`, "inputs", LEAVES_WORKSPACE, notes);
      if (root !== undefined) rootInputs.push(root);
    } else {
      const normal = normalisedGlob(glob, "inputs", LEAVES_PACKAGE, notes);
      if (normal !== undefined) own.push(normal);
    }
  }
  if (!globs.includes(DEFAULT)) return { inputs: own.includes("package.json") ? own : [...own, "package.json"], rootInputs };
  const added = own.filter((glob) => !glob.startsWith("!"));
  const excluded = own.filter((glob) => glob.startsWith("!"));
  if (added.length > 0) {
    const why = "rbuild's default inputs (the package's files less what .gitignore ignores) hold them already, unless .gitignore ignores them";
    notes.push(notTranslated(`inputs ${added.map((glob) => JSON.stringify(glob)).join(", ")}`, why));
  }
  if (excluded.length === 0) return { rootInputs };
  notes.push(
    notTranslated(
      "$TURBO_DEFAULT$ with excludes",
      "rbuild's default inputs cannot be narrowed, so the inputs are the package's files less node_modules/ and the excludes, gitignored files included. " +
        "So a file the task writes that .gitignore ignores and outputs do not name (.eslintcache, *.tsbuildinfo) becomes its input, and the task is never cached: " +
        'add such files to the excludes ("!.eslintcache"), or list the inputs without $TURBO_DEFAULT$',
    ),
  );
  return { inputs: ["**", "!node_modules/**", ...excluded], rootInputs };
}

/** Translates the definition `definition` of a turbo task. */
export function translateTask(definition: unknown, context: TaskContext): TranslatedTask {
  const own: string[] = [];
  const note = (key: string, why: string): void => void own.push(notTranslated(key, why));
  if (typeof definition !== "object" || definition === null || Array.isArray(definition)) {
    note("the task", `its definition must be an object, got ${JSON.stringify(definition)}`);
    return { options: {}, persistent: false, description: undefined, notes: own };
  }
  const def = definition as Record<string, unknown>;
  const list = (key: string): string[] => {
    if (def[key] === undefined) return [];
    const items = stringList(def[key]);
    if (items === undefined) note(key, "it must be a list of strings");
    return items ?? [];
  };
  const env = [...context.globalEnv];
  const deps = list("dependsOn").flatMap((entry) => dependency(entry, context, own, env) ?? []);
  env.push(...envNames(list("env"), "env", own));
  const { inputs, rootInputs } = def.inputs === undefined ? { inputs: undefined, rootInputs: [] } : inputsOf(list("inputs"), own);
  const outputs: string[] = [];
  const outside = "scripts() outputs are relative to the package and stay inside it";
  for (const glob of list("outputs")) {
    if (glob.startsWith(ROOT) || glob.startsWith(`!${ROOT}`)) own.push(notTranslated(`outputs ${JSON.stringify(glob)}`, outside));
    else {
      const normal = normalisedGlob(glob, "outputs", outside, own);
      if (normal !== undefined) outputs.push(normal);
    }
  }
  for (const [key, value] of Object.entries(def)) {
    if (!KNOWN.has(key)) note(key, "it is not a turbo task setting rbuild init knows");
    else if (UNMAPPED[key] !== undefined) note(`${key} ${shown(value)}`, UNMAPPED[key]!);
  }
  if (def.cache !== undefined && typeof def.cache !== "boolean") note("cache", "it must be true or false");
  const roots = [...context.rootInputs, ...rootInputs];
  const unique = [...new Set(env)];
  return {
    options: {
      ...(deps.length === 0 ? {} : { deps }),
      ...(inputs === undefined ? {} : { inputs }),
      ...(outputs.length === 0 ? {} : { outputs }),
      ...(roots.length === 0 ? {} : { rootInputs: roots }),
      ...(unique.length === 0 ? {} : { env: unique }),
      ...(def.cache === false ? { pure: false } : {}),
    },
    persistent: def.persistent === true,
    description: typeof def.description === "string" ? def.description : undefined,
    notes: own,
  };
}
