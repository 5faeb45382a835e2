/**
 * What rbuild/testing throws for a Buildfile that does not load, a plan that
 * cannot be made, or a stub that is refused. In a test a thrown error is how a
 * failure is reported, so rbuild's expected failures (values everywhere else)
 * become this one exception here, with rbuild's own messages.
 */
import { describeFailure, type SetupFailure } from "@rbuild/core";

export class PipelineError extends Error {
  override readonly name = "PipelineError";
  constructor(
    /** rbuild's failures, as data (`reason` says which). */
    readonly failures: readonly SetupFailure[],
    cwd: string,
  ) {
    super(failures.map((failure) => describeFailure(failure, { cwd })).join("\n"));
  }
}
