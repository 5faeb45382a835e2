/** Lines of a failed task's output handed to the reports (`--junit`): enough to hold a test runner's failure. */
export const REPORT_TAIL_LINES = 100;

/**
 * The last REPORT_TAIL_LINES lines a run wrote (stdout and stderr, in the
 * order written), whatever the size of its log: unlike the stored log, which
 * stops at its cap, this keeps the end, where the error usually is. Trimmed
 * once it holds twice that, so a long run costs one splice per
 * REPORT_TAIL_LINES lines.
 */
export class OutputTail {
  readonly #lines: string[] = [];

  add(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > REPORT_TAIL_LINES * 2) this.#lines.splice(0, this.#lines.length - REPORT_TAIL_LINES);
  }

  lines(): readonly string[] {
    return this.#lines.slice(-REPORT_TAIL_LINES);
  }
}
