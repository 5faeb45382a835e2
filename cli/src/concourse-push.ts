/**
 * `rbuild concourse push <pipeline-file> --target URL --team T [--pipeline NAME] [-v NAME=VALUE...]`:
 * publishes a pipeline over Concourse's REST API the way `fly set-pipeline` does (its `((vars))`
 * given with -v filled in; read the config version, save with it; a pipeline someone else saved
 * meanwhile is refused, not overwritten), then unpauses it (pipelines set through the API start paused). The credentials come from --username/--password
 * or CONCOURSE_USERNAME/CONCOURSE_PASSWORD and are never printed. Exit status: 0; 1 when Concourse
 * refuses or cannot be reached; 2 for a usage error.
 */
import { readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConcourseClient, interpolateVars, isValidIdentifier } from "@rbuild/concourse";
import { ExitCode } from "./exit.js";

export interface ConcoursePushIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export const CONCOURSE_PUSH_USAGE = `Usage: rbuild concourse push <pipeline-file> --target URL --team T [--pipeline NAME] [-v VAR=VALUE...]
                                 set the pipeline (NAME: the file's name without .yml) on the
                                 Concourse at URL and unpause it; log in with CONCOURSE_USERNAME and
                                 CONCOURSE_PASSWORD (or --username/--password, visible to ps);
                                 -v fills in ((VAR)), as fly set-pipeline -v (others are left
                                 for Concourse's credential manager)
`;

const OPTIONS = {
  target: { type: "string", short: "t" },
  team: { type: "string", short: "n" },
  pipeline: { type: "string", short: "p" },
  username: { type: "string", short: "u" },
  password: { type: "string" },
  var: { type: "string", short: "v", multiple: true },
  help: { type: "boolean", short: "h" },
} as const;

interface PushArgs {
  readonly file: string;
  readonly url: string;
  readonly team: string;
  readonly pipeline: string;
  readonly username: string;
  readonly password: string;
  readonly vars: Record<string, string>;
}

function parse(words: readonly string[], io: ConcoursePushIo): PushArgs | string {
  let parsed;
  try {
    parsed = parseArgs({ args: [...words], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // node's message quotes the flag, never its value; a stray --password value is not echoed.
    return (error as Error).message;
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return "`rbuild concourse push` takes one pipeline file, e.g. `rbuild concourse push pipeline.yml --target https://ci.example --team main`.";
  const file = resolve(io.cwd, positionals[0]!);
  if (values.target === undefined || values.target === "") return "`rbuild concourse push` needs --target URL: the Concourse's address, e.g. --target https://ci.example.";
  if (!/^https?:\/\/[^/]/.test(values.target) || !URL.canParse(values.target)) return `--target must be an http:// or https:// URL, got "${values.target}".`;
  if (values.team === undefined || values.team === "") return "`rbuild concourse push` needs --team T: the Concourse team the pipeline belongs to (often `main`).";
  const username = values.username ?? io.env.CONCOURSE_USERNAME ?? "";
  const password = values.password ?? io.env.CONCOURSE_PASSWORD ?? "";
  if (username === "") return "`rbuild concourse push` needs a user to log in as: set CONCOURSE_USERNAME (or pass --username).";
  if (password === "") return `\`rbuild concourse push\` needs the password of "${username}": set CONCOURSE_PASSWORD (or pass --password, which other users can see in ps).`;
  const pipeline = values.pipeline ?? basename(file).replace(/\.(ya?ml|json)$/i, "");
  if (pipeline === "") return "--pipeline needs a name.";
  if (values.pipeline === undefined && !isValidIdentifier(pipeline)) {
    return `The pipeline would be named "${pipeline}" after its file, which is not a valid Concourse name (lowercase letters, digits, -, _ and .); pass --pipeline NAME.`;
  }
  const vars: Record<string, string> = {};
  for (const assignment of values.var ?? []) {
    const equals = assignment.indexOf("=");
    if (equals <= 0) return `-v takes VAR=VALUE, e.g. -v source-branch=main; got "${assignment.split("=")[0]}".`;
    vars[assignment.slice(0, equals)] = assignment.slice(equals + 1);
  }
  return { file, url: values.target, team: values.team, pipeline, username, password, vars };
}

/** Runs `rbuild concourse push <words>` (what followed `push`); resolves to the exit status. */
export async function concoursePushCommand(words: readonly string[], io: ConcoursePushIo = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() }): Promise<number> {
  if (words.includes("-h") || words.includes("--help")) {
    io.stdout.write(CONCOURSE_PUSH_USAGE);
    return ExitCode.Ok;
  }
  const args = parse(words, io);
  if (typeof args === "string") {
    io.stderr.write(`rbuild: error: ${args}\n${CONCOURSE_PUSH_USAGE}`);
    return ExitCode.Usage;
  }
  let config: string;
  try {
    config = readFileSync(args.file, "utf8");
  } catch (error) {
    io.stderr.write(`rbuild: error: cannot read the pipeline file ${args.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`);
    return ExitCode.Usage;
  }
  const evaluated = interpolateVars(config, args.vars);
  if (!evaluated.ok) {
    io.stderr.write(`rbuild: error: cannot fill in the -v vars of ${args.file}: ${evaluated.error}\n`);
    return ExitCode.Usage;
  }
  const client = new ConcourseClient({ url: args.url, team: args.team, username: args.username, password: args.password });
  try {
    const set = await client.setPipeline(args.pipeline, evaluated.value);
    if (!set.ok) return fail(io, set.error.message);
    for (const warning of set.value.warnings) io.stderr.write(`rbuild: warning: Concourse: ${warning.message}\n`);
    const where = `team "${args.team}" at ${args.url.replace(/\/+$/, "")}`;
    io.stdout.write(`${set.value.created ? "created" : "updated"} pipeline "${args.pipeline}" in ${where}\n`);
    const unpaused = await client.unpause(args.pipeline);
    if (!unpaused.ok) return fail(io, `${unpaused.error.message} The pipeline was set but is still paused.`);
    io.stdout.write(`unpaused: ${args.url.replace(/\/+$/, "")}/teams/${encodeURIComponent(args.team)}/pipelines/${encodeURIComponent(args.pipeline)}\n`);
    return ExitCode.Ok;
  } finally {
    await client.close();
  }
}

function fail(io: ConcoursePushIo, message: string): number {
  io.stderr.write(`rbuild: error: ${message}\n`);
  return ExitCode.TaskFailed;
}
