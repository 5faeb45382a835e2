import { SUBCOMMANDS } from "../args.js";

/**
 * What `rbuild init` writes, as data: the translations (turbo-json.ts,
 * common-scripts.ts) produce an InitPlan and buildfile-text.ts turns it into
 * the text of a Buildfile.ts. Keeping the plan apart keeps both halves pure
 * and lets the tests read the decisions without parsing TypeScript.
 */

/** The options of one `scripts()` call, in the order they are written; globs relative to the package. */
export interface PlannedOptions {
  readonly deps?: readonly string[];
  /** `"default"`: the package's files, rbuild's default (written as `undefined` in an override, to undo the shared `inputs`). */
  readonly inputs?: readonly string[] | "default";
  readonly outputs?: readonly string[];
  readonly rootInputs?: readonly string[];
  readonly env?: readonly string[];
  readonly pure?: boolean;
}

export interface PlannedScripts {
  readonly options: PlannedOptions;
  /** `packages` of the call: name globs, `!` to leave out. Absent: every package with the script. */
  readonly packages?: readonly string[];
  /** Per package name: the options that differ from the shared ones. */
  readonly overrides: readonly (readonly [string, PlannedOptions])[];
}

/** One group task named for a script, over that script's `<package>#<script>` tasks. */
export interface PlannedTask {
  readonly name: string;
  /** Comment lines above the task (without the `// `): descriptions and `rbuild init:` notes. */
  readonly comments: readonly string[];
  /** Absent: nothing is declared, only the comments are written (a task rbuild cannot run, with why). */
  readonly scripts?: PlannedScripts;
}

export interface InitPlan {
  /** What the plan was made from, for the header: `turbo.json`, or the packages' scripts. */
  readonly source: string;
  /** Comment lines below the import, for settings of the whole workspace. */
  readonly comments: readonly string[];
  readonly tasks: readonly PlannedTask[];
}

/** The note for something that has no rbuild counterpart: `rbuild init: <what> not translated: <why>`. */
export function notTranslated(what: string, why: string): string {
  return `rbuild init: ${what} not translated: ${why}`;
}

/** A setting's value as JSON for a note, cut short when long. */
export function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= 60 ? text : `${text.slice(0, 57)}...`;
}

/** The names of the tasks the plan declares, in order. */
export function declaredTasks(plan: InitPlan): string[] {
  return plan.tasks.filter((planned) => planned.scripts !== undefined).map((planned) => planned.name);
}

/** How many `rbuild init:` notes the plan holds. */
export function noteCount(plan: InitPlan): number {
  return [...plan.comments, ...plan.tasks.flatMap((planned) => planned.comments)].filter((line) => line.startsWith("rbuild init:")).length;
}

/** A name `rbuild <name>` does not take as a task: rbuild's commands, and `graph`, kept for `rbuild graph`. */
const RESERVED = new Set<string>([...SUBCOMMANDS, "graph"]);

/** What runs task `name` after `rbuild`: `run <name>` for a name that is one of rbuild's commands. */
export function runWords(name: string): string {
  return RESERVED.has(name) ? `run ${name}` : name;
}

/** The note for a task named like one of rbuild's commands, if `name` is one. */
export function reservedNameNote(name: string): string | undefined {
  if (!RESERVED.has(name)) return undefined;
  const why = (SUBCOMMANDS as readonly string[]).includes(name) ? `\`rbuild ${name}\` is rbuild's own command` : `rbuild keeps \`rbuild ${name}\` for a command of its own`;
  return `rbuild init: run this task with \`rbuild run ${name}\`: ${why}`;
}

/** The task to run first, as the words after `rbuild`: `build` when there is one. */
export function firstTarget(plan: InitPlan): string {
  const declared = declaredTasks(plan);
  return declared.includes("build") ? "build" : declared[0] === undefined ? "list" : runWords(declared[0]);
}
