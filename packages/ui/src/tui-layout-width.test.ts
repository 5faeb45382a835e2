// First, before ink is loaded: see the module.
import "./test-support/outside-ci.js";
import { renderToString } from "ink";
import { expect, test } from "vitest";
import { InkPainter, layoutColumns } from "./tui-painter.js";
import { tuiFrame } from "./tui-view.js";

const bar = `\x1b[32m${"█".repeat(10)}\x1b[0m\x1b[36m${"▒".repeat(5)}\x1b[0m\x1b[2m${"░".repeat(15)}\x1b[0m 12/40 · 7 ran · 5 cached · ETA 8s`;

test("24.6: ink lays a frame out only as wide as its widest text may need: 1 column for ASCII and the TUI's symbols, 2 for anything that may be wide, the terminal's width at most", () => {
  expect(layoutColumns(120, ["\x1b[1m▸\x1b[0m p12  \x1b[2m0s\x1b[0m", bar])).toBe(30 + " 12/40 · 7 ran · 5 cached · ETA 8s".length);
  expect(layoutColumns(120, ["▸ 日本語  3s", "ab"])).toBe(2 + 6 + 4);
  expect(layoutColumns(120, ["👍 ok"])).toBe(2 + 3);
  expect(layoutColumns(40, ["short", "x".repeat(41)])).toBe(40);
  expect(layoutColumns(40, [])).toBe(1);
});

test("24.6: a frame laid out narrower than the terminal is drawn as at the terminal's width: wide characters, emoji, colours, a note and a long line cut where the terminal cuts them", () => {
  const notes = ["rbuild: the remote cache is off for this build"];
  const lines = ["\x1b[1m▸\x1b[0m 日本語のタスク  \x1b[2m3s\x1b[0m", "\x1b[2m  │ 👍 done ✅\x1b[0m", `\x1b[2m  │ ${"x".repeat(80)}\x1b[0m`, bar];
  for (const columns of [120, 50]) {
    let written = "";
    const painter = new InkPainter((text) => (written += text));
    painter.frame({ columns, rows: 24, notes, lines, resized: false });
    const expected = renderToString(tuiFrame(notes, lines), { columns });
    expect(written.replace(/\x1b\[\?(2026[hl]|25[hl])/g, "")).toBe(`${expected}\n`);
  }
  // What the terminal shows at 50 columns: the long lines cut there, nothing else cut.
  const shown = renderToString(tuiFrame(notes, lines), { columns: 50 }).replace(/\x1b\[[0-9;]*m/g, "");
  expect(shown).toBe(
    [
      "rbuild: the remote cache is off for this build",
      "▸ 日本語のタスク  3s",
      "  │ 👍 done ✅",
      `  │ ${"x".repeat(45)}…`,
      `${"█".repeat(10)}${"▒".repeat(5)}${"░".repeat(15)} 12/40 · 7 ran · 5 …`,
    ].join("\n"),
  );
});
