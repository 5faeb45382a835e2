/** The `rbuild` command: parse the command line and dispatch. Wiring only. */
import { readFileSync } from "node:fs";
import { unreachable } from "@rbuild/core";
import { parseCommandLine, USAGE } from "./args.js";
import { ExitCode, reportSetupFailures } from "./exit.js";
import { restoreExtraCaCerts } from "./extra-ca-certs.js";

function version(): string {
  // dist/main.js and dist/rbuild.mjs both sit one level below package.json.
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/** Runs rbuild with `argv` (without node and the script); resolves to the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  restoreExtraCaCerts(process.env);
  const args = parseCommandLine(argv, process.env);
  if (!args.ok) {
    reportSetupFailures([args.error], process.cwd());
    return ExitCode.Usage;
  }
  switch (args.value.command) {
    case "help":
      process.stdout.write(USAGE);
      return ExitCode.Ok;
    case "version":
      process.stdout.write(`rbuild ${version()}\n`);
      return ExitCode.Ok;
    case "list":
      return (await import("./list-command.js")).listCommand(args.value);
    case "run":
      return (await import("./run-command.js")).runCommand(args.value);
    case "why":
      return (await import("./why-command.js")).whyCommand(args.value);
    case "cache":
      return (await import("./cache-command.js")).cacheCommand(args.value);
    case "clean":
      return (await import("./clean-command.js")).cleanCommand(args.value);
    default:
      return unreachable(args.value.command);
  }
}
