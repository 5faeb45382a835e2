import type { ContextValue, RunFunction, SourceLocation } from "@rbuild/core";

/** A task's pool, checked (see pool-def.ts). */
export interface PoolDef {
  readonly name: string;
  readonly size: number;
  /** Leased from the `--remote` server, for every build that uses it; else this machine's limit only. */
  readonly shared: boolean;
}

/** A validated task: every field checked and normalised, deps resolved to names. */
export interface TaskDef {
  readonly name: string;
  readonly deps: readonly string[];
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Declared environment variable names, sorted and unique. */
  readonly env: readonly string[];
  /** Shell command, function, or undefined for a group. */
  readonly run: string | RunFunction | undefined;
  readonly pure: boolean;
  /** Its own `context` (what its descendants receive) as [name, value], sorted by name. */
  readonly context: readonly (readonly [string, ContextValue])[];
  /** Whether a miss starts from the outputs of its last successful run (see TaskOptions.incremental). */
  readonly incremental: boolean;
  /** Working directory relative to the workspace root, `""` for the root itself; POSIX separators. */
  readonly cwd: string;
  /** Its `keyParts` as [name, value], sorted by name. */
  readonly keyParts: readonly (readonly [string, string])[];
  /** The files its `keyParts` are computed from, normalised (what `--since` watches for them). */
  readonly keyPartsFrom: readonly string[];
  /** Its `runner`, undefined when it does not say (local, or the sandbox with --sandbox for a pure task). */
  readonly runner?: "local" | "sandbox" | undefined;
  /** Its `network: true` (for a sandboxed task). */
  readonly network?: boolean;
  /** Its `retries`, `retryDelay` and `retryOn`, when it has retries (not part of its key). */
  readonly retry?: RetryPolicy | undefined;
  /** Its compensating action (impure tasks only; not part of anything's key). */
  readonly undo?: string | RunFunction | undefined;
  /** The pool it holds while it runs, if any. Not part of its key. */
  readonly pool?: PoolDef;
  /**
   * The dep (one of `deps`) whose outputs it starts from, when it is a
   * transform: its layer then holds only what it changed (see diff-layer.ts
   * in @rbuild/store). Part of its key.
   */
  readonly transform?: string | undefined;
  /**
   * Where the task was declared. A function, not a field: finding it formats a
   * stack trace, which only an error message should pay for.
   */
  readonly locate: () => SourceLocation | undefined;
}

/** How a failed task is run again (see TaskOptions.retries). */
export interface RetryPolicy {
  /** Attempts after the first: at least 1. */
  readonly retries: number;
  /** The wait before the first retry, in ms (doubled for each one after it, jittered, capped). */
  readonly delayMs: number;
  /** Only failures with one of these exit codes are retried; undefined: any failure but an interrupt. */
  readonly on?: readonly number[];
}

/** Every task a Buildfile declares, by name, in declaration order. */
export interface Definitions {
  /** The directory of the Buildfile: globs, `cwd` and outputs are relative to it. */
  readonly root: string;
  /** Digest of the Buildfile's sources (see LoadedBuildfile.sourceDigest); part of function tasks' keys. */
  readonly sourceDigest: string;
  readonly tasks: ReadonlyMap<string, TaskDef>;
  /** The declared stages, by name (see stages.ts); empty when the Buildfile declares none. */
  readonly stages: ReadonlyMap<string, StageDef>;
}

/** A validated stage: its tasks and the stages it follows, by name. */
export interface StageDef {
  readonly name: string;
  readonly tasks: readonly string[];
  readonly after: readonly string[];
  readonly locate: () => SourceLocation | undefined;
}

/**
 * A context value a task receives from an ancestor (see context.ts): `value`
 * when it is a string, undefined when it is computed from the ancestor's
 * outputs once the ancestor is done.
 */
export interface InheritedContext {
  readonly name: string;
  readonly from: string;
  readonly value: string | undefined;
}

/** A task in the graph of one build. */
export interface GraphTask extends TaskDef {
  /** Tasks in this graph that depend on this one. */
  readonly dependents: readonly string[];
  /**
   * Length of the longest chain of tasks from this one to the end of the build,
   * counting itself. The executor starts the highest first (critical path first).
   */
  readonly priority: number;
  /** The context values it receives from its ancestors, by name (see context.ts). */
  readonly inherited: readonly InheritedContext[];
  /** The stage it belongs to, if any. */
  readonly stage: string | undefined;
  /** Its `run` is a stand-in put in place for this build (see stubTasks): reported as stubbed. */
  readonly stubbed?: true;
}

/** A stage of one build: its tasks in this graph, and the stages of this graph it follows. */
export interface GraphStage {
  readonly name: string;
  readonly tasks: readonly string[];
  readonly after: readonly string[];
}

/** The immutable plan of one build: the requested targets and everything they need. */
export interface Graph {
  readonly root: string;
  readonly sourceDigest: string;
  readonly targets: readonly string[];
  /** The tasks, in a topological order: every task comes after its deps. */
  readonly tasks: ReadonlyMap<string, GraphTask>;
  /** The stages with tasks in this build, each after the stages it follows. */
  readonly stages: readonly GraphStage[];
}
