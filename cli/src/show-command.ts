/**
 * `rbuild show <task> [--run N] [--extract DIR] [--json]`: a task's last run
 * (or the one N runs before it): when and where, status, key, reasons,
 * duration, the output files with their digests, and the log. `--extract DIR`
 * writes that run's outputs, from its layer in the cache, into DIR: a new or
 * empty directory (nothing is overwritten), and nothing outside it (the
 * layer restore checks every path and link, as a build's restore does). A
 * transform's run lists its layer stack, bottom first, and `--extract`
 * applies the whole stack.
 */
import { mkdirSync, readdirSync, realpathSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { unreachable } from "@rbuild/core";
import { extractStack, runCount, runDetail, type ManifestEntry, type RunDetail, type RunOutputs, type Store } from "@rbuild/store";
import { formatDuration } from "@rbuild/ui";
import type { Args } from "./args.js";
import { guardingCache } from "./cache-access.js";
import { ExitCode, reportSetupFailures } from "./exit.js";
import { checkTask, historyPlace, localTime, openHistoryStore, type QueryIO } from "./history-access.js";
import { runJson } from "./history-command.js";

export async function showCommand(args: Args, io: QueryIO): Promise<number> {
  const { cwd, stdout, stderr } = io;
  const place = historyPlace(args.directory, io.env, cwd);
  if (!place.ok) {
    reportSetupFailures([place.error], cwd, stderr);
    return ExitCode.Usage;
  }
  const task = args.targets[0]!;
  const { run, extract, json } = args.history;
  const into = extract === undefined ? undefined : resolve(cwd, extract);
  const problem = into === undefined ? undefined : extractProblem(into);
  if (problem !== undefined) {
    reportSetupFailures([{ reason: "usage", message: problem }], cwd, stderr);
    return ExitCode.Usage;
  }
  return guardingCache(
    place.value.cacheDir,
    cwd,
    async () => {
      const store = openHistoryStore(place.value, stderr);
      try {
        const detail = runDetail(store, task, run);
        if (detail === undefined) {
          const known = await checkTask(store, task, args.directory, io);
          reportSetupFailures(known.ok ? [{ reason: "no-such-run", task, runs: runCount(store, task), asked: run }] : known.error, cwd, stderr);
          return ExitCode.Usage;
        }
        const extracted = into === undefined ? undefined : await extractRun(store, detail, into);
        if (extracted !== undefined && !extracted.ok) {
          stderr.write(`rbuild: error: ${extracted.problem}\n`);
          return ExitCode.TaskFailed;
        }
        if (json) stdout.write(`${JSON.stringify(detailJson(detail, into), null, 2)}\n`);
        else stdout.write(detailText(detail) + (into === undefined ? "" : `\nWrote its ${outputCount(detail.outputs)} to ${into}\n`));
        return ExitCode.Ok;
      } finally {
        store.close();
      }
    },
    stderr,
  );
}

/** Why `--extract DIR` cannot be written into: something there that is not an empty directory. */
function extractProblem(dir: string): string | undefined {
  const stat = statSync(dir, { throwIfNoEntry: false });
  if (stat === undefined) return undefined;
  if (!stat.isDirectory()) return `--extract ${dir} exists and is not a directory; give a new or empty directory.`;
  if (readdirSync(dir).length > 0) return `--extract ${dir} is not empty; give a new or empty directory, so that nothing in it is overwritten.`;
  return undefined;
}

/** Writes the run's outputs into `dir` (made when missing), or says why they cannot be. */
async function extractRun(store: Store, detail: RunDetail, dir: string): Promise<{ ok: true } | { ok: false; problem: string }> {
  const outputs = detail.outputs;
  if (outputs.state !== "stored") return { ok: false, problem: `cannot extract the outputs of ${runName(detail)}: ${outputsWhy(outputs.state, detail)}.` };
  mkdirSync(dir, { recursive: true });
  if (outputs.layer === null) return { ok: true }; // No outputs: an empty directory is all of them.
  const layers: (string | Buffer)[] = [];
  for (const digest of [...outputs.stack.map((s) => s.digest), outputs.layer]) {
    const layer = store.readLayer(digest);
    if (layer.check !== "ok") return { ok: false, problem: `cannot extract the outputs of ${runName(detail)}: its layer ${digest} is ${layer.check} in the cache (removed or damaged since); rebuild with \`rbuild ${detail.task} --force\`.` };
    layers.push(layer.layer);
  }
  const result = await extractStack(layers, realpathSync(dir), outputs.manifest);
  return result.ok ? result : { ok: false, problem: `the layer of ${runName(detail)} was not extracted, nothing was written: ${result.problem}.` };
}

const runName = (d: RunDetail): string => `task "${d.task}" run ${d.run} (build ${d.build})`;

function outputCount(outputs: RunOutputs): string {
  const n = outputs.state === "stored" ? outputs.manifest.length : 0;
  return n === 1 ? "1 output" : `${n} outputs`;
}

/** Why a run has no outputs to show or extract, for each state but `stored`. */
function outputsWhy(state: Exclude<RunOutputs["state"], "stored">, detail: RunDetail): string {
  switch (state) {
    case "none":
      return detail.status === "failed" ? "it failed, and a failed run stores no outputs" : detail.status === "skipped" ? "it was skipped" : "it stored none";
    case "impure":
      return "the task is impure, so its outputs are not kept in the cache";
    case "gone":
      return "they are no longer in the cache (removed by `rbuild cache gc`, or the cache was started over)";
    case "replaced":
      return "the cache now holds another result for the same key (the task's outputs differ from run to run)";
    default:
      return unreachable(state);
  }
}

function entryText(entry: ManifestEntry): string {
  return entry.type === "file" ? entry.digest : entry.type === "symlink" ? `-> ${entry.target}` : "directory";
}

function detailText(d: RunDetail): string {
  const where = [`build ${d.build}`, localTime(d.started), ...(d.commit === null ? [] : [`commit ${d.commit.slice(0, 10)}`]), ...(d.host === null ? [] : [`on ${d.host}`])];
  const status = `${d.status}${d.cache === null ? "" : ` (${d.cache} cache)`} in ${formatDuration(d.durationMs)}${d.exitCode === null ? "" : `, exit code ${d.exitCode}`}${d.attempt === null ? "" : `, attempt ${d.attempt}`}`;
  const lines = [`${d.task}: run ${d.run} (${where.join(", ")})`, `status:   ${status}`, `key:      ${d.key ?? "- (not cached)"}`, `reasons:  ${d.reasons.join(", ") || "-"}`];
  if (d.error !== null) lines.push(`error:    ${d.error.split("\n").join("\n          ")}`);
  if (d.outputs.state === "stored") {
    const width = Math.max(0, ...d.outputs.manifest.map((e) => e.path.length));
    lines.push(`outputs:  ${outputCount(d.outputs)}`, ...d.outputs.manifest.map((e) => `  ${e.path.padEnd(width)}  ${entryText(e)}`));
    if (d.outputs.stack.length > 0 && d.outputs.layer !== null) {
      // A transform: its own layer holds only its difference from the ones below it.
      const layers = [...d.outputs.stack.map((s) => `  ${s.digest}  ${s.task === null ? "(no stored result names it now)" : `task "${s.task}"`}`), `  ${d.outputs.layer}  this run (its difference)`];
      lines.push(`layers:   ${layers.length}, bottom first`, ...layers);
    }
  } else lines.push(`outputs:  none here: ${outputsWhy(d.outputs.state, d)}`);
  if (d.logLines === "none") lines.push("log:      empty");
  else if (d.logLines === "gone") lines.push("log:      no longer in the cache");
  else lines.push("log:", ...d.logLines.map(([, line]) => `  | ${line}`));
  return `${lines.join("\n")}\n`;
}

function detailJson(d: RunDetail, extracted: string | undefined): object {
  const layers = d.outputs.state === "stored" && d.outputs.layer !== null ? [...d.outputs.stack, { digest: d.outputs.layer, task: d.task }] : [];
  const outputs = d.outputs.state === "stored" ? { state: "stored", files: d.outputs.manifest, ...(d.outputs.stack.length === 0 ? {} : { layers }) } : { state: d.outputs.state };
  const log = typeof d.logLines === "string" ? d.logLines : d.logLines.map(([stream, line]) => ({ stream: stream === "o" ? "stdout" : "stderr", line }));
  return { ...runJson(d), outputs, logLines: log, ...(extracted === undefined ? {} : { extracted }) };
}
