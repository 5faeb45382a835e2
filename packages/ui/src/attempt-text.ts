/**
 * The words for retries and undos, the same in every reporter:
 *
 *   retrying deploy (attempt 2 of 3) in 400 ms: exit 1
 *   undo deploy: ok
 *   undo deploy FAILED: its undo exited with code 1; what deploy did is still in place
 */
import { describeFailure, type BuildEvent, type TaskFailure, type UndoResult } from "@rbuild/core";

/** Why an attempt failed, in a few words: `exit 1`, `killed by SIGTERM`, or the failure's message. */
export function attemptFailure(failure: TaskFailure, cwd: string): string {
  switch (failure.reason) {
    case "exit-nonzero":
      return `exit ${failure.exitCode}`;
    case "killed":
      return `killed by ${failure.signal}`;
    default:
      return describeFailure(failure, { cwd });
  }
}

export function retryLine(event: Extract<BuildEvent, { type: "task-retry" }>, cwd: string): string {
  return `retrying ${event.task} (attempt ${event.attempt} of ${event.attempts}) in ${event.delayMs} ms: ${attemptFailure(event.failure, cwd)}`;
}

/** Why an undo failed, naming what is left to put right. */
export function undoFailure(result: UndoResult, cwd: string): string {
  const failure = result.failure;
  const why =
    failure === undefined
      ? "it failed"
      : failure.reason === "exit-nonzero"
        ? `its undo exited with code ${failure.exitCode}`
        : failure.reason === "killed"
          ? `its undo was killed by ${failure.signal}`
          : failure.reason === "interrupted"
            ? "it was interrupted before it finished"
            : describeFailure(failure, { cwd });
  return `${why}; what ${result.task} did is still in place: undo it by hand, or fix its undo and run the build again`;
}

export function undoLine(result: UndoResult, cwd: string): string {
  return result.ok ? `undo ${result.task}: ok` : `undo ${result.task} FAILED: ${undoFailure(result, cwd)}`;
}
