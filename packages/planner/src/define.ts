/**
 * Validates what a Buildfile declared and turns it into `Definitions`. It
 * collects every problem instead of stopping at the first, so a user fixes a
 * Buildfile in one round trip. Pure: data in, data out.
 */
import { posix } from "node:path";
import { err, isTask, ok, type Result, type SetupFailure, type Stage, type Task } from "@rbuild/core";
import { overlappingOutputs } from "@rbuild/hash";
import { checkContext, checkIncremental } from "./define-context.js";
import { defineStages } from "./define-stages.js";
import type { Definitions, TaskDef } from "./graph.js";
import { checkRetry, checkUndo } from "./check-retry.js";
import { normalGlob, type NormalGlob } from "./normal-glob.js";
import { checkPool, namedPools, poolConflicts, poolProblem } from "./pool-def.js";
import { protectedOutput } from "./protected-outputs.js";
import { suggest } from "./suggest.js";
import { show, type Problem } from "./field-problem.js";

/** The fields `task()` takes, in the order an unknown field's message lists them. */
export const TASK_FIELDS = ["name", "deps", "inputs", "outputs", "env", "run", "pure", "cwd", "keyParts", "keyPartsFrom", "retries", "retryDelay", "retryOn", "undo", "pool", "context", "incremental", "runner", "network", "transform"] as const;
/** What users of make, Turborepo, Nx and Bazel reach for, mapped to our field. */
const ALIASES: Readonly<Record<string, (typeof TASK_FIELDS)[number]>> = {
  command: "run",
  cmd: "run",
  script: "run",
  exec: "run",
  dependsOn: "deps",
  dependencies: "deps",
  needs: "deps",
  srcs: "inputs",
  sources: "inputs",
  outs: "outputs",
  environment: "env",
  workdir: "cwd",
  dir: "cwd",
  cache: "pure",
  retry: "retries",
  attempts: "retries",
  onFailure: "undo",
  rollback: "undo",
  from: "transform",
  base: "transform",
};
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Whitespace and control characters would make a name impossible to type or print unambiguously.
const BAD_NAME = /[\s\p{Cc}]/u;

/** Checks a path relative to the workspace root (`cwd`); returns a problem message or undefined. */
function checkRelative(value: string, what: string): string | undefined {
  if (value === "") return `contains an empty ${what}`;
  if (posix.isAbsolute(value) || /^[A-Za-z]:[\\/]/.test(value)) {
    return `contains the absolute path ${JSON.stringify(value)}; ${what}s are relative to the Buildfile's directory`;
  }
  const normal = posix.normalize(value);
  if (normal === ".." || normal.startsWith("../")) {
    return `contains ${JSON.stringify(value)}, which leaves the workspace; ${what}s must stay inside the Buildfile's directory`;
  }
  return undefined;
}

/**
 * The normal forms of globs already checked in this definition, by glob as written. Package scripts'
 * tasks repeat each package's globs in the inputs of all its dependents: 80,000 globs, 4,000 distinct,
 * for 500 packages.
 */
type CheckedGlobs = Map<string, NormalGlob>;

function checkStringList(value: unknown, field: string, what: string, problems: Problem[], checked?: CheckedGlobs): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.push({ field, message: `must be an array of ${what}s, got ${show(value)}` });
    return [];
  }
  const list: string[] = [];
  for (const item of value) {
    if (typeof item !== "string") {
      problems.push({ field, message: `must contain only strings, got ${show(item)}` });
      continue;
    }
    if (what !== "glob") {
      list.push(item);
      continue;
    }
    // Every later step (crawl, capture, the overlap check) reads the normal form only.
    let normal = checked?.get(item);
    if (normal === undefined) {
      normal = normalGlob(item);
      checked?.set(item, normal);
    }
    if (normal.ok) list.push(normal.glob);
    else problems.push({ field, message: normal.problem });
  }
  return list;
}

/**
 * Why `outputs` (normal forms) may not be cleared before the task runs (see protected-outputs.ts),
 * naming each glob as written in `declared` (`.` for the `**` it normalises to).
 */
function protectedOutputProblem(outputs: readonly string[], declared: unknown, checked: CheckedGlobs, kept: readonly string[]): string | undefined {
  const refused = protectedOutput(outputs, kept);
  if (refused === undefined) return undefined;
  const written = (Array.isArray(declared) ? declared : []).find((item): item is string => {
    const normal = typeof item === "string" ? checked.get(item) : undefined;
    return normal?.ok === true && normal.glob === refused.glob;
  });
  const shown = written === undefined || written === refused.glob ? JSON.stringify(refused.glob) : `${JSON.stringify(written)} (that is, ${JSON.stringify(refused.glob)})`;
  const what =
    refused.covers === "workspace"
      ? "which covers the whole workspace"
      : `which matches ${refused.path}, ${refused.path === kept[0] ? "the Buildfile" : "a file the Buildfile imports"}`;
  return (
    `contains ${shown}, ${what}: rbuild deletes what a task's outputs match before the task runs. ` +
    `Name only what the task writes, e.g. "dist/**" or "*.log"` +
    (refused.covers === "buildfile" ? `, or leave ${refused.path} out with "!${refused.path}"` : "") +
    "."
  );
}

/** The checked task; `deps` stays empty until every name is known, then `defineTasks` fills it. */
function checkTask(task: Task, checked: CheckedGlobs, kept: readonly string[]): { def: TaskDef & { deps: string[] }; depRefs: unknown[]; transformRef: unknown; problems: Problem[] } {
  const options = task.options as unknown as Record<string, unknown>;
  const problems: Problem[] = [];
  for (const key of Object.keys(options)) {
    if ((TASK_FIELDS as readonly string[]).includes(key)) continue;
    const hint = ALIASES[key] ?? suggest(key, TASK_FIELDS, 1)[0];
    problems.push({
      field: key,
      message: `is not a task field.${hint === undefined ? "" : ` Did you mean \`${hint}\`?`} Known fields: ${TASK_FIELDS.join(", ")}.`,
    });
  }

  const env = checkStringList(options.env, "env", "variable name", problems);
  for (const name of env) {
    if (!ENV_NAME.test(name)) {
      problems.push({ field: "env", message: `contains ${JSON.stringify(name)}, which is not a valid environment variable name` });
    }
  }

  const run = options.run;
  if (run !== undefined && typeof run !== "function" && (typeof run !== "string" || run.trim() === "")) {
    problems.push({
      field: "run",
      message: `must be a shell command string or an async function, got ${show(run)}; leave it out for a group task`,
    });
  }

  if (options.pure !== undefined && typeof options.pure !== "boolean") {
    problems.push({ field: "pure", message: `must be true or false, got ${show(options.pure)}` });
  }

  const runner = checkRunner(options.runner, problems);
  if (options.network !== undefined && typeof options.network !== "boolean") {
    problems.push({ field: "network", message: `must be true or false, got ${show(options.network)}` });
  }

  let cwd = "";
  if (options.cwd !== undefined) {
    if (typeof options.cwd !== "string") {
      problems.push({ field: "cwd", message: `must be a directory path string, got ${show(options.cwd)}` });
    } else {
      const problem = checkRelative(options.cwd, "path");
      if (problem !== undefined) problems.push({ field: "cwd", message: problem });
      else cwd = posix.normalize(options.cwd).replace(/\/$/, "").replace(/^\.$/, "");
    }
  }

  const keyParts: [string, string][] = [];
  if (options.keyParts !== undefined) {
    const parts = options.keyParts;
    if (typeof parts !== "object" || parts === null || Array.isArray(parts)) {
      problems.push({ field: "keyParts", message: `must be an object of named string values, got ${show(parts)}` });
    } else {
      for (const [name, value] of Object.entries(parts)) {
        if (typeof value === "string") keyParts.push([name, value]);
        else problems.push({ field: "keyParts", message: `must hold only strings, got ${show(value)} for ${JSON.stringify(name)}` });
      }
      keyParts.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    }
  }
  const keyPartsFrom: string[] = [];
  if (options.keyPartsFrom !== undefined) {
    if (!Array.isArray(options.keyPartsFrom)) problems.push({ field: "keyPartsFrom", message: `must be an array of file paths, got ${show(options.keyPartsFrom)}` });
    else {
      for (const path of options.keyPartsFrom as unknown[]) {
        const problem = typeof path === "string" ? checkRelative(path, "path") : `must hold only file paths, got ${show(path)}`;
        if (problem !== undefined) problems.push({ field: "keyPartsFrom", message: problem });
        else keyPartsFrom.push(posix.normalize(path as string));
      }
    }
  }

  let depRefs: unknown[] = [];
  if (options.deps !== undefined) {
    if (Array.isArray(options.deps)) depRefs = options.deps;
    else problems.push({ field: "deps", message: `must be an array of tasks or task names, got ${show(options.deps)}` });
  }

  const inputs = checkStringList(options.inputs, "inputs", "glob", problems, checked);
  const outputs = checkStringList(options.outputs, "outputs", "glob", problems, checked);
  const clearsKept = protectedOutputProblem(outputs, options.outputs, checked, kept);
  if (clearsKept !== undefined) problems.push({ field: "outputs", message: clearsKept });

  const context = checkContext(options.context, problems);
  const incremental = checkIncremental(options.incremental, options.pure, problems);
  const retry = checkRetry(options, problems);
  const undo = checkUndo(options, problems);
  const pool = options.pool === undefined ? {} : checkPool(task, options.pool);
  if (pool.problem !== undefined) problems.push({ field: "pool", message: pool.problem });

  const def = {
    name: task.name,
    deps: [] as string[],
    inputs,
    outputs,
    env: [...new Set(env)].sort(),
    run: typeof run === "string" || typeof run === "function" ? (run as TaskDef["run"]) : undefined,
    pure: options.pure !== false,
    context,
    incremental,
    cwd,
    keyParts,
    keyPartsFrom,
    runner,
    network: options.network === true,
    ...(retry === undefined ? {} : { retry }),
    ...(undo === undefined ? {} : { undo }),
    pool: pool.pool,
    locate: () => task.location,
  };
  return { def, depRefs, transformRef: options.transform, problems };
}

/** The task's `runner`, checked: "local", "sandbox", or `{ image, engine? }` with the image's path normalised. */
function checkRunner(value: unknown, problems: Problem[]): TaskDef["runner"] {
  if (value === undefined || value === "local" || value === "sandbox") return value;
  const expected = 'must be "local", "sandbox" or `{ image: "<path>" }` (a container image)';
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push({ field: "runner", message: `${expected}, got ${show(value)}` });
    return undefined;
  }
  const fields = value as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => key !== "image" && key !== "engine");
  if (unknown.length > 0) problems.push({ field: "runner", message: `has ${unknown.map((key) => `\`${key}\``).join(", ")}, which a container runner does not take (it takes \`image\` and \`engine\`)` });
  if (fields.engine !== undefined && fields.engine !== "docker") problems.push({ field: "runner", message: `has \`engine: ${show(fields.engine)}\`; the only engine to ask for is "docker" (leave it out to run the image with bubblewrap)` });
  if (typeof fields.image !== "string") {
    problems.push({ field: "runner", message: `must name its image: \`{ image: "<path>" }\`, a path relative to the Buildfile to an OCI image layout, a \`docker save\` tarball or a root filesystem directory; got ${show(fields.image)}` });
    return undefined;
  }
  const problem = checkRelative(fields.image, "image path");
  if (problem !== undefined) {
    problems.push({ field: "runner", message: problem });
    return undefined;
  }
  return { image: posix.normalize(fields.image).replace(/\/+$/, ""), ...(fields.engine === "docker" ? { engine: "docker" as const } : {}) };
}

/** Why `name` cannot name a task (`must not contain whitespace or control characters`), or undefined when it can. */
export function taskNameProblem(name: string): string | undefined {
  if (name === "") return "must not be empty";
  if (BAD_NAME.test(name)) return "must not contain whitespace or control characters";
  if (name.startsWith("-")) return 'must not start with "-" (it would read as a flag)';
  return undefined;
}

function nameProblem(name: unknown): string | undefined {
  if (typeof name !== "string" || name === "") return `must be a non-empty string, got ${show(name)}`;
  const problem = taskNameProblem(name);
  return problem === undefined ? undefined : `${problem}, got ${JSON.stringify(name)}`;
}

/**
 * Validates every declared task and stage and resolves `deps` to names. `kept`: the
 * Buildfile and the files it imports, relative to `root` (the Buildfile
 * first), which no task's outputs may match.
 */
export function defineTasks(tasks: readonly Task[], root: string, sourceDigest = "", kept: readonly string[] = [], declaredStages: readonly Stage[] = []): Result<Definitions, SetupFailure[]> {
  const failures: SetupFailure[] = [];
  const byName = new Map<string, Task[]>();
  const checked: { def: TaskDef & { deps: string[] }; depRefs: unknown[]; transformRef: unknown }[] = [];
  const globs: CheckedGlobs = new Map();

  for (const task of tasks) {
    if (typeof task.options !== "object" || task.options === null) {
      failures.push({ reason: "invalid-field", task: "?", field: "task()", message: `must be called with an options object, got ${show(task.options)}`, location: task.location });
      continue;
    }
    const badName = nameProblem(task.options.name);
    if (badName !== undefined) {
      const name = typeof task.options.name === "string" && task.options.name !== "" ? task.options.name : "?";
      failures.push({ reason: "invalid-field", task: name, field: "name", message: badName, location: task.location });
      continue;
    }
    const same = byName.get(task.name);
    if (same === undefined) byName.set(task.name, [task]);
    else same.push(task);
    const { def, depRefs, transformRef, problems } = checkTask(task, globs, kept);
    for (const p of problems) {
      failures.push({ reason: "invalid-field", task: task.name, field: p.field, message: p.message, location: task.location });
    }
    checked.push({ def, depRefs, transformRef });
  }

  for (const [name, same] of byName) {
    if (same.length > 1) failures.push({ reason: "duplicate-task", name, locations: same.map((t) => t.location) });
  }
  for (const pool of namedPools(tasks)) {
    const message = poolProblem(pool);
    if (message !== undefined) failures.push({ reason: "invalid-pool", pool: typeof pool.name === "string" ? pool.name : "?", message, location: pool.location });
  }

  const defs = new Map<string, TaskDef>();
  const transforms: { def: TaskDef; ref: unknown }[] = [];
  for (const { def, depRefs, transformRef } of checked) {
    if (transformRef !== undefined) transforms.push({ def, ref: transformRef });
    if (defs.has(def.name)) continue;
    const deps = def.deps;
    for (const ref of depRefs) {
      const dep = isTask(ref) ? ref.name : ref;
      if (typeof dep !== "string") {
        failures.push({ reason: "invalid-field", task: def.name, field: "deps", message: `must contain tasks or task names, got ${show(ref)}`, location: def.locate() });
      } else if (!byName.has(dep)) {
        failures.push({ reason: "unknown-dep", task: def.name, dep, suggestions: suggest(dep, byName.keys()), location: def.locate() });
      } else if (!deps.includes(dep)) {
        deps.push(dep);
      }
    }
    defs.set(def.name, def);
  }

  // The dep each transform names, even one refused below: its overlap with that dep is not a second error.
  const named = new Map<string, string>();
  for (const { def, ref } of transforms) {
    const dep = isTask(ref) ? ref.name : ref;
    if (typeof dep === "string") named.set(def.name, dep);
    const problem = checkTransform(def, ref, defs);
    if (typeof problem === "string") failures.push({ reason: "invalid-field", task: def.name, field: "transform", message: problem, location: def.locate() });
    else (def as { transform?: string }).transform = problem.dep;
  }

  for (const { task, message } of poolConflicts(defs.values())) {
    failures.push({ reason: "invalid-field", task: task.name, field: "pool", message, location: task.locate() });
  }

  // Each task removes what its outputs match before it runs and stores what they match after it:
  // two whose outputs overlap would delete each other's files, unless one is a transform of the
  // other, through a chain of them: it works on those files, one layer up.
  const withOutputs = [...defs.values()].filter((def) => def.outputs.length > 0);
  for (const overlap of overlappingOutputs(withOutputs.map((def) => ({ task: def.name, patterns: def.outputs })))) {
    if (transformsOf(overlap.first.task, overlap.second.task, named) || transformsOf(overlap.second.task, overlap.first.task, named)) continue;
    failures.push({ reason: "overlapping-outputs", ...overlap, location: defs.get(overlap.second.task)!.locate() });
  }

  const stages = defineStages(declaredStages, defs, failures);

  if (failures.length > 0) return err(failures);
  return ok({ root, sourceDigest, tasks: defs, stages });
}

/** The dep `def`'s `transform` names, or why it cannot (see TaskOptions.transform). */
function checkTransform(def: TaskDef, ref: unknown, defs: ReadonlyMap<string, TaskDef>): { dep: string } | string {
  const dep = isTask(ref) ? ref.name : ref;
  if (typeof dep !== "string" || dep === "") return `must be a task or a task name, got ${show(ref)}`;
  if (!def.deps.includes(dep)) return `names ${JSON.stringify(dep)}, which is not one of its deps; add it to \`deps\` (a transform starts from a dep's outputs, so it runs after it)`;
  const base = defs.get(dep);
  if (base === undefined) return `names ${JSON.stringify(dep)}, which is not a task`;
  if (!def.pure) return "is only for a pure task: an impure task keeps no action to record its layer stack in. Leave out `pure: false`, or `transform`";
  if (base.run === undefined) return `names ${JSON.stringify(dep)}, a group: it runs nothing and has no outputs to start from. Name the task whose outputs it should start from`;
  if (!base.pure) return `names ${JSON.stringify(dep)}, an impure task: its outputs are not kept as a result to build on. Make it pure, or leave out \`transform\``;
  if (def.outputs.length === 0) return "needs `outputs`: they must match every output of the task it transforms";
  if (def.incremental) return "cannot be combined with `incremental`: a transform starts from its dep's outputs, an incremental task from its own last ones. Leave out one of them";
  return { dep };
}

/** Whether `task` reaches `base` through the dep its `transform` names and theirs (`named`: task -> that dep). */
function transformsOf(task: string, base: string, named: ReadonlyMap<string, string>): boolean {
  const seen = new Set<string>();
  for (let at = named.get(task); at !== undefined && !seen.has(at); at = named.get(at)) {
    if (at === base) return true;
    seen.add(at);
  }
  return false;
}
