import { describeFailure, type SetupFailure } from "@rbuild/core";

/** rbuild's exit statuses: the contract scripts rely on. */
export const ExitCode = {
  Ok: 0,
  TaskFailed: 1,
  Usage: 2,
  Interrupted: 130,
} as const;

/** Prints setup failures (bad flags, Buildfile errors, planning errors) to stderr. */
export function reportSetupFailures(failures: readonly SetupFailure[], cwd: string, stderr: { write(text: string): unknown } = process.stderr): void {
  let text = "";
  for (const failure of failures) text += `rbuild: error: ${describeFailure(failure, { cwd })}\n`;
  stderr.write(text);
}
