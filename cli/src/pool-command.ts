/**
 * `rbuild pool status [--json]`: each shared pool's holders on the `--remote`
 * cache server (host, build, task, age); `rbuild pool release <pool> <holder>`
 * frees one by hand (a holder that is stuck, not dead: a dead one's lease
 * expires by itself). With `--git`, main.ts hands `rbuild pool` to the pool boy
 * (pool-git-command.ts), for Concourse pool repositories, before this parses anything.
 */
import type { Args } from "./args.js";
import { ExitCode, reportSetupFailures } from "./exit.js";
import { keepsLeases } from "./shared-pools.js";

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

/** Rows as columns padded to their widest cell. */
function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ")).join("\n") + "\n";
}

export async function poolCommand(args: Args): Promise<number> {
  const cwd = process.cwd();
  if (args.remote === undefined || !keepsLeases(args.remote)) {
    const message = `\`rbuild pool ${args.targets[0]}\` reads the leases of an rbuild-cache-server: pass --remote http(s)://<server> (or set RBUILD_REMOTE_CACHE) with a token that may write.`;
    reportSetupFailures([{ reason: "usage", message }], cwd);
    return ExitCode.Usage;
  }
  const { HttpLeases } = await import("@rbuild/remote");
  const leases = new HttpLeases({ url: args.remote, ...(args.token === undefined ? {} : { token: args.token }) });
  try {
    if (args.targets[0] === "release") {
      const [, pool, holder] = args.targets as [string, string, string];
      if (await leases.release(pool, holder)) {
        process.stdout.write(`rbuild: released ${holder} from pool "${pool}"\n`);
        return ExitCode.Ok;
      }
      process.stderr.write(`rbuild: pool "${pool}" has no holder ${holder} (its lease may have ended already); \`rbuild pool status\` lists the holders\n`);
      return ExitCode.TaskFailed;
    }
    const pools = await leases.list();
    if (args.history.json) {
      const shown = pools.map((p) => ({ pool: p.pool, size: p.size, holders: p.holders.map(({ id, host, build, task, ageMs }) => ({ id, host, build, task, ageMs })) }));
      process.stdout.write(`${JSON.stringify({ pools: shown }, null, 2)}\n`);
      return ExitCode.Ok;
    }
    if (pools.length === 0) {
      process.stdout.write(`rbuild: no pool's lease is held on ${args.remote}\n`);
      return ExitCode.Ok;
    }
    const rows = [["POOL", "SIZE", "HOST", "BUILD", "TASK", "AGE", "HOLDER"]];
    for (const p of pools) for (const h of p.holders) rows.push([p.pool, String(p.size), h.host, h.build, h.task, age(h.ageMs), h.id]);
    process.stdout.write(table(rows));
    return ExitCode.Ok;
  } catch (error) {
    process.stderr.write(`rbuild: error: ${(error as Error).message}\n`);
    return ExitCode.TaskFailed;
  } finally {
    await leases.close();
  }
}
