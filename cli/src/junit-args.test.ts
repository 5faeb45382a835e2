import { expect, test } from "vitest";
import { parseCommandLine } from "./args.js";

const problem = (argv: string[]): unknown => {
  const parsed = parseCommandLine(argv);
  return parsed.ok ? "parsed" : parsed.error;
};

test("24.2: --junit takes a file name, goes with running tasks, and not with a dry run", () => {
  const parsed = parseCommandLine(["test", "--junit", "reports/rbuild.xml"]);
  expect(parsed.ok && parsed.value.junit).toBe("reports/rbuild.xml");
  expect(problem(["test", "--junit"])).toEqual({ reason: "usage", message: "--junit needs a file name; none was given." });
  expect(problem(["test", "--junit="])).toEqual({ reason: "usage", message: "--junit needs a file name." });
  expect(problem(["test", "--junit", "-k"])).toEqual({
    reason: "usage",
    message: '--junit needs a file name, got "-k", which looks like an option. For a value that starts with "-", write --junit=-k.',
  });
  expect(problem(["list", "--junit", "x.xml"])).toEqual({ reason: "usage", message: "--junit goes with running tasks, e.g. `rbuild test --junit reports/rbuild.xml`." });
  expect(problem(["test", "-n", "--junit", "x.xml"])).toEqual({
    reason: "usage",
    message: "--junit reports a build that ran; a dry run runs nothing. Use --summary FILE for what a dry run would do.",
  });
});
