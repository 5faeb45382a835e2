/**
 * A frame of the terminal UI as ink elements (no JSX: plain createElement
 * calls, so no build step changes): the notes, printed once above (ink's
 * Static), and the live lines (tui-lines.ts), each cut at the terminal's width.
 */
import { Box, Static, Text } from "ink";
import { createElement as h, type ReactElement } from "react";

/** A frame: `notes` (new ones are printed above, once: ink's Static) and the live `lines`. */
export function tuiFrame(notes: readonly string[], lines: readonly string[]): ReactElement {
  return h(
    Box,
    { flexDirection: "column" },
    h(Static<string>, { items: [...notes], children: (note: string, i: number) => h(Text, { key: String(i) }, note) }),
    ...lines.map((text, i) => h(Text, { key: String(i), wrap: "truncate" }, text)),
  );
}

