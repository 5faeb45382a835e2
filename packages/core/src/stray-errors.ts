/**
 * Errors that user code throws where nothing can catch them: in a timer, an
 * event handler, a promise nobody awaits. Node's default is to print a raw
 * trace and exit 1, taking the whole build down; rbuild instead fails the
 * thing that threw (the Buildfile's load, or one task) with a message that
 * names it.
 *
 * How an error finds its owner: user code runs inside `run(owner, fn)`, and
 * everything it schedules inherits that owner through AsyncLocalStorage, so
 * the process-wide `uncaughtException` / `unhandledRejection` listener can ask
 * whose error it is. The first stray error fails its owner; once it has failed
 * (so, or by throwing), its later ones are dropped: it was reported with its
 * first error, and what it left running is no news. An owner that has
 * finished well (a task whose timer fires after it succeeded, a Buildfile whose
 * timer fires after it loaded) no longer takes errors; those, and errors with no
 * owner at all (a bug in rbuild), go to `unclaimed`, which decides how the
 * process ends: it is told what kind of owner it was.
 *
 * `process.exit` from user code is the same kind of escape: it would end the
 * build (and the daemon) with whatever status the code chose, 0 for a build
 * that never finished. While StrayErrors listens, `process.exit` called from
 * an owner's code throws an error that says what to do instead, and that error
 * fails the owner like a stray one (or goes to `unclaimed` once it is done).
 * rbuild's own calls, outside any owner, exit as usual.
 *
 * The listeners are process-wide, so there is one StrayErrors per process,
 * made by the program's entry point and handed to the loader and the runner.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** The user code an error can belong to: the Buildfile's top level, or a task's function. */
export type OwnerKind = "buildfile" | "task";

/** Who an error belongs to while it can still take it. */
export interface ErrorOwner {
  /** Shown when the error comes too late for its owner, e.g. `task "build"`. */
  readonly label: string;
  readonly kind: OwnerKind;
  /** Called with each stray error while the owner is running, or after one failed it; unset once it is done. */
  take: ((error: unknown) => void) | undefined;
}

export type UnclaimedError = (error: unknown, late: { readonly label: string; readonly kind: OwnerKind } | undefined) => void;

/** Takes an error thrown by a task's code after the task finished: true if it did (see StrayErrors.whileBuilding). */
export type LateTaskError = (error: unknown, label: string) => boolean;

export class StrayErrors {
  readonly #owners = new AsyncLocalStorage<ErrorOwner>();
  readonly #unclaimed: UnclaimedError;
  readonly #listener = (error: unknown): void => {
    const owner = this.#owners.getStore();
    if (owner?.take !== undefined) owner.take(error);
    // Outside the owner's context: what takes it is rbuild's code, and its process.exit must exit.
    else {
      this.#owners.exit(() => {
        if (owner?.kind === "task" && this.#lateTask?.(error, owner.label) === true) return;
        this.#unclaimed(error, owner === undefined ? undefined : { label: owner.label, kind: owner.kind });
      });
    }
  };
  #lateTask: LateTaskError | undefined;
  readonly #exit = process.exit;
  readonly #guardedExit = (code?: number | string | null): never => {
    const owner = this.#owners.getStore();
    if (owner === undefined) return this.#exit.call(process, code);
    const error = new Error(`${owner.label} called process.exit(${code ?? ""}); return or throw instead`);
    // The stack starts at the call, so the failure points at the user's line, not at this guard.
    Error.captureStackTrace(error, this.#guardedExit);
    // Taken now as well as thrown: code that catches the throw has still asked to end the build.
    owner.take?.(error);
    throw error;
  };

  /** Listens until `close`; `unclaimed` gets what no running owner takes. */
  constructor(unclaimed: UnclaimedError) {
    this.#unclaimed = unclaimed;
    process.on("uncaughtException", this.#listener);
    process.on("unhandledRejection", this.#listener);
    process.exit = this.#guardedExit;
  }

  /**
   * Runs `fn` with its stray errors taken until the returned promise settles;
   * one stray error rejects it (the first one wins, as a throw would). If it
   * rejects, the stray errors of what `fn` left running are dropped from then on.
   */
  async run<T>(label: string, kind: OwnerKind, fn: () => Promise<T>): Promise<T> {
    const owner: ErrorOwner = { label, kind, take: undefined };
    const stray = new Promise<never>((_, reject) => {
      owner.take = reject;
    });
    try {
      const value = await Promise.race([this.#owners.run(owner, fn), stray]);
      owner.take = undefined;
      return value;
    } catch (error) {
      owner.take = () => {};
      throw error;
    }
  }

  /**
   * While a build runs, errors that a task's code throws after that task
   * finished go to `late` first (the build fails that task), rather than to
   * `unclaimed`; one build at a time. Returns the function that ends it.
   */
  whileBuilding(late: LateTaskError): () => void {
    this.#lateTask = late;
    return () => {
      if (this.#lateTask === late) this.#lateTask = undefined;
    };
  }

  close(): void {
    if (process.exit === this.#guardedExit) process.exit = this.#exit;
    process.off("uncaughtException", this.#listener);
    process.off("unhandledRejection", this.#listener);
  }
}
