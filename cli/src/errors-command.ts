/**
 * `rbuild errors [--task T] [--since WHEN] [--json]`: the error database. The
 * failures the history keeps, grouped by task and signature (the error and
 * log tail with numbers, digests, temp paths and times masked: see the
 * store's error-signature.ts), the most recently seen first; each group with
 * its count, when it was first and last seen, and the newest one's error and
 * last log lines. A failure repeated is one group with a count.
 */
import { errorGroups, type ErrorGroup } from "@rbuild/store";
import type { Args } from "./args.js";
import { ExitCode, reportSetupFailures } from "./exit.js";
import { checkTask, localTime, type QueryIO, withHistoryStore } from "./history-access.js";
import { parseSince } from "./since-date.js";

export async function errorsCommand(args: Args, io: QueryIO): Promise<number> {
  const { cwd, stdout, stderr } = io;
  const { task, since: sinceText, json } = args.history;
  // Checked by the command line's parser: a date it accepted.
  const since = sinceText === undefined ? undefined : parseSince(sinceText, Date.now())!;
  return withHistoryStore(args, io, undefined, async (store) => {
    const groups = errorGroups(store, { ...(task === undefined ? {} : { task }), ...(since === undefined ? {} : { since }) });
    if (groups.length === 0 && task !== undefined) {
      const known = await checkTask(store, task, args.directory, io);
      if (!known.ok) {
        reportSetupFailures(known.error, cwd, stderr);
        return ExitCode.Usage;
      }
    }
    if (json) stdout.write(`${JSON.stringify(groups.map(groupJson), null, 2)}\n`);
    else stdout.write(groups.length === 0 ? noFailures(task, sinceText) : groups.map(groupText).join("\n"));
    return ExitCode.Ok;
  });
}

function noFailures(task: string | undefined, since: string | undefined): string {
  return `No failures recorded${task === undefined ? "" : ` for task "${task}"`}${since === undefined ? "" : ` since ${since}`}.\n`;
}

function groupText(group: ErrorGroup): string {
  const times = group.count === 1 ? "once" : group.count === 2 ? "twice" : `${group.count} times`;
  const when = group.count === 1 ? localTime(group.lastSeen) : `first ${localTime(group.firstSeen)}, last ${localTime(group.lastSeen)}`;
  const lines = [`${group.task}: failed ${times}, ${when} (build ${group.lastBuild})`];
  for (const line of (group.error ?? "").split("\n")) if (line !== "") lines.push(`  ${line}`);
  if (group.tail.length > 0) lines.push("  last log lines:", ...group.tail.map((line) => `  | ${line}`));
  return `${lines.join("\n")}\n`;
}

function groupJson(group: ErrorGroup): object {
  return {
    task: group.task,
    count: group.count,
    firstSeen: new Date(group.firstSeen).toISOString(),
    lastSeen: new Date(group.lastSeen).toISOString(),
    lastBuild: group.lastBuild,
    exitCode: group.exitCode,
    error: group.error,
    tail: group.tail,
    signature: group.signature,
  };
}
