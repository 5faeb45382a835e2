import { expect, test } from "vitest";
import { outputMode } from "./output-mode.js";
import type { Terminal } from "./terminal.js";

/** A terminal of `size` (undefined: stdout is not one) with `env`, keeping what is written to stderr. */
function terminal(size: { columns: number; rows: number } | undefined, env: Record<string, string> = {}): Terminal & { said: string } {
  const said = { said: "" };
  return Object.assign(said, {
    stdout: { write: () => true },
    stderr: { write: (text: string) => (said.said += text) },
    stdoutIsTTY: size !== undefined,
    size: () => size,
    env,
    cwd: "/",
    onInterrupt: () => () => {},
  });
}

test("24.1: the TUI is the default on a terminal with CI unset; plain in CI, without a terminal, with TERM=dumb or on a small terminal", () => {
  const big = { columns: 80, rows: 24 };
  const cases: [string, Terminal][] = [
    ["terminal", terminal(big)],
    ["CI", terminal(big, { CI: "true" })],
    ["CI_ variable", terminal(big, { CI_JOB_ID: "4" })],
    ["CI=0", terminal(big, { CI: "0" })],
    ["pipe", terminal(undefined)],
    ["dumb", terminal(big, { TERM: "dumb" })],
    ["narrow", terminal({ columns: 39, rows: 24 })],
    ["short", terminal({ columns: 80, rows: 7 })],
    ["smallest", terminal({ columns: 40, rows: 8 })],
  ];
  expect(Object.fromEntries(cases.map(([name, t]) => [name, outputMode(undefined, t)]))).toEqual({
    terminal: "tui",
    CI: "plain",
    "CI_ variable": "plain",
    "CI=0": "tui",
    pipe: "plain",
    dumb: "plain",
    narrow: "plain",
    short: "plain",
    smallest: "tui",
  });
});

test("24.1: --output tui where it cannot be drawn falls back to plain and says why; --output plain and json are kept", () => {
  const dumb = terminal({ columns: 80, rows: 24 }, { TERM: "dumb" });
  expect(outputMode("tui", dumb)).toBe("plain");
  expect(dumb.said).toBe("rbuild: --output tui: TERM is dumb; plain output instead.\n");
  const small = terminal({ columns: 30, rows: 6 });
  expect(outputMode("tui", small)).toBe("plain");
  expect(small.said).toBe("rbuild: --output tui: the terminal is 30x6, smaller than 40x8; plain output instead.\n");
  const pipe = terminal(undefined);
  expect([outputMode("tui", pipe), outputMode("plain", terminal({ columns: 80, rows: 24 })), outputMode("json", terminal({ columns: 80, rows: 24 }))]).toEqual(["plain", "plain", "json"]);
  expect(pipe.said).toBe("rbuild: --output tui: stdout is not a terminal; plain output instead.\n");
});
