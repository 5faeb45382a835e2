/**
 * The seam between deciding what runs (the executor) and running it (a
 * runner): here in a child process, later in a sandbox, a container or on
 * Concourse.
 *
 * A request says everything a task's run may depend on, in terms any runner
 * can act on: the command or function, the working directory, the whole
 * environment, and the paths it may read and must write, as the workspace
 * globs the Buildfile declared. A runner that runs in place (the local one)
 * needs only the first three; one that runs elsewhere copies the inputs and
 * the deps' outputs in, and the outputs back. The answer is how the run ended,
 * with its output streamed on the way and where the files it produced are.
 */
import type { RunFunction, TaskFailure } from "@rbuild/core";

/** Everything a runner needs to run one task. */
export interface RunRequest {
  /** The task's name, for messages and for function tasks' context. */
  readonly task: string;
  /** A command (run as `/bin/sh -c`, or without a shell when it is plain words) or a function. */
  readonly run: string | RunFunction;
  /** Absolute path of the workspace root: the globs below are relative to it. */
  readonly root: string;
  /** Absolute working directory. */
  readonly cwd: string;
  /** The task's whole environment (strict env already applied). */
  readonly env: Readonly<Record<string, string>>;
  /** The task's declared input globs. */
  readonly inputs: readonly string[];
  /** The output globs of the tasks it depends on: what else it may read. */
  readonly depOutputs: readonly string[];
  /** The task's declared output globs: what it must write. */
  readonly outputs: readonly string[];
  /**
   * The task runs in the sandbox (its `runner: "sandbox"`, or --sandbox for a
   * pure task): a runner that cannot confine it must refuse it, never run it unconfined.
   */
  readonly sandbox?: boolean;
  /**
   * The task's `network: true`: it may reach the network. A runner that can
   * cut a task off (the sandbox) does unless this is true; the local runner cannot.
   */
  readonly network?: boolean;
  /** Aborted when the build is interrupted, or the task has failed: stop it and everything it started. */
  readonly signal: AbortSignal;
  readonly stdout: (chunk: Buffer | string) => void;
  readonly stderr: (chunk: Buffer | string) => void;
  /**
   * Tells the build something about how its tasks run that is no task's
   * failure (an `info` event): the local runner's process helper was lost and
   * tasks start without it.
   */
  readonly info?: (code: string, message: string) => void;
}

/**
 * Where the files a run produced are. `in-place`: in the workspace itself,
 * where the outputs' globs find them: the local runner, and the sandbox
 * runner, which moves the declared outputs back into the workspace before it
 * answers (so the executor captures them as it does the local runner's).
 * A runner whose files stay elsewhere (a remote machine) adds its kind here.
 */
export type Produced = { readonly kind: "in-place" };

export type RunOutcome =
  | { readonly ok: true; readonly exitCode: number | null; readonly produced: Produced }
  | { readonly ok: false; readonly exitCode: number | null; readonly failure: TaskFailure };

/**
 * Runs one task somewhere. The executor decides what runs when and how many
 * at once; a runner only runs what it is given and reports how it ended.
 */
export interface Runner {
  run(request: RunRequest): Promise<RunOutcome>;
  /**
   * Told before a build which tasks it may be asked to run, so it can get
   * ready meanwhile (start a helper process, pull an image). Optional; may be
   * called more than once.
   */
  prepare?(runs: Iterable<RunRequest["run"] | undefined>): void;
  /**
   * Told once a build holds the workspace's build lock, whose directory (the
   * store's, `.rbuild`) is `dir`, before it runs anything: the runner stops
   * what a build there left running when it died, and keeps there what it
   * needs for the next build to do the same if this one dies. Optional.
   */
  begin?(dir: string): Promise<BuildHold>;
  /**
   * Whether a build in `dir` that died may have left something running that
   * `begin` would stop: a build that would otherwise take no lock (the no-op)
   * takes it then, and calls `begin`. Cheap: asked before every no-op. Optional.
   */
  mayHaveLeftRunning?(dir: string): boolean;
  /**
   * The tasks whose function runs here and has not ended: after an
   * interrupt, those that ignore their signal (the build gives up on them,
   * but they go on in this process). Optional.
   */
  functionsRunning?(): readonly string[];
}

/** A runner's part of one build that holds the build lock (see Runner.begin). */
export interface BuildHold {
  /** The process groups that a build which died had left running, stopped now (their ids): none, mostly. */
  readonly stopped: readonly number[];
  /** The build is over (called before the lock is released). */
  release(): void;
}
