/**
 * `rbuild pool status --git` and `rbuild pool clean --git`: the pool boy for
 * Concourse pool-resource git repositories (see @rbuild/poolgit). It takes the
 * words after `pool` as they were typed and parses its own flags, so that
 * `rbuild pool` (shared leases, pool-command.ts) only has to hand `--git` over.
 */
import { parseArgs } from "node:util";
import {
  checkStaleClaims,
  cleanPools,
  describeCheck,
  describeClaimingBuild,
  formatAge,
  formatStatus,
  parsePoolsSpec,
  readPools,
  withPoolRepo,
  type BuildChecks,
  type CleanReport,
  type PoolSpec,
  type PoolStatus,
  type StaleClaim,
} from "@rbuild/poolgit";
import { ConcourseClient } from "@rbuild/concourse";
import { concourseBuildLookup } from "./concourse-build-lookup.js";
import { ExitCode } from "./exit.js";

export interface PoolGitIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export const POOL_GIT_USAGE = `Usage: rbuild pool status --git REPO --pools NAME:MINUTES,... [--branch B] [--json]
       rbuild pool clean --git REPO --pools NAME:MINUTES,... [--branch B] [-n/--dry-run]
   with [--concourse URL [--team T]]: a stale claim is unclaimed only when Concourse says its build has
   finished or does not exist; log in with CONCOURSE_USERNAME and CONCOURSE_PASSWORD (or --username/--password).
REPO is a Concourse pool-resource repository (a URL or a path); a claim older than its pool's MINUTES is stale.
`;

const OPTIONS = {
  git: { type: "string" },
  pools: { type: "string" },
  branch: { type: "string" },
  json: { type: "boolean" },
  "dry-run": { type: "boolean", short: "n" },
  concourse: { type: "string" },
  team: { type: "string" },
  username: { type: "string", short: "u" },
  password: { type: "string" },
} as const;

interface ConcourseArgs {
  readonly url: string;
  readonly team: string;
  readonly username: string;
  readonly password: string;
}

interface PoolGitArgs {
  readonly action: "status" | "clean";
  readonly url: string;
  readonly branch: string | undefined;
  readonly pools: readonly PoolSpec[];
  readonly json: boolean;
  readonly dryRun: boolean;
  readonly concourse: ConcourseArgs | undefined;
}

type Parsed = { ok: true; args: PoolGitArgs } | { ok: false; message: string; exit: number };

function parse(words: readonly string[], env: PoolGitIo["env"]): Parsed {
  const usage = (message: string): Parsed => ({ ok: false, message: `${message}\n${POOL_GIT_USAGE}`, exit: ExitCode.Usage });
  let parsed;
  try {
    parsed = parseArgs({ args: [...words], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    return usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  const action = positionals[0];
  if (action !== "status" && action !== "clean") return usage(`\`rbuild pool\` with --git takes \`status\` or \`clean\`${action === undefined ? "" : `, not "${action}"`}.`);
  if (positionals.length > 1) return usage(`\`rbuild pool ${action}\` takes no more words, got "${positionals.slice(1).join(" ")}".`);
  let concourse: ConcourseArgs | undefined;
  if (values.concourse !== undefined) {
    if (values.concourse === "") return usage("--concourse needs the Concourse's URL, e.g. --concourse https://ci.example.org.");
    const username = values.username ?? env.CONCOURSE_USERNAME ?? "";
    const password = values.password ?? env.CONCOURSE_PASSWORD ?? "";
    if (username === "") return usage("--concourse needs a user to log in as: set CONCOURSE_USERNAME (or pass --username).");
    if (password === "") return usage(`--concourse needs the password of "${username}": set CONCOURSE_PASSWORD (or pass --password, which other users can see in ps).`);
    concourse = { url: values.concourse, team: values.team ?? "main", username, password };
  } else if (values.team !== undefined || values.username !== undefined || values.password !== undefined) {
    return usage("--team, --username and --password go with --concourse URL.");
  }
  if (values.git === undefined || values.git === "") return usage("--git needs the pool repository, a URL or a path.");
  if (values.pools === undefined || values.pools === "") return usage("--pools needs name:minutes pairs, e.g. --pools workers:60,testers:30.");
  const pools = parsePoolsSpec(values.pools);
  if (!pools.ok) return usage(pools.error);
  if (values.branch === "") return usage("--branch needs a branch name.");
  if (values.json === true && action !== "status") return usage("--json goes with `rbuild pool status`.");
  if (values["dry-run"] === true && action !== "clean") return usage("-n/--dry-run goes with `rbuild pool clean`; `rbuild pool status` changes nothing.");
  return { ok: true, args: { action, url: values.git, branch: values.branch, pools: pools.value, json: values.json === true, dryRun: values["dry-run"] === true, concourse } };
}

/** Runs `rbuild pool status|clean --git ...` (`words`: what followed `pool`); resolves to the exit status. */
export async function poolGitCommand(words: readonly string[], io: PoolGitIo = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() }): Promise<number> {
  const parsed = parse(words, io.env);
  if (!parsed.ok) {
    io.stderr.write(`rbuild: error: ${parsed.message}${parsed.message.endsWith("\n") ? "" : "\n"}`);
    return parsed.exit;
  }
  const { args } = parsed;
  const repoOptions = { url: args.url, branch: args.branch, cwd: io.cwd, env: io.env };
  const client = args.concourse === undefined ? undefined : new ConcourseClient(args.concourse);
  const builds = client === undefined ? undefined : concourseBuildLookup(client);
  let partial = "";
  try {
    const result =
      args.action === "status"
        ? await withPoolRepo(repoOptions, async (repo) => {
            const pools = await readPools(repo, args.pools, Date.now());
            if (!pools.ok) return pools;
            let checks: BuildChecks | undefined;
            if (builds !== undefined) {
              const checked = await checkStaleClaims(pools.value, builds);
              // Concourse unreachable: the pools as git shows them, then the failure.
              if (!checked.ok) partial = formatStatus(pools.value);
              if (!checked.ok) return checked;
              checks = checked.value;
            }
            return { ok: true as const, value: args.json ? statusJson(args.url, repo.branch, pools.value, checks) : formatStatus(pools.value, checks) };
          })
        : await withPoolRepo(repoOptions, async (repo) => {
            const report = await cleanPools(repo, args.pools, { dryRun: args.dryRun, ...(builds === undefined ? {} : { builds }) });
            return report.ok ? { ok: true as const, value: cleanText(report.value, args.url, repo.branch) } : report;
          });
    if (!result.ok) {
      if (!args.json) io.stdout.write(partial);
      io.stderr.write(`rbuild: error: ${result.error.message}\n`);
      return ExitCode.TaskFailed;
    }
    io.stdout.write(result.value);
    return ExitCode.Ok;
  } finally {
    await client?.close();
  }
}

function statusJson(repo: string, branch: string, pools: readonly PoolStatus[], checks: BuildChecks | undefined): string {
  const described = pools.map((pool) => ({
    ...pool,
    locks: pool.locks.map((lock) => (lock.state === "claimed" ? { ...lock, claimedBy: describeClaimingBuild(lock.build), ...buildJson(checks?.get(lock.commit)) } : lock)),
  }));
  return `${JSON.stringify({ repo, branch, pools: described }, null, 2)}\n`;
}

const buildJson = (check: BuildChecks extends ReadonlyMap<string, infer C> ? C | undefined : never): object => (check === undefined ? {} : { buildCheck: { ...check, text: describeCheck(check) } });

const claimLine = (verb: string, claim: StaleClaim, checks: BuildChecks | undefined): string => {
  const check = checks?.get(claim.lock.commit);
  return `${verb} ${claim.lock.name} of ${claim.pool.name}: claimed ${formatAge(claim.lock.ageMinutes)} ago by ${describeClaimingBuild(claim.lock.build)}, past the pool's ${formatAge(claim.pool.staleAfterMinutes)}${check === undefined ? "" : ` (${describeCheck(check)})`}\n`;
};

function cleanText(report: CleanReport, repo: string, branch: string): string {
  let text = "";
  for (const pool of report.pools) {
    const minutes = formatAge(pool.staleAfterMinutes);
    for (const lock of pool.locks) {
      if (lock.state === "claimed" && !lock.stale) text += `kept ${lock.name} of ${pool.name}: claimed ${formatAge(lock.ageMinutes)} ago by ${describeClaimingBuild(lock.build)}, within the pool's ${minutes}\n`;
    }
  }
  for (const claim of report.moved) text += claimLine(report.dryRun ? "would unclaim" : "unclaimed", claim, report.checks);
  for (const alone of report.leftAlone) text += `left ${alone.lock} of ${alone.pool} alone: ${alone.why}\n`;
  if (report.dryRun) return `${text}dry run: nothing committed or pushed\n`;
  if (report.moved.length === 0) {
    const names = report.pools.map((pool) => pool.name).join(", ");
    return `${text}nothing to clean: no claim in ${names} is stale${report.leftAlone.length > 0 ? " any more" : ""}\n`;
  }
  const retries = report.pushAttempts - 1;
  const after = retries === 0 ? "" : ` (after ${retries} non-fast-forward ${retries === 1 ? "retry" : "retries"})`;
  return `${text}pushed ${report.moved.length} ${report.moved.length === 1 ? "commit" : "commits"} to ${branch} of ${repo}${after}\n`;
}
