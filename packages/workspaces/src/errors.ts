/** A workspace that cannot be read as its package manager would: the message names the file and what to change. */
export class WorkspaceError extends Error {
  override readonly name = "WorkspaceError";

  constructor(message: string) {
    // Deep enough to reach the Buildfile's call below rbuild's own frames: that is where the error is shown.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = Math.max(limit, 100);
    super(message);
    Error.stackTraceLimit = limit;
  }
}
