/**
 * The command line. `rbuild <task...>` runs tasks; a first word that names a
 * subcommand selects it instead, and `rbuild run <task...>` runs tasks whose
 * names clash with a subcommand. Flags may stand anywhere.
 */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { err, ok, parseSize, type Result, type SetupFailure } from "@rbuild/core";
import { suggest } from "@rbuild/planner";
import { OUTPUT_LOGS, type OutputLogs } from "@rbuild/ui";
import { parseSince, SINCE_EXPECTS } from "./since-date.js";

export const SUBCOMMANDS = ["run", "watch", "list", "why", "graph", "history", "errors", "show", "export", "cache", "clean", "init", "pool", "help"] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];

export type OutputMode = "tui" | "plain" | "json";
export const OUTPUT_MODES: readonly OutputMode[] = ["tui", "plain", "json"];

export const GRAPH_FORMATS = ["text", "json", "dot", "mermaid", "html"] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

export interface Args {
  readonly command: Subcommand | "version";
  /** Task names, or for `cache` its action (`stats`, `gc`). */
  readonly targets: readonly string[];
  readonly jobs: number;
  readonly keepGoing: boolean;
  /** When a failed build runs its tasks' undos: `--no-undo` (never), `--undo-on-interrupt` (after Ctrl-C too). */
  readonly undo: "failure" | "failure-or-interrupt" | "never";
  readonly force: boolean;
  /** `--sandbox`: every pure task without a `runner` of its own runs in the sandbox (bubblewrap). */
  readonly sandbox: boolean;
  readonly dryRun: boolean;
  /** `--filter` patterns: build only the targets' tasks of these workspace packages (see @rbuild/workspaces). */
  readonly filters: readonly string[];
  /** `--since REF`: build only the targets' tasks whose inputs changed since REF, and their dependents (see since.ts). */
  readonly since: string | undefined;
  readonly summary: string | undefined;
  /** `--junit FILE`: a JUnit XML report of the run. */
  readonly junit: string | undefined;
  /** `--output`; undefined: chosen from the terminal (see output-mode.ts). */
  readonly output: OutputMode | undefined;
  /** Which task output the plain reporter shows (see OutputLogs). */
  readonly outputLogs: OutputLogs;
  readonly directory: string | undefined;
  readonly maxSize: number | undefined;
  readonly maxAgeDays: number | undefined;
  readonly cleanCache: boolean;
  /** The remote cache's base URL (`--remote` or RBUILD_REMOTE_CACHE). */
  readonly remote: string | undefined;
  readonly token: string | undefined;
  readonly remoteReadOnly: boolean;
  /** `--only`: run the targets alone, their deps taken from the cache (local or remote), never run. */
  readonly only: boolean;
  /** `--no-retries`: each task runs once, whatever its `retries` (a caller that retries it itself: a Concourse step). */
  readonly noRetries: boolean;
  /** `--executor concourse`: cache misses run as Concourse one-off builds (see @rbuild/concourse's ConcourseRunner). */
  readonly executor: ConcourseExecutor | undefined;
  /** `rbuild graph`'s flags: --format, --out, --check. */
  readonly graph: { readonly format: GraphFormat; readonly out: string | undefined; readonly check: boolean };
  /** The flags of `rbuild history`, `errors` and `show` (see history-command.ts and its siblings). */
  readonly history: HistoryFlags;
  /**
   * `--stub TASK[=COMMAND]`: impure tasks to run COMMAND instead of their own
   * `run` (null: a no-op that succeeds), by name, for this build only (see stubTasks).
   */
  readonly stubs: ReadonlyMap<string, string | null>;
}

/** Where `--executor concourse` runs misses, and as whom (the credentials are never printed). */
export interface ConcourseExecutor {
  readonly url: string;
  readonly team: string;
  readonly image: string;
  readonly username: string;
  readonly password: string;
}

export interface HistoryFlags {
  /** `--task`: one task's runs (history), or failures (errors). */
  readonly task: string | undefined;
  /** `--limit`: how many builds or runs `history` shows. */
  readonly limit: number;
  readonly json: boolean;
  /** `--since`, as given (see since-date.ts; checked here, resolved by the command). */
  readonly since: string | undefined;
  /** `--extract DIR` of `show`. */
  readonly extract: string | undefined;
  /** `--run N` of `show` and `export`: N runs older than the newest. */
  readonly run: number;
  /** `--oci DIR` of `export`. */
  readonly oci: string | undefined;
}

/** How many builds or runs `rbuild history` shows without --limit. */
export const HISTORY_LIMIT = 20;

export const USAGE = `Usage: rbuild [options] <task...>       run tasks and what they depend on
       rbuild run [options] <task...>   the same, for task names that clash with a subcommand
       rbuild watch [options] <task...> run tasks, then again on each change to their
                                        inputs or the Buildfile, until Ctrl-C (in this
                                        process, never the daemon); options as for a run
       rbuild list                      show every task and its deps
       rbuild why <task>                why a task would run now, or why it ran last time
       rbuild graph [task...] [--format F] [--out FILE] [--check]
                                        the DAG (default: every task; -F as for a run)
                                        and hints that say what to change; F: text
                                        (default), json, dot, mermaid or html;
                                        --check: exit 1 on an error hint
       rbuild history [--task T] [--limit N] [--json]
                                        the last builds, or one task's runs, newest first
       rbuild errors [--task T] [--since WHEN] [--json]
                                        failures, a repeated one counted once, with its
                                        last log; WHEN: 2026-12-01, 2026-12-01T09:30, 3d
       rbuild show <task> [--run N] [--extract DIR] [--json]
                                        a task's last run (or N runs before): key, reasons,
                                        outputs and log; --extract writes its outputs to DIR
       rbuild export <task> --oci DIR [--run N]
                                        write a task's stored outputs (its layer stack) to
                                        DIR as an OCI image layout (skopeo, podman load)
       rbuild cache stats               entries, size and hit rate of the local cache
       rbuild cache gc [--max-size SIZE] [--max-age DAYS]
                                        drop least recently used cache entries
       rbuild clean [--cache]           remove every task's declared outputs (and the cache)
       rbuild init                      write a Buildfile.ts for this npm, pnpm or yarn
                                        workspace, from its turbo.json or its scripts
       rbuild pool status [--json]      the holders of shared pools' leases on --remote
       rbuild pool release <pool> <holder>
                                        free a lease by hand (a holder from \`pool status\`)
       rbuild pool status --git REPO --pools NAME:MIN,... [--branch B] [--json]
                                        the locks of a Concourse pool-resource git repo:
                                        unclaimed, or claimed (age, build), stale past MIN
       rbuild pool clean --git REPO --pools NAME:MIN,... [--branch B] [-n]
                                        move each stale claim back to unclaimed/, a
                                        commit each, and push (-n: say what it would do)
       rbuild concourse render [task...] --image REF [--remote URL] [--out FILE]
                                        a Concourse pipeline: a job per task, each running
                                        \`rbuild run <task> --only\` against the remote cache
       rbuild concourse validate FILE [--strict]
                                        check a pipeline by Concourse's validation rules
       rbuild concourse push FILE --target URL --team T [--pipeline NAME]
                                        set the pipeline on a Concourse and unpause it (log
                                        in with CONCOURSE_USERNAME/CONCOURSE_PASSWORD)

Options:
  -j, --jobs N          run at most N tasks at once (default: number of cores)
  -k, --keep-going      after a failure, keep running everything not downstream of it
      --no-undo         after a failure, do not run the undo of the impure tasks
                        that succeeded (by default they run, dependents first)
      --undo-on-interrupt  run those undos after Ctrl-C too (by default not)
  -f, --force           run every task, ignoring cached results
  -n, --dry-run         show what would run and why, run nothing
      --sandbox         run every pure task in a sandbox (bubblewrap) holding
                        only its declared inputs and its deps' outputs, with
                        no network: an undeclared read or write fails it
  -F, --filter PATTERN  only the tasks of these workspace packages (and what they
                        need): a name or glob, ./dir, pkg... (with its deps),
                        ...pkg (with its dependents), !pattern; may repeat
      --since REF       only the tasks whose input files changed since the git
                        REF (from where it meets HEAD: committed, staged,
                        unstaged and untracked), what depends on them, and
                        what they need; with a run, -n or \`rbuild graph\`
      --remote URL      share results through a remote cache (or RBUILD_REMOTE_CACHE)
      --token TOKEN     bearer token for the remote cache (or RBUILD_TOKEN)
      --remote-read-only  use remote hits, never upload (for untrusted jobs)
      --only            run the named tasks alone: what they need is taken from the
                        cache (local or remote) and never run; a dep not there is
                        an error that names it (Concourse jobs run tasks this way)
      --no-retries      run each task once, whatever its \`retries\`: for a caller that
                        retries it itself (a build that runs it on Concourse)
      --stub TASK[=CMD] run CMD (or nothing) in place of the impure TASK's own
                        run, for this build: nothing of it is cached, and it
                        is reported as stubbed; may repeat
      --executor concourse  run cache misses as one-off builds on the Concourse at
                        --target URL, team --team T, in image --image REF (with
                        rbuild installed), logged in with CONCOURSE_USERNAME and
                        CONCOURSE_PASSWORD (or --username/--password); needs --remote:
                        results come back through the remote cache
      --summary FILE    write a JSON summary of the run to FILE
      --junit FILE      write a JUnit XML report to FILE (a testcase per task)
      --output MODE     tui (default on a terminal, CI unset: the running
                        tasks, their last lines, a progress bar and ETA; at
                        the end failed tasks' output and the summary), plain
                        (default otherwise: a line per task start and end,
                        each task's output in one block; groups and
                        annotations under GitHub Actions, a table of tasks
                        in CI) or json (one event per line)
      --output-logs WHAT  task output to show: new-only (default: not a cached
                        task's stored output), full, errors-only or none
  -C, --directory DIR   act as if rbuild started in DIR
  -h, --help            show this help
  -V, --version         show rbuild's version

Environment: RBUILD_CACHE_DIR puts the local cache somewhere other than .rbuild/.
Exit status: 0 ok, 1 a task failed, 2 usage or Buildfile error, 130 interrupted.
`;

const OPTIONS = {
  jobs: { type: "string", short: "j" },
  "keep-going": { type: "boolean", short: "k" },
  "no-undo": { type: "boolean" },
  "undo-on-interrupt": { type: "boolean" },
  force: { type: "boolean", short: "f" },
  "dry-run": { type: "boolean", short: "n" },
  sandbox: { type: "boolean" },
  filter: { type: "string", short: "F", multiple: true },
  since: { type: "string" },
  summary: { type: "string" },
  stub: { type: "string", multiple: true },
  junit: { type: "string" },
  output: { type: "string" },
  "output-logs": { type: "string" },
  directory: { type: "string", short: "C" },
  "max-size": { type: "string" },
  "max-age": { type: "string" },
  cache: { type: "boolean" },
  remote: { type: "string" },
  token: { type: "string" },
  "remote-read-only": { type: "boolean" },
  only: { type: "boolean" },
  "no-retries": { type: "boolean" },
  executor: { type: "string" },
  target: { type: "string" },
  team: { type: "string" },
  image: { type: "string" },
  username: { type: "string" },
  password: { type: "string" },
  format: { type: "string" },
  out: { type: "string" },
  check: { type: "boolean" },
  task: { type: "string" },
  limit: { type: "string" },
  json: { type: "boolean" },
  extract: { type: "string" },
  oci: { type: "string" },
  run: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

/**
 * parseArgs' words for a bad command line, except for an unknown option: its
 * advice about positionals starting with "-" does not apply (no task name may
 * start with one) and quotes unevenly, so say which options come close instead.
 */
function parseArgsProblem(error: Error & { code?: string }): string {
  const unknown = error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ? /^Unknown option '([^']*)'/.exec(error.message)?.[1] : undefined;
  if (unknown === undefined) return valueProblem(error) ?? error.message;
  const flags = Object.entries(OPTIONS).flatMap(([name, option]) => ["short" in option ? `-${option.short}` : [], `--${name}`].flat());
  const close = suggest(unknown, flags);
  return `Unknown option ${unknown}.${close.length === 0 ? "" : ` Did you mean ${close.join(" or ")}?`}`;
}

/** What each option that takes a value expects, in rbuild's words. Options checked below are "checked". */
const EXPECTS: Readonly<Record<string, { readonly what: string; readonly checked: boolean }>> = {
  jobs: { what: "a positive whole number", checked: true },
  summary: { what: "a file name", checked: false },
  stub: { what: "a task name, or TASK=COMMAND", checked: false },
  junit: { what: "a file name", checked: false },
  output: { what: '"tui", "plain" or "json"', checked: true },
  "output-logs": { what: `one of ${OUTPUT_LOGS.join(", ")}`, checked: true },
  directory: { what: "a directory", checked: false },
  "max-size": { what: "a size such as 500MB or 10GB", checked: true },
  "max-age": { what: "a number of days", checked: true },
  remote: { what: "an http://, https://, webdav+http(s):// or file:/// URL", checked: true },
  token: { what: "a token", checked: false },
  executor: { what: '"concourse" or "local"', checked: true },
  target: { what: "an http:// or https:// URL", checked: true },
  team: { what: "a Concourse team", checked: false },
  image: { what: "a container image reference", checked: true },
  username: { what: "a user name", checked: false },
  password: { what: "a password", checked: false },
  task: { what: "a task name", checked: false },
  limit: { what: "a positive whole number", checked: true },
  since: { what: `a git ref (a branch, tag or commit), or with \`rbuild errors\` ${SINCE_EXPECTS}`, checked: true },
  extract: { what: "a directory", checked: false },
  oci: { what: "a directory", checked: false },
  run: { what: "a whole number (0: the last run)", checked: true },
};

/** The option parseArgs names in `message` ("-j", "--summary <value>", "-j, --jobs <value>"), by its long name. */
function optionIn(message: string): string | undefined {
  const named = /^Option '([^']*)'/.exec(message)?.[1] ?? "";
  const long = /--([\w-]+)/.exec(named)?.[1];
  if (long !== undefined) return long;
  const short = /^-\w/.exec(named)?.[0];
  return short === undefined ? undefined : longOf(short);
}

/** The long name of the option `arg` is (`-j`, `--jobs`), if it is one. */
const longOf = (arg: string): string | undefined =>
  arg.startsWith("--") ? arg.slice(2) : Object.entries(OPTIONS).find(([, option]) => "short" in option && `-${option.short}` === arg)?.[0];

const flagName = (long: string): string => {
  const option = OPTIONS[long as keyof typeof OPTIONS];
  return "short" in option ? `-${option.short}/--${long}` : `--${long}`;
};

/**
 * An option given no value, or one that starts with "-" (which parseArgs calls
 * ambiguous and explains in its own words): said as rbuild says a bad value.
 * The ambiguous one, for an option whose value is checked, is undefined here:
 * the caller parses again with the value attached, and the check names it.
 */
function valueProblem(error: Error & { code?: string }): string | undefined {
  if (error.code !== "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") return undefined;
  const long = optionIn(error.message);
  const expects = long === undefined ? undefined : EXPECTS[long];
  if (long === undefined || expects === undefined) return undefined;
  if (/argument missing/.test(error.message)) return `${flagName(long)} needs ${expects.what}; none was given.`;
  return undefined;
}

/**
 * `argv` with each option that takes a value and is followed by one starting
 * with "-" written as `--option=value`, so that the value is checked (and named)
 * as any other: `-j -3` says that -3 is not a positive whole number.
 */
function attachDashValues(argv: readonly string[]): string[] | undefined {
  const out: string[] = [];
  let changed = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const long = longOf(arg);
    const next = argv[i + 1];
    if (long !== undefined && EXPECTS[long] !== undefined && next !== undefined && next.startsWith("-") && next !== "--") {
      if (!EXPECTS[long]!.checked) return undefined;
      out.push(`--${long}=${next}`);
      i++;
      changed = true;
    } else out.push(arg);
  }
  return changed ? out : undefined;
}

/** The message for a value starting with "-" given to an option whose value is not checked (a file name, a token). */
function dashValueProblem(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length - 1; i++) {
    const arg = argv[i]!;
    const long = longOf(arg);
    const next = argv[i + 1]!;
    const expects = long === undefined ? undefined : EXPECTS[long];
    if (long !== undefined && expects !== undefined && !expects.checked && next.startsWith("-")) {
      return `${flagName(long)} needs ${expects.what}, got "${next}", which looks like an option. For a value that starts with "-", write --${long}=${next}.`;
    }
  }
  return undefined;
}

/** The pool boy's own options: main.ts hands `rbuild pool ... --git` to it before these are parsed here. */
const POOL_BOY_FLAGS = ["--git", "--pools", "--branch", "--concourse"];

/** What to say of a pool boy's option that reached rbuild's own parser: --git is missing, or `pool` is not first. */
function poolBoyFlag(flag: string): string {
  return (
    `${flag} is an option of the pool boy, which reads a Concourse pool-resource git repository: ` +
    "`rbuild pool status --git REPO --pools NAME:MINUTES,...` or `rbuild pool clean --git REPO --pools NAME:MINUTES,...`, with `pool` first on the command line."
  );
}

function usage(message: string): { ok: false; error: SetupFailure } {
  return err({ reason: "usage", message });
}

export function parseCommandLine(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): Result<Args, SetupFailure> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    const problem = error as Error & { code?: string };
    if (problem.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && /ambiguous/.test(problem.message)) {
      const attached = attachDashValues(argv);
      if (attached !== undefined) return parseCommandLine(attached, env);
      const dash = dashValueProblem(argv);
      if (dash !== undefined) return usage(dash);
    }
    const unknown = problem.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ? /^Unknown option '(--[^'=]*)/.exec(problem.message)?.[1] : undefined;
    if (unknown !== undefined && POOL_BOY_FLAGS.includes(unknown) && argv.includes("pool")) return usage(poolBoyFlag(unknown));
    return usage(parseArgsProblem(problem));
  }
  const { values, positionals } = parsed;

  let jobs = availableParallelism();
  if (values.jobs !== undefined) {
    if (!/^[1-9]\d*$/.test(values.jobs)) return usage(`-j/--jobs needs a positive whole number, got "${values.jobs}".`);
    jobs = Number(values.jobs);
  }
  const output = values.output;
  if (output !== undefined && !(OUTPUT_MODES as readonly string[]).includes(output)) return usage(`--output must be "tui", "plain" or "json", got "${output}".`);
  if (values.summary === "") return usage("--summary needs a file name.");
  if (values.junit === "") return usage("--junit needs a file name.");
  const filters = values.filter ?? [];
  if (filters.some((filter) => filter === "")) return usage("--filter needs a package name, glob or ./directory.");
  const outputLogs = values["output-logs"] ?? "new-only";
  if (!(OUTPUT_LOGS as readonly string[]).includes(outputLogs)) {
    return usage(`--output-logs must be one of ${OUTPUT_LOGS.join(", ")}, got "${outputLogs}".`);
  }
  const maxSize = values["max-size"] === undefined ? undefined : parseSize(values["max-size"]);
  if (values["max-size"] !== undefined && maxSize === undefined) {
    return usage(`--max-size needs a size such as 500MB or 10GB, got "${values["max-size"]}".`);
  }
  const maxAge = values["max-age"];
  if (maxAge !== undefined && !/^\d+(\.\d+)?$/.test(maxAge)) return usage(`--max-age needs a number of days, got "${maxAge}".`);

  const first = positionals[0];
  const isSubcommand = (SUBCOMMANDS as readonly string[]).includes(first ?? "");
  const command: Args["command"] = values.version === true ? "version" : values.help === true ? "help" : isSubcommand ? (first as Subcommand) : "run";
  // With `rbuild errors`, --since is a date (historyFlags); everywhere else a git ref.
  const since = command === "errors" ? undefined : values.since;
  if (since === "") return usage("--since needs a git ref (a branch, tag or commit), e.g. `--since main`.");
  if (since !== undefined && since.startsWith("-")) return usage(`--since needs a git ref (a branch, tag or commit), got "${since}", which git would read as an option.`);
  const targets = isSubcommand ? positionals.slice(1) : positionals;
  if ((command === "list" || command === "clean" || command === "init") && targets.length > 0) {
    return usage(`\`rbuild ${command}\` takes no task names; to run a task named "${command}", use \`rbuild run ${command}\`.`);
  }
  if (command === "why" && targets.length !== 1) return usage("`rbuild why` takes exactly one task name, e.g. `rbuild why build`.");
  if (command === "pool" && !((targets[0] === "status" && targets.length === 1) || (targets[0] === "release" && targets.length === 3))) {
    return usage(
      "`rbuild pool` takes `status` or `release <pool> <holder>` for the shared pools' leases on --remote (e.g. `rbuild pool status --remote http://<cache server>`), " +
        "or `status` or `clean` with --git REPO --pools NAME:MINUTES,... for the locks of a Concourse pool-resource git repository.",
    );
  }
  if (command === "cache" && (targets.length !== 1 || (targets[0] !== "stats" && targets[0] !== "gc"))) {
    return usage("`rbuild cache` takes `stats` or `gc`, e.g. `rbuild cache gc --max-size 5GB`.");
  }
  if ((maxSize !== undefined || maxAge !== undefined) && !(command === "cache" && targets[0] === "gc")) {
    return usage("--max-size and --max-age go with `rbuild cache gc`.");
  }
  if (values.cache === true && command !== "clean") return usage("--cache goes with `rbuild clean`.");
  const builds = command === "run" || command === "watch";
  if (command === "watch") {
    const once: [given: boolean, flag: string][] = [
      [values["dry-run"] === true, "-n/--dry-run"],
      [values.summary !== undefined, "--summary"],
      [values.junit !== undefined, "--junit"],
    ];
    const flag = once.find(([given]) => given)?.[1];
    if (flag !== undefined) return usage(`${flag} goes with one build, e.g. \`rbuild build ${flag.split("/").at(-1)}\`, not with \`rbuild watch\`.`);
  }
  if (filters.length > 0 && !builds && command !== "graph") return usage("--filter goes with running tasks, e.g. `rbuild build --filter my-app...`, and with `rbuild graph`.");
  if (since !== undefined && !builds && command !== "graph") return usage("--since goes with running tasks, e.g. `rbuild test --since main`, with `rbuild graph`, and as a date with `rbuild errors`.");
  if (values.junit !== undefined && command !== "run") return usage("--junit goes with running tasks, e.g. `rbuild test --junit reports/rbuild.xml`.");
  // The flags of a build, said to go with one rather than silently ignored by the commands that run nothing.
  const buildFlags: [given: boolean, flag: string][] = [
    [values.force === true, "-f/--force"],
    [values["keep-going"] === true, "-k/--keep-going"],
    [values["no-undo"] === true, "--no-undo"],
    [values["undo-on-interrupt"] === true, "--undo-on-interrupt"],
    [values["dry-run"] === true, "-n/--dry-run"],
    [values.summary !== undefined, "--summary"],
    [values.stub !== undefined, "--stub"],
    [values.sandbox === true, "--sandbox"],
    [values["no-retries"] === true, "--no-retries"],
  ];
  const buildFlag = buildFlags.find(([given]) => given)?.[1];
  if (buildFlag !== undefined && !builds && command !== "help" && command !== "version") {
    return usage(`${buildFlag} goes with running tasks, e.g. \`rbuild build ${buildFlag.split("/").at(-1)}\`, not with \`rbuild ${command}\`.`);
  }
  if (values.only === true) {
    if (command !== "run") return usage(`--only goes with running tasks, e.g. \`rbuild run test --only\`, not with \`rbuild ${command}\`.`);
    if (values.force === true) return usage("--only takes the tasks' deps from the cache and -f/--force would run them; use one or the other.");
    if (values["dry-run"] === true) return usage("--only with -n/--dry-run is not supported; `rbuild run <task> -n` shows what would run and why.");
  }
  if (values.junit !== undefined && values["dry-run"] === true) {
    return usage("--junit reports a build that ran; a dry run runs nothing. Use --summary FILE for what a dry run would do.");
  }
  if (values["no-undo"] === true && values["undo-on-interrupt"] === true) {
    return usage("--no-undo and --undo-on-interrupt contradict each other: give one of them.");
  }
  const format = values.format ?? "text";
  if (!(GRAPH_FORMATS as readonly string[]).includes(format)) return usage(`--format must be one of ${GRAPH_FORMATS.join(", ")}, got "${format}".`);
  if (values.out === "") return usage("--out needs a file name.");
  if ((values.format !== undefined || values.out !== undefined || values.check === true) && command !== "graph") {
    return usage("--format, --out and --check go with `rbuild graph`.");
  }
  const history = historyFlags(values, command, targets);
  if (!history.ok) return history;
  const stubs = stubFlags(values.stub ?? []);
  if (!stubs.ok) return stubs;
  const remote = values.remote ?? (env.RBUILD_REMOTE_CACHE === "" ? undefined : env.RBUILD_REMOTE_CACHE);
  if (remote !== undefined && (!/^((webdav\+)?https?:\/\/[^/]|file:\/\/\/)/.test(remote) || !URL.canParse(remote))) {
    return usage(`${values.remote === undefined ? "RBUILD_REMOTE_CACHE" : "--remote"} must be an http://, https://, webdav+http(s):// or file:/// URL, got "${remote}".`);
  }
  const executor = concourseExecutor(values, env, command, remote);
  if (typeof executor === "string") return usage(executor);

  return ok({
    command,
    targets,
    jobs,
    keepGoing: values["keep-going"] === true,
    undo: values["no-undo"] === true ? "never" : values["undo-on-interrupt"] === true ? "failure-or-interrupt" : "failure",
    force: values.force === true,
    sandbox: values.sandbox === true,
    dryRun: values["dry-run"] === true,
    filters,
    since,
    summary: values.summary,
    junit: values.junit,
    output: output as OutputMode | undefined,
    outputLogs: outputLogs as OutputLogs,
    directory: values.directory,
    maxSize,
    maxAgeDays: maxAge === undefined ? undefined : Number(maxAge),
    cleanCache: values.cache === true,
    remote,
    token: values.token ?? (env.RBUILD_TOKEN === "" ? undefined : env.RBUILD_TOKEN),
    remoteReadOnly: values["remote-read-only"] === true,
    only: values.only === true,
    noRetries: values["no-retries"] === true,
    executor,
    graph: { format: format as GraphFormat, out: values.out, check: values.check === true },
    history: history.value,
    stubs: stubs.value,
  });
}

/** `--stub TASK[=COMMAND]`, each task once: the command after the first "=", or null for a no-op. */
function stubFlags(given: readonly string[]): Result<ReadonlyMap<string, string | null>, SetupFailure> {
  const stubs = new Map<string, string | null>();
  for (const value of given) {
    const at = value.indexOf("=");
    const name = at === -1 ? value : value.slice(0, at);
    if (name === "") return usage(`--stub needs a task name, as --stub deploy or --stub deploy='echo deployed', got "${value}".`);
    if (stubs.has(name)) return usage(`--stub ${name} is given twice; give each task one stub.`);
    stubs.set(name, at === -1 ? null : value.slice(at + 1));
  }
  return ok(stubs);
}

type HistoryValues = { task?: string; limit?: string; json?: boolean; since?: string; extract?: string; run?: string; oci?: string };

/** The flags of `history`, `errors` and `show`, each checked to go with its command and to hold what it needs. */
function historyFlags(values: HistoryValues, command: Args["command"], targets: readonly string[]): Result<HistoryFlags, SetupFailure> {
  const goesWith: [flag: keyof HistoryValues, commands: readonly Args["command"][], text: string][] = [
    ["task", ["history", "errors"], "`rbuild history` and `rbuild errors`"],
    ["limit", ["history"], "`rbuild history`"],
    ["json", ["history", "errors", "show", "pool"], "`rbuild history`, `rbuild errors`, `rbuild show` and `rbuild pool status`"],
    ["extract", ["show"], "`rbuild show`"],
    ["run", ["show", "export"], "`rbuild show` and `rbuild export`"],
    ["oci", ["export"], "`rbuild export`"],
  ];
  for (const [flag, commands, text] of goesWith) {
    if (values[flag] !== undefined && !commands.includes(command)) return usage(`--${flag} goes with ${text}.`);
  }
  if ((command === "history" || command === "errors") && targets.length > 0) {
    return usage(`\`rbuild ${command}\` takes no task names; for one task's, use --task ${targets[0]}. To run a task named "${command}", use \`rbuild run ${command}\`.`);
  }
  if (command === "show" && targets.length !== 1) return usage("`rbuild show` takes exactly one task name, e.g. `rbuild show build`.");
  if (command === "export" && targets.length !== 1) return usage("`rbuild export` takes exactly one task name, e.g. `rbuild export image --oci out/image`.");
  if (command === "export" && (values.oci === undefined || values.oci === "")) return usage("`rbuild export` needs --oci DIR: the directory to write the OCI image layout to.");
  if (values.task === "") return usage("--task needs a task name.");
  if (values.extract === "") return usage("--extract needs a directory.");
  if (values.limit !== undefined && !/^[1-9]\d*$/.test(values.limit)) return usage(`--limit needs a positive whole number, got "${values.limit}".`);
  if (values.run !== undefined && !/^\d+$/.test(values.run)) return usage(`--run needs a whole number (0: the last run, 1: the one before), got "${values.run}".`);
  if (command === "errors" && values.since !== undefined && parseSince(values.since, Date.now()) === undefined) return usage(`--since needs ${SINCE_EXPECTS}; got "${values.since}".`);
  return ok({
    task: values.task,
    limit: values.limit === undefined ? HISTORY_LIMIT : Number(values.limit),
    json: values.json === true,
    since: command === "errors" ? values.since : undefined,
    extract: values.extract,
    run: values.run === undefined ? 0 : Number(values.run),
    oci: values.oci,
  });
}

/** `--executor concourse` and its flags, checked; a string says what is wrong (never a credential). */
function concourseExecutor(
  values: { executor?: string; target?: string; team?: string; image?: string; username?: string; password?: string; "dry-run"?: boolean },
  env: Readonly<Record<string, string | undefined>>,
  command: string,
  remote: string | undefined,
): ConcourseExecutor | undefined | string {
  const executor = values.executor ?? "local";
  if (executor !== "concourse" && executor !== "local") return `--executor must be "concourse" or "local", got "${executor}".`;
  if (executor === "local") {
    const stray = (["target", "team", "image", "username", "password"] as const).find((flag) => values[flag] !== undefined);
    return stray === undefined ? undefined : `--${stray} goes with --executor concourse, e.g. \`rbuild build --executor concourse --target https://ci.example --team main --image REF --remote URL\`.`;
  }
  if (command !== "run") return `--executor concourse goes with running tasks, e.g. \`rbuild build --executor concourse ...\`, not with \`rbuild ${command}\`.`;
  if (values["dry-run"] === true) return "--executor concourse with -n/--dry-run is not supported: `rbuild <task> -n` shows what would run and why, wherever it runs.";
  if (remote === undefined) {
    return "--executor concourse needs --remote URL (or RBUILD_REMOTE_CACHE), a remote cache that this machine and the Concourse workers share: the one-off builds take what they need from it and leave their results in it, which is how this build gets their outputs back.";
  }
  if (remote.startsWith("file:")) return `--executor concourse needs a remote cache the Concourse workers can reach over the network; ${remote} is a directory on this machine.`;
  const url = values.target ?? "";
  if (url === "") return "--executor concourse needs --target URL: the Concourse's address, e.g. --target https://ci.example.";
  if (!/^https?:\/\/[^/]/.test(url) || !URL.canParse(url)) return `--target must be an http:// or https:// URL, got "${url}".`;
  const team = values.team ?? "";
  if (team === "") return "--executor concourse needs --team T: the Concourse team the builds run in (often `main`).";
  const image = values.image ?? "";
  if (image === "") return "--executor concourse needs --image REF: the container image the one-off builds run in, with rbuild installed (e.g. --image registry.example/acme/rbuild:1).";
  if (!/^[a-z0-9][a-z0-9._\-/:@]*$/i.test(image)) return `--image must be a container image reference such as node:20, got "${image}".`;
  const username = values.username ?? env.CONCOURSE_USERNAME ?? "";
  const password = values.password ?? env.CONCOURSE_PASSWORD ?? "";
  if (username === "") return "--executor concourse needs a user to log in as: set CONCOURSE_USERNAME (or pass --username).";
  if (password === "") return `--executor concourse needs the password of "${username}": set CONCOURSE_PASSWORD (or pass --password, which other users can see in ps).`;
  return { url, team, image, username, password };
}
