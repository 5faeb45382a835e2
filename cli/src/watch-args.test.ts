import { expect, test } from "vitest";
import { parseCommandLine } from "./args.js";

const parsed = (argv: string[]) => {
  const result = parseCommandLine(argv);
  if (!result.ok) throw new Error(JSON.stringify(result.error));
  return result.value;
};
const problem = (argv: string[]): unknown => {
  const result = parseCommandLine(argv);
  return result.ok ? "parsed" : result.error;
};

test("24.3: `rbuild watch` takes a build's targets and flags; -n, --summary and --junit, which describe one build, are refused", () => {
  const args = parsed(["watch", "test", "lint", "-j", "3", "-k", "-f", "--filter", "app...", "--since", "main", "--output", "json"]);
  expect(args).toMatchObject({ command: "watch", targets: ["test", "lint"], jobs: 3, keepGoing: true, force: true, filters: ["app..."], since: "main", output: "json" });
  expect(problem(["watch", "test", "-n"])).toEqual({ reason: "usage", message: "-n/--dry-run goes with one build, e.g. `rbuild build --dry-run`, not with `rbuild watch`." });
  expect(problem(["watch", "test", "--summary", "s.json"])).toEqual({ reason: "usage", message: "--summary goes with one build, e.g. `rbuild build --summary`, not with `rbuild watch`." });
  expect(problem(["watch", "test", "--junit", "j.xml"])).toEqual({ reason: "usage", message: "--junit goes with one build, e.g. `rbuild build --junit`, not with `rbuild watch`." });
  // A task named "watch" is run as any task whose name is a subcommand's.
  expect(parsed(["run", "watch"])).toMatchObject({ command: "run", targets: ["watch"] });
});
