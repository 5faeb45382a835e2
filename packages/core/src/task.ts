/**
 * The Buildfile API: `task()` declares a unit of work. A Buildfile is ordinary
 * TypeScript, so `task()` only records what it is given; the planner validates
 * every field later and reports all problems at once, with the line of the call.
 */
import { locationFromStack, type SourceLocation } from "./location.js";
import type { Pool } from "./pool.js";

/** What a function `run` receives. */
export interface RunContext {
  /** The task's name. */
  readonly name: string;
  /** Absolute directory the task runs in (its `cwd`, resolved against the Buildfile's directory). */
  readonly cwd: string;
  /** The task's environment: the variables it declares in `env` plus the pass-through set (PATH, HOME, ...). */
  readonly env: Readonly<Record<string, string>>;
  /** Aborted when the build is interrupted; pass it on to long-running work. */
  readonly signal: AbortSignal;
  /**
   * Runs a command in the task's `cwd` and environment, with its output shown as
   * the task's output. A string runs with `/bin/sh -c`; an array runs the program
   * directly, with no shell. Resolves with the captured stdout; rejects with an
   * {@link ExecError} when the command exits non-zero, which fails the task unless caught.
   */
  exec(command: string | readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Writes one line to the task's output. */
  log(...parts: unknown[]): void;
}

export interface ExecOptions {
  /** Directory to run in, relative to the task's `cwd`. */
  readonly cwd?: string;
  /** Extra variables for this command only. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface ExecResult {
  readonly exitCode: number;
  /** The command's stdout (at most the last 16 MiB). */
  readonly stdout: string;
}

/** Rejection of {@link RunContext.exec} when the command fails. */
export class ExecError extends Error {
  override readonly name = "ExecError";
  constructor(
    readonly command: string,
    /** The exit code, or null when the command was killed by a signal. */
    readonly exitCode: number | null,
    readonly signal: string | null,
  ) {
    super(
      exitCode === null
        ? `command \`${command}\` was killed by ${signal ?? "a signal"}`
        : `command \`${command}\` exited with code ${exitCode}`,
    );
  }
}

export type RunFunction = (context: RunContext) => Promise<void> | void;

/** What a function {@link TaskOptions.context} value is given: the task's outputs, to read only. */
export interface ContextOutputs {
  /**
   * The text (UTF-8, as written: trim it if need be) of the output file at
   * `path`, relative to the Buildfile's directory. Throws, failing the task,
   * when `path` is not matched by the task's `outputs` or is not a file.
   */
  read(path: string): string;
}

/** A value of {@link TaskOptions.context}: a string, or one computed from the task's outputs. */
export type ContextValue = string | ((outputs: ContextOutputs) => string);

/** The fields of {@link task}. Paths and globs are relative to the Buildfile's directory. */
export interface TaskOptions {
  /** Unique name, used on the command line (`rbuild <name>`) and in `deps`. No whitespace; must not start with `-`. */
  readonly name: string;
  /** Tasks that must finish first: task objects, or names (which allow forward references). */
  readonly deps?: readonly (Task | string)[];
  /** Globs of the files the task reads, e.g. `["src/**\/*.ts", "!src/**\/*.test.ts"]`. */
  readonly inputs?: readonly string[];
  /** Globs of the files the task writes; they are stored and restored as the task's outputs. */
  readonly outputs?: readonly string[];
  /**
   * Names of environment variables the task may see. Everything else is hidden
   * (strict env) except a small pass-through set: PATH, HOME, USER, SHELL, TMPDIR,
   * LANG, LC_*, TERM, TZ and the like.
   */
  readonly env?: readonly string[];
  /**
   * What the task does: a shell command (run with `/bin/sh -c` in `cwd`) or an
   * async function. A task without `run` is a group: it only ties its deps together.
   */
  readonly run?: string | RunFunction;
  /**
   * A pure task's outputs depend only on its inputs, so it can be cached. Set
   * `false` for work with effects outside the workspace (deploys, uploads): it always runs.
   * Defaults to `true`.
   */
  readonly pure?: boolean;
  /**
   * Environment values passed to every task that depends on this one, directly
   * or through others (its descendants), which see them without listing them in
   * `env`; they enter those tasks' keys (`rbuild why` says `context-changed: NAME
   * from <task>`), and they win over the caller's variable of that name. A value
   * is a string, or a function called once this task is done (ran, or restored)
   * with its outputs, e.g. `{ VERSION: (out) => out.read("version.txt").trim() }`:
   * it must depend on nothing else. A task given one name by two tasks takes the
   * nearer (the one that depends on the other); by two unrelated tasks, planning
   * fails naming both. The task itself does not see its own context.
   */
  readonly context?: Readonly<Record<string, ContextValue>>;
  /**
   * A warm start, for tools with their own incremental caches (tsc
   * `--incremental`, webpack's cache): on a cache miss the outputs of the
   * task's last successful run are restored before it runs (a cold run, with an
   * info line, when they are gone from the cache; cold under `--force`). Its
   * result is stored under its new key as usual. For pure tasks; defaults to `false`.
   */
  readonly incremental?: boolean;
  /** Directory to run in, relative to the Buildfile's directory. Defaults to the Buildfile's directory. */
  readonly cwd?: string;
  /**
   * Named values that enter the task's key beside its inputs' contents: for
   * what the Buildfile computes rather than names as files (`scripts()` puts
   * the digest of the lockfile entries a package installs here). When one
   * changes, `rbuild why` says `key-part-changed: <name>`.
   */
  readonly keyParts?: Readonly<Record<string, string>>;
  /**
   * The files (relative to the Buildfile's directory) the `keyParts` values
   * are computed from, such as the lockfile: not inputs (the key has their
   * parts, not their contents), but what `--since` counts as a change to the
   * task when git reports one of them changed.
   */
  readonly keyPartsFrom?: readonly string[];
  /**
   * Where its commands run: `"local"` (the default), in the workspace; or
   * `"sandbox"`, under bubblewrap, in a tree that holds only its declared
   * inputs and its deps' outputs (read-only), with the system directories
   * read-only, a fresh /tmp and HOME, and no network: a read of an undeclared
   * file, or a write outside its outputs, fails the task naming the file.
   * `rbuild --sandbox` runs every pure task that does not say so in the sandbox.
   * Or `{ image: "<path>" }`: in a container, the sandbox with that image's
   * root filesystem instead of the host's system directories (see ContainerImage).
   */
  readonly runner?: "local" | "sandbox" | ContainerImage;
  /** A sandboxed or container task may reach the network (default false). Nothing else is changed by it. */
  readonly network?: boolean;
  /**
   * How many more times to run the task when it fails (default 0): for work
   * that fails transiently (a flaky network, a busy service). Each attempt is
   * an event and a row of `rbuild history`; a task that passed after failing
   * is reported `flaky` with its `attempts`. Retries do not change a pure
   * task's key (they cannot change what it produces). An interrupt is never
   * retried, nor is anything once another task's failure has stopped the
   * build. A whole number from 0 to 100.
   */
  readonly retries?: number;
  /**
   * The wait before the first retry, in milliseconds (default 1000). It
   * doubles with each further attempt, jittered (times 0.5 to 1.5) so that
   * many builds do not retry in step, and is capped at a minute.
   */
  readonly retryDelay?: number;
  /**
   * Retry only when the command (or a function's `exec`) exits with one of
   * these codes (1 to 255, at least one); any other failure fails at once.
   * Without it, any failure but an interrupt is retried.
   */
  readonly retryOn?: readonly number[];
  /**
   * A compensating action for an impure task (`pure: false`): when a build
   * fails, the `undo` of every impure task that succeeded in that build runs,
   * dependents' undos first (`rbuild --no-undo` skips them; after Ctrl-C they
   * run only with `--undo-on-interrupt`). A shell command, or a function given
   * the same {@link RunContext} as `run`. Not allowed on a pure task.
   */
  readonly undo?: string | RunFunction;
  /**
   * A pool (see `pool()`) the task holds while it runs: at most the pool's
   * size of its holders run at once, on top of `-j`. Not part of the key.
   */
  readonly pool?: Pool;
  /**
   * A dep (its task object or name, also listed in `deps`) whose outputs this
   * task starts from: before it runs, its output area holds a copy of that
   * dep's outputs, and its command changes, adds and deletes files there. Its
   * outputs globs must match every output of the dep (they are the same
   * files, one layer up); its stored layer holds only the difference, with
   * OCI whiteouts for deletions, so a chain of transforms over a big tree
   * stores what each step changed. Both tasks must be pure.
   */
  readonly transform?: Task | string;
}

const TASK = Symbol.for("rbuild.task");

/** A declared task, as returned by {@link task}. Pass it in another task's `deps`. */
export interface Task {
  readonly [TASK]: true;
  readonly name: string;
  readonly options: TaskOptions;
  /** Where `task()` was called, when it can be known. */
  readonly location: SourceLocation | undefined;
}

export function isTask(value: unknown): value is Task {
  return typeof value === "object" && value !== null && (value as { [TASK]?: unknown })[TASK] === true;
}

/**
 * The registry the loader installs while it imports a Buildfile. It lives on
 * `globalThis` under a registered symbol so that every copy of this module (a
 * Buildfile may import shared tasks that bundle their own) reports to the same load.
 */
const REGISTRY = Symbol.for("rbuild.registry.v1");

interface Registry {
  readonly tasks: Task[];
  /** Values computed once per evaluation (see perEvaluation). */
  readonly memo: Map<string, unknown>;
  readonly context: EvaluationContext;
}

/** What the loader tells the Buildfile APIs about the evaluation it runs. */
export interface EvaluationContext {
  /** The workspace's cache directory, for APIs that keep derived data there (see scripts()). */
  readonly cacheDir?: string;
}

/** Starts collecting the tasks declared from now on; returns a function that stops and returns them. */
export function collectTasks(context: EvaluationContext = {}): () => Task[] {
  const registry: Registry = { tasks: [], memo: new Map(), context };
  const global = globalThis as { [REGISTRY]?: Registry };
  const previous = global[REGISTRY];
  global[REGISTRY] = registry;
  return () => {
    global[REGISTRY] = previous;
    return registry.tasks;
  };
}

/** The evaluation a task was declared in (see evaluationToken; pool.ts compares it with its pool's). */
const EVALUATION = Symbol.for("rbuild.evaluation");

class TaskImpl implements Task {
  readonly [TASK] = true as const;
  readonly [EVALUATION]: object | undefined = evaluationToken();
  readonly #site: Error;
  #location: SourceLocation | undefined | null = null;
  constructor(
    readonly options: TaskOptions,
    site: Error,
  ) {
    this.#site = site;
  }
  get name(): string {
    return this.options.name;
  }
  get location(): SourceLocation | undefined {
    if (this.#location === null) this.#location = locationFromStack(this.#site);
    return this.#location;
  }
}

/**
 * Declares a task.
 *
 * ```ts
 * import { task } from "rbuild";
 * export const build = task({ name: "build", inputs: ["src/**"], outputs: ["dist/**"], run: "tsc -p ." });
 * export const test = task({ name: "test", deps: [build], run: "vitest run" });
 * ```
 */
export function task(options: TaskOptions): Task {
  return declareTask(options, task);
}

/**
 * Declares a task whose location is where `caller` was called from: for
 * functions that declare tasks for the Buildfile (such as `scripts()`), so
 * that a problem with one points at the Buildfile's line, not at theirs.
 */
export function declareTask(options: TaskOptions, caller: (...args: never[]) => unknown): Task {
  // Capture only the caller's frame; V8 formats it lazily, so this stays cheap
  // for Buildfiles that declare thousands of tasks.
  const site = {} as Error;
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 1;
  Error.captureStackTrace(site, caller);
  Error.stackTraceLimit = limit;
  // Copy so that later mutation of the caller's object cannot change the task.
  const created = new TaskImpl(
    typeof options === "object" && options !== null ? { ...options } : (options as TaskOptions),
    site,
  );
  (globalThis as { [REGISTRY]?: Registry })[REGISTRY]?.tasks.push(created);
  return created;
}

/**
 * `compute()`, once per evaluation of the Buildfile: a Buildfile API that reads
 * the workspace (such as `workspace()`) is asked again by each helper that uses
 * it, and each evaluation must see the files as they are then. Outside an
 * evaluation it simply computes.
 */
export function perEvaluation<T>(key: string, compute: () => T): T {
  const memo = (globalThis as { [REGISTRY]?: Registry })[REGISTRY]?.memo;
  if (memo === undefined) return compute();
  if (!memo.has(key)) memo.set(key, compute());
  return memo.get(key) as T;
}

/**
 * A token for the evaluation under way, the same object for all of it;
 * undefined outside one. In the evaluation's memo, so every copy of this
 * module a Buildfile loads agrees on it.
 */
export function evaluationToken(): object | undefined {
  if ((globalThis as { [REGISTRY]?: Registry })[REGISTRY] === undefined) return undefined;
  return perEvaluation("rbuild.evaluation", () => ({}));
}

/** The context of the evaluation under way; empty outside one. */
export function evaluationContext(): EvaluationContext {
  return (globalThis as { [REGISTRY]?: Registry })[REGISTRY]?.context ?? {};
}

/**
 * A container task's image (`runner: { image }`): `image` is a path relative
 * to the Buildfile's directory to an OCI image layout directory, a `docker
 * save` tarball, or a root filesystem directory. rbuild unpacks it once into
 * the store and runs the task in it under bubblewrap, its inputs at their
 * workspace paths; the image's digest is part of the task's key.
 * `engine: "docker"` runs it with a docker or podman engine instead (the
 * first on PATH), the image loaded into it once, the workspace seen the same way.
 */
export interface ContainerImage {
  readonly image: string;
  readonly engine?: "docker";
}
