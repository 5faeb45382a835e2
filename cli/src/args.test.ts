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
