/**
 * The words for retries and undos, the same in every reporter:
 *
 *   retrying deploy (attempt 2 of 3) in 400 ms: exit 1
 *   undo deploy: ok
 *   undo deploy FAILED: its undo exited with code 1; what deploy did is still in place
 */
import { describeFailure, undoFailure, type BuildEvent, type TaskFailure, type UndoResult } from "@rbuild/core";

export { undoFailure };

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

export function undoLine(result: UndoResult, cwd: string): string {
  return result.ok ? `undo ${result.task}: ok` : `undo ${result.task} FAILED: ${undoFailure(result, cwd)}`;
}
