/**
 * Which reporter a build's output gets. `--output` names one; without it, the
 * terminal UI when stdout is a terminal and CI is unset, else plain. The TUI
 * falls back to plain where it cannot be drawn: stdout not a terminal, TERM
 * dumb, a terminal smaller than TUI_MIN, or an environment that ink reads as
 * CI (any CI but "0"/"false", or a CI_* variable: it would draw only the last
 * frame). Asked for by name, the fallback says why on stderr.
 */
import { inCi } from "@rbuild/ui";
import type { OutputMode } from "./args.js";
import type { Terminal } from "./terminal.js";

/** The smallest terminal the TUI draws on. */
export const TUI_MIN = { columns: 40, rows: 8 } as const;

/** Why the TUI cannot be drawn on `terminal`, or undefined when it can. */
function tuiProblem(terminal: Terminal): string | undefined {
  const { env } = terminal;
  const size = terminal.size?.();
  if (!terminal.stdoutIsTTY || size === undefined) return "stdout is not a terminal";
  if (env.TERM === "dumb") return "TERM is dumb";
  if (size.columns < TUI_MIN.columns || size.rows < TUI_MIN.rows) {
    return `the terminal is ${size.columns}x${size.rows}, smaller than ${TUI_MIN.columns}x${TUI_MIN.rows}`;
  }
  const ci = env.CI;
  if ((ci !== undefined && ci !== "0" && ci !== "false") || env.CONTINUOUS_INTEGRATION !== undefined || Object.keys(env).some((name) => name.startsWith("CI_"))) {
    return "the environment says this is CI";
  }
  return undefined;
}

export function outputMode(wanted: OutputMode | undefined, terminal: Terminal): OutputMode {
  const mode = wanted ?? (terminal.stdoutIsTTY && !inCi(terminal.env) ? "tui" : "plain");
  if (mode !== "tui") return mode;
  const problem = tuiProblem(terminal);
  if (problem === undefined) return "tui";
  if (wanted === "tui") terminal.stderr.write(`rbuild: --output tui: ${problem}; plain output instead.\n`);
  return "plain";
}
