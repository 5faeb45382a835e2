/**
 * `rbuild concourse render [task...] --image REF [--remote URL] [--out FILE]` writes the Buildfile's
 * graph (the named tasks and what they need, or every task) as a Concourse pipeline, and
 * `rbuild concourse validate FILE [--strict]` checks a pipeline file by Concourse's published rules
 * (see @rbuild/concourse); `rbuild concourse push` is concourse-push.ts's. Its words are parsed
 * here, as typed, so that the rest of the command line need not know them. Exit status: 0; 1 when validate finds errors (or, with --strict, warnings);
 * 2 for a usage or Buildfile error.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { parseArgs } from "node:util";
import { StrayErrors, writeFileAtomically } from "@rbuild/core";
import { formatErrors, formatWarnings, parsePipeline, renderPipeline, validatePipeline, type PipelineTask } from "@rbuild/concourse";
import { plan, type GraphTask } from "@rbuild/planner";
import { ExitCode, exitOnUnclaimed, reportSetupFailures } from "./exit.js";
import { keptPathProblem, keptPaths } from "./report-file.js";
import { openWorkspace } from "./workspace.js";

export interface ConcourseIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export const CONCOURSE_USAGE = `Usage: rbuild concourse render [task...] --image REF [--remote URL] [--out FILE] [-C DIR]
                                 a pipeline: a job per task (every task without names), each running
                                 \`rbuild run <task> --only\` in image REF against the remote cache URL
                                 (--remote or RBUILD_REMOTE_CACHE); to stdout without --out
       rbuild concourse validate FILE [--strict]
                                 check a pipeline by Concourse's rules: errors exit 1, warnings
                                 are printed (and exit 1 with --strict, as fly validate-pipeline)
       rbuild concourse push FILE --target URL --team T [--pipeline NAME]
                                 set the pipeline on the Concourse at URL and unpause it
                                 (\`rbuild concourse push --help\` for its flags)
`;

const OPTIONS = {
  image: { type: "string" },
  remote: { type: "string" },
  out: { type: "string" },
  directory: { type: "string", short: "C" },
  strict: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Runs `rbuild concourse <words>`; resolves to the exit status. */
export async function concourseCommand(words: readonly string[], io: ConcourseIo = processIo()): Promise<number> {
  // `push` has flags of its own (the target, the team, credentials): it parses them itself.
  if (words[0] === "push") return (await import("./concourse-push.js")).concoursePushCommand(words.slice(1), io);
  const usage = (message: string): number => {
    io.stderr.write(`rbuild: error: ${message}\n${CONCOURSE_USAGE}`);
    return ExitCode.Usage;
  };
  let parsed;
  try {
    parsed = parseArgs({ args: [...words], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    return usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [action, ...rest] = positionals;
  if (values.help === true) {
    io.stdout.write(CONCOURSE_USAGE);
    return ExitCode.Ok;
  }
  switch (action) {
    case "render": {
      if (values.strict === true) return usage("--strict goes with `rbuild concourse validate`.");
      const remote = values.remote ?? (io.env.RBUILD_REMOTE_CACHE === "" ? undefined : io.env.RBUILD_REMOTE_CACHE);
      if (values.image === undefined || values.image === "") {
        return usage("`rbuild concourse render` needs --image REF: the container image the jobs run in, with rbuild on its PATH (e.g. --image registry.example:5000/acme/ci:1).");
      }
      if (remote === undefined) {
        return usage("`rbuild concourse render` needs --remote URL (or RBUILD_REMOTE_CACHE): the cache every job takes its deps' outputs from, e.g. --remote https://cache.example:8080.");
      }
      if (!/^https?:\/\/[^/]/.test(remote) || !URL.canParse(remote)) return usage(`--remote must be an http:// or https:// URL that the Concourse workers can reach, got "${remote}".`);
      return render(rest, { image: values.image, remote, out: values.out, directory: values.directory }, io);
    }
    case "validate": {
      if (values.image !== undefined || values.remote !== undefined || values.out !== undefined) return usage("--image, --remote and --out go with `rbuild concourse render`.");
      if (rest.length !== 1) return usage("`rbuild concourse validate` takes one pipeline file, e.g. `rbuild concourse validate pipeline.yml`.");
      return validate(resolve(io.cwd, rest[0]!), values.strict === true, io);
    }
    case undefined:
      return usage("`rbuild concourse` takes `render`, `validate` or `push`.");
    default:
      return usage(`\`rbuild concourse ${action}\` is not a command; use \`render\`, \`validate\` or \`push\`.`);
  }
}

function processIo(): ConcourseIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

interface RenderFlags {
  readonly image: string;
  readonly remote: string;
  readonly out: string | undefined;
  readonly directory: string | undefined;
}

async function render(targets: readonly string[], flags: RenderFlags, io: ConcourseIo): Promise<number> {
  const out = flags.out === undefined ? undefined : resolve(io.cwd, flags.out);
  const kept = out === undefined ? undefined : keptPathProblem("--out", out, keptPaths(io.cwd, flags.directory, io.env));
  if (kept !== undefined) {
    reportSetupFailures([{ reason: "usage", message: kept }], io.cwd, io.stderr);
    return ExitCode.Usage;
  }
  const strays = new StrayErrors(exitOnUnclaimed);
  const workspace = await openWorkspace(flags.directory, io.env, { from: io.cwd, strays, writesCache: false });
  if (!workspace.ok) {
    reportSetupFailures(workspace.error, io.cwd, io.stderr);
    return ExitCode.Usage;
  }
  const { definitions } = workspace.value;
  const graph = plan(definitions, targets.length > 0 ? targets : [...definitions.tasks.keys()]);
  if (!graph.ok) {
    reportSetupFailures(graph.error, io.cwd, io.stderr);
    return ExitCode.Usage;
  }
  const dir = repositoryPath(workspace.value.root);
  const rendered = renderPipeline([...graph.value.tasks.values()].map(pipelineTask), { image: flags.image, remote: flags.remote, ...(dir === undefined ? {} : { dir }) }, graph.value.stages);
  if (!rendered.ok) {
    reportSetupFailures([{ reason: "usage", message: rendered.error }], io.cwd, io.stderr);
    return ExitCode.Usage;
  }
  if (out === undefined) {
    io.stdout.write(rendered.value.yaml);
    return ExitCode.Ok;
  }
  try {
    writeFileAtomically(out, rendered.value.yaml);
  } catch (error) {
    reportSetupFailures([{ reason: "usage", message: `--out ${out} cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); give a file in a directory you can write.` }], io.cwd, io.stderr);
    return ExitCode.Usage;
  }
  io.stdout.write(`rbuild: wrote ${flags.out}: ${rendered.value.config.jobs.length} jobs, valid by Concourse's rules; publish it with \`fly -t TARGET set-pipeline -p NAME -c ${flags.out}\`\n`);
  return ExitCode.Ok;
}

/**
 * Where `root` is in its git repository (the nearest directory at or above it with a `.git`), as the
 * job's path below the checkout; undefined when it is the repository's top or in none.
 */
function repositoryPath(root: string): string | undefined {
  for (let dir = root; ; dir = dirname(dir)) {
    if (existsSync(join(dir, ".git"))) return dir === root ? undefined : relative(dir, root).split(sep).join("/");
    if (dirname(dir) === dir) return undefined;
  }
}

function pipelineTask(task: GraphTask): PipelineTask {
  const pool = task.pool?.name;
  return {
    name: task.name,
    deps: task.deps,
    group: task.run === undefined,
    pure: task.pure,
    ...(pool === undefined ? {} : { pool }),
    ...(task.stage === undefined ? {} : { stage: task.stage }),
  };
}

function validate(file: string, strict: boolean, io: ConcourseIo): number {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    io.stderr.write(`rbuild: error: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).\n`);
    return ExitCode.Usage;
  }
  const parsed = parsePipeline(text);
  if (!parsed.ok) {
    io.stderr.write(`${parsed.error.map((problem) => `error: ${problem}`).join("\n")}\nconfiguration invalid\n`);
    return ExitCode.TaskFailed;
  }
  const result = validatePipeline(parsed.value, { strict });
  io.stderr.write(formatWarnings(result.warnings) + formatErrors(result.errors));
  if (result.errors.length > 0 || (strict && result.warnings.length > 0)) {
    io.stderr.write("configuration invalid\n");
    return ExitCode.TaskFailed;
  }
  io.stdout.write("looks good\n");
  return ExitCode.Ok;
}
