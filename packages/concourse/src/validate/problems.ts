/**
 * What validation found, as Concourse reports it: errors (the config is refused) grouped by section
 * and printed as `invalid <section>:\n\t<message>` (atc/configvalidate), and warnings (the config is
 * accepted; `fly validate-pipeline --strict` fails on them).
 */
export type Section = "config" | "groups" | "resources" | "resource types" | "variable sources" | "jobs" | "display config";

export interface Problem {
  readonly section: Section;
  /** Names where, e.g. `jobs.build.plan.do[0].get(source): unknown resource 'src'`. */
  readonly message: string;
}

export interface ValidationResult {
  readonly errors: readonly Problem[];
  readonly warnings: readonly Problem[];
}

/** Sections in the order Concourse checks them. */
const ORDER: readonly Section[] = ["config", "groups", "resources", "resource types", "variable sources", "jobs", "display config"];

/**
 * The errors as the server lists them in a 400 answer's `{"errors": [...]}`: one string per section,
 * `invalid <section>:\n\t<message>...\n` (a malformed config's own line each).
 */
export function errorMessages(errors: readonly Problem[]): string[] {
  const messages: string[] = [];
  for (const section of ORDER) {
    const lines = errors.filter((problem) => problem.section === section).map((problem) => problem.message);
    if (lines.length === 0) continue;
    if (section === "config") messages.push(...lines.map((line) => `malformed config: ${line}\n`));
    else messages.push(`invalid ${section}:\n${lines.map((line) => `\t${line}`).join("\n")}\n`);
  }
  return messages;
}

/** The errors as `fly validate-pipeline` prints them: the server's messages, one after another. */
export function formatErrors(errors: readonly Problem[]): string {
  return errorMessages(errors).join("");
}

/** The warnings, one line each. */
export function formatWarnings(warnings: readonly Problem[]): string {
  return warnings.map((problem) => `WARNING: ${problem.message}\n`).join("");
}

/** Collects problems for one section. */
export class Problems {
  readonly errors: Problem[] = [];
  readonly warnings: Problem[] = [];
  error(section: Section, message: string): void {
    this.errors.push({ section, message });
  }
  warning(section: Section, message: string): void {
    this.warnings.push({ section, message });
  }
}
