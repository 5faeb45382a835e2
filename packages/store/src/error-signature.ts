/**
 * A failure's signature for the error database (`rbuild errors`): its error
 * message and the last lines of its log, with what changes from one run of
 * the same failure to the next masked, so that a failure repeated is one
 * group with a count. Masked, in this order (each mask is left alone by the
 * later ones):
 * - colour codes (removed);
 * - timestamps: ISO dates with or without a time, and times of day, as `<time>`;
 * - temporary directories: a path below the system's temp directory, `/tmp`
 *   or `/var/folders`, up to its first component, as `<tmp>` (`<tmp>/src/a.ts`:
 *   the file inside still tells two failures apart);
 * - hex digests and addresses: 8 or more hex digits with at least one digit
 *   among them, or `0x` and any, as `<hex>`;
 * - numbers not after a letter, as `<n>` (exit codes, line numbers, durations,
 *   counts, pids; `TS2304` stays).
 * Blank lines go, and the whole is capped at SIGNATURE_LIMIT characters.
 */
import { tmpdir } from "node:os";
import { stripAnsi } from "@rbuild/core";

/** How many of a failure's last log lines are kept with it (`runs.tail`) and enter its signature. */
export const ERROR_TAIL_LINES = 20;

/** A signature is cut to this many characters: two failures alike this far are one. */
export const SIGNATURE_LIMIT = 2000;

const TIMESTAMP = /\b\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?\b|\b\d\d:\d\d:\d\d(?:[.,]\d+)?\b/g;
const HEX = /\b0x[0-9a-f]+\b|\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b/gi;
// Not after a letter: `TS2304` stays, `45ms` and `line 3` do not.
const NUMBER = /(?<![A-Za-z\d])\d+(?:\.\d+)?/g;

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The temp directories whose paths are masked: the system's, and the usual ones. */
function tempPattern(): RegExp {
  const roots = new Set([tmpdir(), "/tmp", "/var/tmp", "/var/folders", "/private/var/folders", "/private/tmp"].map((dir) => dir.replace(/\/+$/, "")));
  const alternatives = [...roots].filter((dir) => dir !== "").sort((a, b) => b.length - a.length).map(escape);
  // `/var/folders/xy/abc/T/name` on macOS: every component up to the first under T goes.
  return new RegExp(`(?:${alternatives.join("|")})(?:/[^/\\s'"\`:)]+)?(?:/T/[^/\\s'"\`:)]+)?`, "g");
}

/** The signature of a failure with `error` (its message, if any) and `tail` (its last log lines). */
export function errorSignature(error: string | null, tail: readonly string[]): string {
  const temp = tempPattern();
  const lines: string[] = [];
  for (const line of [...(error ?? "").split("\n"), ...tail]) {
    const masked = stripAnsi(line)
      .replace(TIMESTAMP, "<time>")
      .replace(temp, "<tmp>")
      .replace(HEX, "<hex>")
      .replace(NUMBER, "<n>")
      .trimEnd();
    if (masked.trim() !== "") lines.push(masked);
  }
  return lines.join("\n").slice(0, SIGNATURE_LIMIT);
}
