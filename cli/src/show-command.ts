/**
 * `rbuild show <task> [--run N] [--extract DIR] [--json]`: a task's last run
 * (or the one N runs before it): when and where, status, key, reasons,
 * duration, the output files with their digests, and the log. `--extract DIR`
 * writes that run's outputs, from its layer in the cache, into DIR: a new or
 * empty directory (nothing is overwritten), and nothing outside it (the
 * layer restore checks every path and link, as a build's restore does). A
 * transform's run lists its layer stack, bottom first, and `--extract`
 * applies the whole stack. A container task's run names the image its key
 * was computed with (recorded by key: a run answered from the freshness
 * record has its key's), by its path as the Buildfile names it (relative to
 * the workspace root; absolute for one outside it), its kind and digest.
 */
import { mkdirSync, realpathSync } from "node:fs";
import { resolve } from "node:path";
import { extractStack, imagePathShown, runImage, type ManifestEntry, type RunDetail, type RunImageRecord, type RunOutputs, type Store } from "@rbuild/store";
import { formatDuration } from "@rbuild/ui";
import type { Args } from "./args.js";
import { ExitCode } from "./exit.js";
import { localTime, type QueryIO } from "./history-access.js";
import { IMAGE_KINDS } from "./image-kinds.js";
import { runJson } from "./history-command.js";
import { emptyDirProblem, outputsWhy, runName, storedStack, withRun } from "./history-run.js";

export async function showCommand(args: Args, io: QueryIO): Promise<number> {
  const { stdout, stderr } = io;
  const { extract, json } = args.history;
  const into = extract === undefined ? undefined : resolve(io.cwd, extract);
  const problem = into === undefined ? undefined : emptyDirProblem("--extract", into);
  return withRun(args, io, problem, async (store, detail, root) => {
    const extracted = into === undefined ? undefined : await extractRun(store, detail, into);
    if (extracted !== undefined && !extracted.ok) {
      stderr.write(`rbuild: error: ${extracted.problem}\n`);
      return ExitCode.TaskFailed;
    }
    const recorded = detail.key === null ? undefined : runImage(store, detail.key);
    const image = recorded === undefined ? undefined : { ...recorded, path: imagePathShown(root, recorded.path) };
    if (json) stdout.write(`${JSON.stringify(detailJson(detail, image, into), null, 2)}\n`);
    else stdout.write(detailText(detail, image) + (into === undefined ? "" : `\nWrote its ${outputCount(detail.outputs)} to ${into}\n`));
    return ExitCode.Ok;
  });
}

/** Writes the run's outputs into `dir` (made when missing), or says why they cannot be. */
async function extractRun(store: Store, detail: RunDetail, dir: string): Promise<{ ok: true } | { ok: false; problem: string }> {
  const stack = storedStack(store, detail, `extract the outputs of ${runName(detail)}`);
  if (!stack.ok) return stack;
  mkdirSync(dir, { recursive: true });
  if (stack.layers.length === 0 || detail.outputs.state !== "stored") return { ok: true }; // No outputs: an empty directory is all of them.
  const result = await extractStack(stack.layers.map((l) => l.layer), realpathSync(dir), detail.outputs.manifest);
  return result.ok ? result : { ok: false, problem: `the layer of ${runName(detail)} was not extracted, nothing was written: ${result.problem}.` };
}

function outputCount(outputs: RunOutputs): string {
  const n = outputs.state === "stored" ? outputs.manifest.length : 0;
  return n === 1 ? "1 output" : `${n} outputs`;
}

function entryText(entry: ManifestEntry): string {
  return entry.type === "file" ? entry.digest : entry.type === "symlink" ? `-> ${entry.target}` : "directory";
}

/** `image`: the container image the run's key was computed with, its path as shown; undefined for a task that ran in none. */
function detailText(d: RunDetail, image: RunImageRecord | undefined): string {
  const where = [`build ${d.build}`, localTime(d.started), ...(d.commit === null ? [] : [`commit ${d.commit.slice(0, 10)}`]), ...(d.host === null ? [] : [`on ${d.host}`])];
  const status = `${d.status}${d.cache === null ? "" : ` (${d.cache} cache)`} in ${formatDuration(d.durationMs)}${d.exitCode === null ? "" : `, exit code ${d.exitCode}`}${d.attempt === null ? "" : `, attempt ${d.attempt}`}`;
  const lines = [`${d.task}: run ${d.run} (${where.join(", ")})`, `status:   ${status}`, `key:      ${d.key ?? "- (not cached)"}`];
  if (image !== undefined) lines.push(`image:    ${image.path} (${IMAGE_KINDS[image.kind]}, ${image.digest})`);
  lines.push(`reasons:  ${d.reasons.join(", ") || "-"}`);
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

function detailJson(d: RunDetail, image: RunImageRecord | undefined, extracted: string | undefined): object {
  const layers = d.outputs.state === "stored" && d.outputs.layer !== null ? [...d.outputs.stack, { digest: d.outputs.layer, task: d.task }] : [];
  const outputs = d.outputs.state === "stored" ? { state: "stored", files: d.outputs.manifest, ...(d.outputs.stack.length === 0 ? {} : { layers }) } : { state: d.outputs.state };
  const log = typeof d.logLines === "string" ? d.logLines : d.logLines.map(([stream, line]) => ({ stream: stream === "o" ? "stdout" : "stderr", line }));
  return { ...runJson(d), ...(image === undefined ? {} : { image: { path: image.path, kind: image.kind, digest: image.digest } }), outputs, logLines: log, ...(extracted === undefined ? {} : { extracted }) };
}
