/**
 * The words for an undo that failed, the same wherever it is shown: the
 * reporters (recap, CI table, JUnit, summary) and the history (`rbuild show`,
 * `rbuild errors`), so a failed undo never reads as its task's command failing.
 *
 *   undo deploy FAILED: its undo exited with code 1; what deploy did is still in place: ...
 */
import type { UndoResult } from "./events.js";
import { describeFailure } from "./failure.js";

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
