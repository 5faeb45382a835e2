/**
 * The width of the text the TUI draws, when it is plain: printable ASCII and
 * the few symbols the live area uses (NARROW), with or without colour codes.
 * The bundled CLI gives ink this before the string-width package (see
 * cli/scripts/bundle.mjs): that package builds Unicode-property regular
 * expressions (`^\p{RGI_Emoji}$` among them) and an Intl.Segmenter as it
 * loads and on its first non-ASCII call, some 60-100 ms of CPU on the TUI's
 * thread for every copy of it in ink's tree (three). For any other text this
 * answers `undefined` and the real string-width measures it (loaded then), so
 * the widths are always string-width's; narrow-width.test.ts holds the two
 * equal on NARROW.
 */

/** Symbols the live area and its notes draw, one column each (as string-width counts them). */
export const NARROW = "▸│…█▒░·✗✓─";

const narrow = new Set([...NARROW].map((c) => c.charCodeAt(0)));

/** Colour codes (SGR), the only escapes answered here: strip-ansi takes them out whole. */
const SGR = /\x1b\[[0-9;]*m/g;

/** The columns `text` takes, or undefined when that needs string-width itself. Options other than none go there too. */
export function narrowWidth(text: unknown, options?: unknown): number | undefined {
  if (typeof text !== "string" || options !== undefined) return undefined;
  const plain = text.includes("\x1b") ? text.replace(SGR, "") : text;
  for (let i = 0; i < plain.length; i++) {
    const code = plain.charCodeAt(i);
    if ((code < 0x20 || code > 0x7e) && !narrow.has(code)) return undefined;
  }
  return plain.length;
}
