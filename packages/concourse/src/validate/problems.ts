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

/** The errors as Concourse words them: one `invalid <section>:` block per section, each message on a tab-indented line. */
export function formatErrors(errors: readonly Problem[]): string {
  let text = "";
  for (const section of ORDER) {
    const messages = errors.filter((problem) => problem.section === section).map((problem) => problem.message);
    if (messages.length === 0) continue;
    text += section === "config" ? messages.map((message) => `malformed config: ${message}\n`).join("") : `invalid ${section}:\n${messages.map((m) => `\t${m}`).join("\n")}\n`;
  }
  return text;
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
