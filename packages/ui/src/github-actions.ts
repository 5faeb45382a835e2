/**
 * GitHub Actions workflow commands, as its runner reads them from a step's
 * output: `::name prop=value,prop=value::data`, one per line. A value is
 * escaped the way the Actions toolkit escapes it (the runner unescapes the
 * same set): in data `%`, CR and LF become `%25`, `%0D`, `%0A`; a property
 * also escapes `:` and `,` (`%3A`, `%2C`), which would end it early. `%` goes
 * first, so an escape is never escaped again.
 */

/** Escapes the data of a workflow command (what follows the second `::`). */
export function escapeData(text: string): string {
  return text.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
}

/** Escapes a property value of a workflow command (`title=...`). */
export function escapeProperty(text: string): string {
  return escapeData(text).replaceAll(":", "%3A").replaceAll(",", "%2C");
}

/** Opens a collapsible group of log lines titled `title`; groups do not nest. */
export function groupStart(title: string): string {
  return `::group::${escapeData(title)}\n`;
}

export const GROUP_END = "::endgroup::\n";

/** An error annotation: shown on the run's summary page and beside the log line. */
export function errorAnnotation(title: string, message: string): string {
  return `::error title=${escapeProperty(title)}::${escapeData(message)}\n`;
}

/** Whether `env` is a GitHub Actions job's (the runner sets GITHUB_ACTIONS=true). */
export function inGitHubActions(env: Readonly<Record<string, string | undefined>>): boolean {
  return env.GITHUB_ACTIONS === "true";
}

/**
 * Whether `env` is a CI job's: CI set (every common CI service sets it, most
 * to "true"), unless to "", "0" or "false", which people write to turn it off.
 */
export function inCi(env: Readonly<Record<string, string | undefined>>): boolean {
  const ci = env.CI;
  return inGitHubActions(env) || (ci !== undefined && !["", "0", "false"].includes(ci.toLowerCase()));
}
