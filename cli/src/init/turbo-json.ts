/**
 * A turbo.json as an InitPlan: one group task per turbo task name, over a
 * `scripts()` call with the translated settings (see turbo-task.ts).
 *
 * - `tasks` (turbo 2) or `pipeline` (turbo 1). A key `build` is the shared
 *   definition; `web#build` replaces it for package web, as in turbo (nothing
 *   is inherited); a package's own turbo.json (`extends: ["//"]`) changes it key
 *   by key, `$TURBO_EXTENDS$` in a list appending to the inherited one. Per
 *   package, only what differs from the shared options is written, in
 *   `overrides`; a setting the shared options have and the package's do not is
 *   reset (`[]`, `pure: true`, `inputs: undefined` for the default).
 * - `//#task` (a root package.json script) and `persistent` tasks are not
 *   declared: each is a comment that says why and how to run it.
 * - A task name no package has a script for still gets its `scripts()` call,
 *   which declares nothing until a package adds the script, so that what
 *   depends on it keeps working (turbo skips it the same way).
 * - Outputs two tasks of a package would share are given to one of them
 *   (output-overlaps.ts): turbo allows it, rbuild does not.
 * - Root keys with no counterpart (`ui`, `remoteCache`, `concurrency`, ...)
 *   are notes at the top that say what to use instead.
 */
import { err, ok, type Result } from "@rbuild/core";
import { taskNameProblem } from "@rbuild/planner";
import type { Workspace } from "@rbuild/workspaces";
import { parseJsonc } from "./jsonc.js";
import { resolveOutputOverlaps } from "./output-overlaps.js";
import { notTranslated, reservedNameNote, shown, type InitPlan, type PlannedOptions, type PlannedTask } from "./plan.js";
import { envNames, normalisedGlob, translateTask, type TaskContext, type TranslatedTask } from "./turbo-task.js";

export interface TurboConfig {
  /** Its path relative to the workspace root (`turbo.json`, `packages/web/turbo.json`). */
  readonly file: string;
  readonly text: string;
}

/** A package's turbo.json, with the name of its package. */
export interface PackageTurboConfig extends TurboConfig {
  readonly pkg: string;
}

const EXTENDS = "$TURBO_EXTENDS$";

/** Why each root key that does not map is left out; `$schema`, `tasks`, `pipeline`, `globalEnv` and `globalDependencies` map. */
const ROOT_KEYS: Readonly<Record<string, string>> = {
  globalPassThroughEnv: "a task sees only the variables in its env, and those enter its key; add the ones tasks need to their env",
  globalDotEnv: "list the .env files in rootInputs",
  ui: "rbuild shows plain lines on a terminal and in CI, or JSON with `--output json`",
  remoteCache: "give rbuild a remote cache with `--remote URL` or RBUILD_REMOTE_CACHE (and RBUILD_TOKEN)",
  cacheDir: "set RBUILD_CACHE_DIR to put rbuild's cache elsewhere",
  concurrency: "use `rbuild -j N`",
  daemon: "rbuild's own daemon starts when it is set up; see rbuild's README",
  envMode:
    "rbuild's env is always strict: a task sees only the variables in its env (and PATH, HOME and the like), so npm_config_* and the others a script may read " +
    "are not passed unless declared; declare the variables each task needs in its env",
  extends: "only a package's turbo.json extends another",
};

function parse(config: TurboConfig): Result<Record<string, unknown>, string> {
  let json: unknown;
  try {
    json = parseJsonc(config.text);
  } catch (error) {
    return err(`${config.file} is not valid JSON (${(error as Error).message}); fix it, then run \`rbuild init\` again`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return err(`${config.file} must hold a JSON object`);
  return ok(json as Record<string, unknown>);
}

function tasksOf(json: Record<string, unknown>, file: string): Result<Record<string, unknown>, string> {
  const tasks = json.tasks ?? json.pipeline;
  if (typeof tasks !== "object" || tasks === null || Array.isArray(tasks)) {
    return err(`${file} has no \`tasks\` (turbo 2) or \`pipeline\` (turbo 1) object, so there is nothing to translate`);
  }
  return ok(tasks as Record<string, unknown>);
}

/** `over`'s keys replacing `base`'s; a list holding $TURBO_EXTENDS$ appends to the inherited one. */
function extend(base: unknown, over: unknown): unknown {
  if (typeof over !== "object" || over === null) return over;
  const inherited = typeof base === "object" && base !== null ? (base as Record<string, unknown>) : {};
  const merged: Record<string, unknown> = { ...inherited };
  for (const [key, value] of Object.entries(over)) {
    const from = inherited[key];
    merged[key] = Array.isArray(value) && value.includes(EXTENDS) ? [...(Array.isArray(from) ? from : []), ...value.filter((item) => item !== EXTENDS)] : value;
  }
  return merged;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** What `own` changes in `shared`, for `overrides`; a field only `shared` has is reset. */
function difference(own: PlannedOptions, shared: PlannedOptions): PlannedOptions {
  const out: Record<string, unknown> = {};
  const reset: PlannedOptions = { deps: [], inputs: "default", outputs: [], rootInputs: [], env: [], pure: true };
  for (const field of ["deps", "inputs", "outputs", "rootInputs", "env", "pure"] as const) {
    if (same(own[field], shared[field])) continue;
    out[field] = own[field] ?? reset[field];
  }
  return out as PlannedOptions;
}

interface Definitions {
  shared: unknown;
  /** Per workspace package name, in the order met. */
  packages: Map<string, unknown>;
  /** Notes for definitions that name no workspace package. */
  notes: string[];
}

/** Translates turbo.json (and the packages' turbo.json files) for the workspace `ws`. */
export function translateTurbo(root: TurboConfig, packageConfigs: readonly PackageTurboConfig[], ws: Workspace): Result<InitPlan, string> {
  const json = parse(root);
  if (!json.ok) return json;
  const tasks = tasksOf(json.value, root.file);
  if (!tasks.ok) return tasks;
  const comments: string[] = [];
  const global = (key: string, why: string): void => void comments.push(notTranslated(key, why));
  for (const [key, value] of Object.entries(json.value)) {
    if (ROOT_KEYS[key] !== undefined) global(`${key} ${shown(value)}`, ROOT_KEYS[key]!);
    else if (!["$schema", "tasks", "pipeline", "globalEnv", "globalDependencies"].includes(key)) global(key, "it is not a turbo.json setting rbuild init knows");
  }
  if (json.value.tasks !== undefined && json.value.pipeline !== undefined) global("pipeline", "`tasks` is used; turbo 2 reads only that");
  const list = (key: string): string[] => {
    const value = json.value[key];
    if (value === undefined) return [];
    if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value as string[];
    global(key, "it must be a list of strings");
    return [];
  };
  const globalEnv = envNames(list("globalEnv"), "globalEnv", comments);
  const rootInputs = list("globalDependencies").flatMap(
    (glob) => normalisedGlob(glob.replace("$TURBO_ROOT$/", ""), "globalDependencies", "it leaves the workspace; rbuild reads only files inside it", comments) ?? [],
  );

  // Every definition of each task name, in turbo.json's order.
  const byName = new Map<string, Definitions>();
  const definitions = (name: string): Definitions => byName.get(name) ?? byName.set(name, { shared: undefined, packages: new Map(), notes: [] }).get(name)!;
  const rootTasks: PlannedTask[] = [];
  for (const [key, definition] of Object.entries(tasks.value)) {
    if (key.startsWith("//#")) {
      const script = key.slice(3);
      const why = `a root task runs the root package.json's \`${script}\` script, and scripts() declares the packages' scripts; declare it with task({ name: ${JSON.stringify(script)}, run: "${ws.packageManager} run ${script}", inputs: [...] }) if rbuild should run it`;
      rootTasks.push({ name: key, comments: [notTranslated(key, why)] });
    } else if (key.includes("#")) {
      const [pkg, name] = [key.slice(0, key.indexOf("#")), key.slice(key.indexOf("#") + 1)];
      const defs = definitions(name);
      if (ws.packages.some((p) => p.name === pkg)) defs.packages.set(pkg, definition);
      else defs.notes.push(notTranslated(key, `no workspace package is named ${JSON.stringify(pkg)}`));
    } else definitions(key).shared = definition;
  }
  for (const config of packageConfigs) {
    const parsed = parse(config);
    if (!parsed.ok) return parsed;
    const own = tasksOf(parsed.value, config.file);
    if (!own.ok) continue; // A package turbo.json without tasks changes nothing.
    for (const [name, definition] of Object.entries(own.value)) {
      if (name.includes("#")) {
        global(`${config.file} ${JSON.stringify(name)}`, "a package's turbo.json names its own tasks without `package#`");
        continue;
      }
      const defs = definitions(name);
      defs.packages.set(config.pkg, extend(defs.packages.get(config.pkg) ?? defs.shared, definition));
    }
  }

  const persistent = (definition: unknown): boolean => (definition as { persistent?: unknown } | undefined)?.persistent === true;
  // A name rbuild cannot take as a task's (a line break, a space) is a note, not a task: the Buildfile would not load.
  const declarable = (defs: Definitions): boolean => (defs.shared === undefined ? [...defs.packages.values()].some((d) => !persistent(d)) : !persistent(defs.shared));
  const declared = new Set([...byName].filter(([name, defs]) => taskNameProblem(name) === undefined && declarable(defs)).map(([name]) => name));
  const byPackage = new Map(ws.packages.map((pkg) => [pkg.name, pkg]));
  const context: TaskContext = {
    globalEnv,
    rootInputs,
    declares: (script) => declared.has(script),
    packageHas: (name, script) => {
      const pkg = byPackage.get(name);
      return pkg === undefined ? undefined : pkg.scripts[script] !== undefined;
    },
  };

  const planned: PlannedTask[] = [];
  for (const [name, defs] of byName) {
    const badName = taskNameProblem(name);
    if (badName !== undefined) {
      planned.push({ name, comments: [...defs.notes, notTranslated(JSON.stringify(name), `an rbuild task's name ${badName}; rename the task (and its scripts)`)] });
    } else if (defs.shared === undefined && defs.packages.size === 0) planned.push({ name, comments: defs.notes });
    else if (!declared.has(name)) {
      const how = `run it with \`${ws.packageManager} run ${name}\` in a package`;
      planned.push({ name, comments: [notTranslated(name, `it is persistent (a dev server or watcher, which never finishes), and a build task must finish; ${how}`)] });
    } else planned.push(plannedTask(name, defs, context, ws));
  }
  if (!planned.some((task) => task.scripts !== undefined)) {
    return err(`${root.file} has no task rbuild can declare (only persistent tasks and root tasks), so there is nothing to translate`);
  }
  return ok(resolveOutputOverlaps({ source: root.file, comments, tasks: [...planned, ...rootTasks] }, ws));
}

function plannedTask(name: string, defs: Definitions, context: TaskContext, ws: Workspace): PlannedTask {
  const shared = defs.shared === undefined ? undefined : translateTask(defs.shared, context);
  const reserved = reservedNameNote(name);
  const comments: string[] = [...(shared?.description === undefined ? [] : [shared.description]), ...(reserved === undefined ? [] : [reserved]), ...defs.notes, ...(shared?.notes ?? [])];
  const own: [string, TranslatedTask][] = [];
  const excluded: string[] = [];
  for (const [pkg, definition] of defs.packages) {
    const translated = translateTask(definition, context);
    if (translated.persistent) {
      comments.push(notTranslated(`${pkg}#${name}`, `it is persistent (a dev server or watcher, which never finishes); run it with \`${ws.packageManager} run ${name}\` in ${pkg}`));
      excluded.push(`!${pkg}`);
      continue;
    }
    // What it inherits from the shared definition was noted there already.
    const label = (text: string): string => text.replace("rbuild init: ", `rbuild init: ${pkg}#${name} `);
    comments.push(...translated.notes.filter((text) => !shared?.notes.includes(text)).map(label));
    own.push([pkg, translated]);
  }
  // Without a shared definition, the packages that have one are all there is: the first one's options are shared.
  const base = shared?.options ?? own[0]?.[1].options ?? {};
  const packages = shared === undefined ? own.map(([pkg]) => pkg) : excluded.length > 0 ? excluded : undefined;
  const overrides = own.map(([pkg, translated]) => [pkg, difference(translated.options, base)] as const).filter(([, options]) => Object.keys(options).length > 0);
  const scripted = ws.packages.filter((pkg) => pkg.scripts[name] !== undefined);
  if (scripted.length === 0) comments.push(`rbuild init: no workspace package has a "${name}" script yet, so this declares no task until one does`);
  return { name, comments, scripts: { options: base, ...(packages === undefined ? {} : { packages }), overrides } };
}
