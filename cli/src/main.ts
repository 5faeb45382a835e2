/** The `rbuild` command: parse the command line and dispatch. Wiring only. */
import { readFileSync } from "node:fs";
import { StrayErrors, unreachable } from "@rbuild/core";
import { parseCommandLine, USAGE } from "./args.js";
import { ExitCode, exitOnUnclaimed, reportSetupFailures } from "./exit.js";

function version(): string {
  // dist/main.js and dist/rbuild.mjs both sit one level below package.json.
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/** Runs rbuild with `argv` (without node and the script); resolves to the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  // The pool boy for Concourse pool repositories parses its own flags (see pool-git-command.ts).
  if (argv[0] === "pool" && argv.some((arg) => arg === "--git" || arg.startsWith("--git="))) {
    return (await import("./pool-git-command.js")).poolGitCommand(argv.slice(1));
  }
  // Concourse pipelines (render, validate) parse their own words too (see concourse-command.ts).
  if (argv[0] === "concourse") return (await import("./concourse-command.js")).concourseCommand(argv.slice(1));
  const args = parseCommandLine(argv, process.env);
  if (!args.ok) {
    reportSetupFailures([args.error], process.cwd());
    return ExitCode.Usage;
  }
  // Errors the Buildfile or a task function throws from a timer or an unawaited promise fail
  // that load or that task instead of the whole process (see StrayErrors).
  const strays = new StrayErrors(exitOnUnclaimed);
  switch (args.value.command) {
    case "help":
      process.stdout.write(USAGE);
      return ExitCode.Ok;
    case "version":
      process.stdout.write(`rbuild ${version()}\n`);
      return ExitCode.Ok;
    case "watch":
      return (await import("./watch-command.js")).watchCommand(args.value, strays);
    case "list":
      return (await import("./list-command.js")).listCommand(args.value, strays);
    case "run":
      return (await import("./run-command.js")).runCommand(args.value, strays);
    case "why":
      return (await import("./why-command.js")).whyCommand(args.value, strays);
    case "graph":
      return (await import("./graph-command.js")).graphCommand(args.value, strays);
    case "history":
      return (await import("./history-command.js")).historyCommand(args.value, { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env, strays });
    case "errors":
      return (await import("./errors-command.js")).errorsCommand(args.value, { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env, strays });
    case "show":
      return (await import("./show-command.js")).showCommand(args.value, { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env, strays });
    case "export":
      return (await import("./export-command.js")).exportCommand(args.value, strays);
    case "cache":
      return (await import("./cache-command.js")).cacheCommand(args.value, strays);
    case "clean":
      return (await import("./clean-command.js")).cleanCommand(args.value, strays);
    case "init":
      return (await import("./init-command.js")).initCommand(args.value);
    case "pool":
      return (await import("./pool-command.js")).poolCommand(args.value);
    default:
      return unreachable(args.value.command);
  }
}
