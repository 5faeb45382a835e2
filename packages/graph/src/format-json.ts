import type { GraphReport } from "./analyse.js";

/** The report as the versioned JSON of README.md, two-space indented, with a final newline. */
export function formatJson(report: GraphReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
