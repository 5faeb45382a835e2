import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { expect, test } from "vitest";
import { NARROW, narrowWidth } from "./narrow-width.js";

// The copies of string-width that ink's tree measures with (the bundle wraps each of their imports in narrowWidth).
const require = createRequire(import.meta.url);
const inkDir = require.resolve("ink").replace(/[\\/]build[\\/]index\.js$/, "");
const copies = [inkDir, ...["widest-line", "cli-truncate", "wrap-ansi"].map((name) => `${inkDir}/../${name}`)].map((dir) => `${dir}/node_modules/string-width/index.js`);

const texts = [
  "",
  "▸ app:build  12s",
  "\x1b[1m▸\x1b[0m p12  \x1b[2m0s\x1b[0m",
  `\x1b[32m${"█".repeat(10)}\x1b[0m\x1b[36m${"▒".repeat(5)}\x1b[0m\x1b[2m${"░".repeat(15)}\x1b[0m 12/40 · 7 ran · 5 cached · \x1b[31m1 failed\x1b[0m · ETA 8s`,
  "\x1b[2m  │ compiling 1 of 9 …\x1b[0m",
  "✗ broken failed (its output follows at the end) ✓ ─",
  `rbuild: ${NARROW} ~!@#$%^&*()_+{}|:"<>?[];',./\\\``,
];

test("24.6: narrowWidth answers plain text (ASCII, the live area's symbols, colour codes) exactly as every string-width copy in ink's tree does", async () => {
  for (const copy of copies) {
    const { default: stringWidth } = (await import(pathToFileURL(copy).href)) as { default: (text: string) => number };
    expect(texts.map((text) => narrowWidth(text))).toEqual(texts.map((text) => stringWidth(text)));
  }
});

test("24.6: narrowWidth leaves to string-width whatever it does not answer exactly: wide and combining characters, emoji, tabs and other control codes, escapes other than colours, options", () => {
  const others = ["日本語", "e\u0301", "👍", "ok ✅", "a\tb", "a\x1b[2Kb", "a\x9b31mb", "\x1b]8;;http://x\x07link\x1b]8;;\x07", "\u00ad", "\ud83d"];
  expect(others.map((text) => narrowWidth(text))).toEqual(others.map(() => undefined));
  expect(narrowWidth("abc", { ambiguousIsNarrow: false })).toBe(undefined);
  expect(narrowWidth(42)).toBe(undefined);
});
