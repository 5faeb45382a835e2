import { expect, test } from "vitest";
import { parseCommandLine } from "./args.js";

const problem = (argv: string[]): unknown => {
  const parsed = parseCommandLine(argv);
  return parsed.ok ? "parsed" : parsed.error;
};

test("20.J: an option's value that starts with '-' or is missing gets rbuild's message, naming the flag and what it expects", () => {
  expect(problem(["-j", "-3", "build"])).toEqual({ reason: "usage", message: '-j/--jobs needs a positive whole number, got "-3".' });
  expect(problem(["--jobs", "-3", "build"])).toEqual({ reason: "usage", message: '-j/--jobs needs a positive whole number, got "-3".' });
  expect(problem(["build", "--summary"])).toEqual({ reason: "usage", message: "--summary needs a file name; none was given." });
  expect(problem(["build", "-j"])).toEqual({ reason: "usage", message: "-j/--jobs needs a positive whole number; none was given." });
  expect(problem(["build", "--summary", "-k"])).toEqual({
    reason: "usage",
    message: '--summary needs a file name, got "-k", which looks like an option. For a value that starts with "-", write --summary=-k.',
  });
  expect(problem(["--output", "--force", "build"])).toEqual({ reason: "usage", message: '--output must be "tui", "plain" or "json", got "--force".' });
});

test("24.4/24.5: --since is a git ref for a run or graph and a date for `rbuild errors`, and goes with nothing else", () => {
  const parsed = (argv: string[]) => {
    const result = parseCommandLine(argv);
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    return result.value;
  };
  expect(parsed(["test", "--since", "main"]).since).toBe("main");
  expect(parsed(["graph", "--since", "main"]).since).toBe("main");
  const errors = parsed(["errors", "--since", "3d"]);
  expect([errors.since, errors.history.since]).toEqual([undefined, "3d"]);
  expect(problem(["errors", "--since", "main"])).toMatchObject({ reason: "usage", message: expect.stringMatching(/^--since needs /) });
  expect(problem(["history", "--since", "main"])).toEqual({
    reason: "usage",
    message: "--since goes with running tasks, e.g. `rbuild test --since main`, with `rbuild graph`, and as a date with `rbuild errors`.",
  });
});

test("23.rt2: the flags of a build are refused by the commands that run nothing, naming the command", () => {
  expect(problem(["graph", "-f"])).toEqual({ reason: "usage", message: "-f/--force goes with running tasks, e.g. `rbuild build --force`, not with `rbuild graph`." });
  expect(problem(["graph", "--dry-run"])).toEqual({ reason: "usage", message: "-n/--dry-run goes with running tasks, e.g. `rbuild build --dry-run`, not with `rbuild graph`." });
  expect(problem(["list", "--summary", "s.json"])).toEqual({ reason: "usage", message: "--summary goes with running tasks, e.g. `rbuild build --summary`, not with `rbuild list`." });
  expect(problem(["build", "-f", "-k", "--summary", "s.json"])).toBe("parsed");
});
