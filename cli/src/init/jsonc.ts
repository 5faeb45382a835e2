/**
 * JSON with comments, as turbo reads turbo.json: `//` and `/* *\/` comments and
 * trailing commas are allowed. They are blanked out (strings left alone, line
 * breaks kept so JSON.parse's positions still hold) and the rest is JSON.
 */

/** The end (exclusive) of the JSON string that starts at `start` (a `"`). */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
  return i + 1;
}

/** `text` with `other` applied to each run of it outside strings; strings are kept as they are. */
function outsideStrings(text: string, other: (run: string) => string): string {
  let out = "";
  let start = 0;
  for (let quote = text.indexOf('"'); quote !== -1; quote = text.indexOf('"', start)) {
    const end = stringEnd(text, quote);
    out += other(text.slice(start, quote)) + text.slice(quote, end);
    start = end;
  }
  return out + other(text.slice(start));
}

/** Parses JSONC text; throws JSON.parse's SyntaxError for anything else wrong. */
export function parseJsonc(text: string): unknown {
  // A comment may hold a quote, so comments go first, in one scan that steps over strings.
  let uncommented = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      const end = stringEnd(text, i);
      uncommented += text.slice(i, end);
      i = end;
    } else if (c === "/" && (text[i + 1] === "/" || text[i + 1] === "*")) {
      const end = text[i + 1] === "/" ? text.indexOf("\n", i) : text.indexOf("*/", i + 2);
      const stop = end === -1 ? text.length : text[i + 1] === "/" ? end : end + 2;
      uncommented += text.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop;
    } else {
      uncommented += c;
      i++;
    }
  }
  // A comma followed (past blanks) by a closing bracket is a trailing comma. A comma before a string
  // is never one, so each run between strings can be looked at alone.
  return JSON.parse(outsideStrings(uncommented, (run) => run.replace(/,(\s*[}\]])/g, " $1")));
}
