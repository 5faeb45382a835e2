/**
 * The command line. `rbuild <task...>` runs tasks; a first word that names a
 * subcommand selects it instead, and `rbuild run <task...>` runs tasks whose
 * names clash with a subcommand. Flags may stand anywhere.
 */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { err, ok, type Result, type SetupFailure } from "@rbuild/core";

export const SUBCOMMANDS = ["run", "list", "help"] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];

export type OutputMode = "plain" | "json";

export interface Args {
  readonly command: Subcommand | "version";
  readonly targets: readonly string[];
  readonly jobs: number;
  readonly keepGoing: boolean;
  readonly summary: string | undefined;
  readonly output: OutputMode;
  readonly directory: string | undefined;
}

export const USAGE = `Usage: rbuild [options] <task...>       run tasks and what they depend on
       rbuild run [options] <task...>   the same, for task names that clash with a subcommand
       rbuild list                      show every task and its deps

Options:
  -j, --jobs N          run at most N tasks at once (default: number of cores)
  -k, --keep-going      after a failure, keep running everything not downstream of it
      --summary FILE    write a JSON summary of the run to FILE
      --output MODE     plain (default) or json (one event per line)
  -C, --directory DIR   act as if rbuild started in DIR
  -h, --help            show this help
  -V, --version         show rbuild's version

Exit status: 0 ok, 1 a task failed, 2 usage or Buildfile error, 130 interrupted.
`;

const OPTIONS = {
  jobs: { type: "string", short: "j" },
  "keep-going": { type: "boolean", short: "k" },
  summary: { type: "string" },
  output: { type: "string" },
  directory: { type: "string", short: "C" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

function usage(message: string): { ok: false; error: SetupFailure } {
  return err({ reason: "usage", message });
}

export function parseCommandLine(argv: readonly string[]): Result<Args, SetupFailure> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs explains unknown flags and missing values well; keep its words.
    return usage((error as Error).message);
  }
  const { values, positionals } = parsed;

  let jobs = availableParallelism();
  if (values.jobs !== undefined) {
    if (!/^[1-9]\d*$/.test(values.jobs)) return usage(`-j/--jobs needs a positive whole number, got "${values.jobs}".`);
    jobs = Number(values.jobs);
  }
  const output = values.output ?? "plain";
  if (output !== "plain" && output !== "json") return usage(`--output must be "plain" or "json", got "${output}".`);
  if (values.summary === "") return usage("--summary needs a file name.");

  const first = positionals[0];
  const isSubcommand = (SUBCOMMANDS as readonly string[]).includes(first ?? "");
  const command: Args["command"] = values.version === true ? "version" : values.help === true ? "help" : isSubcommand ? (first as Subcommand) : "run";
  const targets = isSubcommand ? positionals.slice(1) : positionals;
  if (command === "list" && targets.length > 0) return usage(`\`rbuild list\` takes no task names; to run a task named "list", use \`rbuild run list\`.`);

  return ok({
    command,
    targets,
    jobs,
    keepGoing: values["keep-going"] === true,
    summary: values.summary,
    output,
    directory: values.directory,
  });
}
