import { relative } from "node:path";
import { describeFailure, locationFromStack, type SetupFailure, type UnclaimedError } from "@rbuild/core";

/** rbuild's exit statuses: the contract scripts rely on. */
export const ExitCode = {
  Ok: 0,
  TaskFailed: 1,
  Usage: 2,
  Interrupted: 130,
  /** A bug in rbuild itself (sysexits' EX_SOFTWARE). */
  Internal: 70,
} as const;

/** Prints setup failures (bad flags, Buildfile errors, planning errors) to stderr. */
export function reportSetupFailures(failures: readonly SetupFailure[], cwd: string, stderr: { write(text: string): unknown } = process.stderr): void {
  let text = "";
  for (const failure of failures) text += `rbuild: error: ${describeFailure(failure, { cwd })}\n`;
  stderr.write(text);
}

/**
 * Ends the process for an error that no running Buildfile load or task took
 * (see StrayErrors): one thrown by the Buildfile after it had loaded is a
 * Buildfile error (2) at its place; one thrown by a task function after its
 * task had finished fails the run (1) and names the task; one with no owner
 * is a bug in rbuild.
 */
export const exitOnUnclaimed: UnclaimedError = (error, late) => {
  const cwd = process.cwd();
  if (late !== undefined) {
    const message = error instanceof Error ? error.message : `threw ${String(error)}`;
    const location = error instanceof Error ? locationFromStack(error) : undefined;
    const at = location === undefined ? "" : `${relative(cwd, location.file) || location.file}:${location.line}:${location.column}: `;
    const why =
      late.kind === "buildfile"
        ? `thrown by ${late.label} after it had loaded, by work its top-level code started and did not await; fix the Buildfile and run again`
        : `thrown by ${late.label} after it had finished; await the work it starts`;
    process.stderr.write(`rbuild: error: ${at}${message}\n(${why})\n`);
    process.exit(late.kind === "buildfile" ? ExitCode.Usage : ExitCode.TaskFailed);
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`rbuild: internal error (a bug in rbuild, please report it): ${detail}\n`);
  process.exit(ExitCode.Internal);
};
