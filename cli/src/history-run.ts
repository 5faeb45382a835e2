/**
 * What `rbuild show` and `rbuild export` share: the run a command names (a
 * task's last, or the one `--run N` before it), found in the history without
 * loading the Buildfile, and the layer stack its outputs are stored in, bottom
 * first (a transform's deps' layers, then its own difference), or the error
 * that says why there is none and what to do.
 */
import { readdirSync, statSync } from "node:fs";
import { unreachable } from "@rbuild/core";
import { runCount, runDetail, type RunDetail, type RunOutputs, type Store } from "@rbuild/store";
import type { Args } from "./args.js";
import { ExitCode, reportSetupFailures } from "./exit.js";
import { checkTask, withHistoryStore, type QueryIO } from "./history-access.js";

/**
 * Opens the history of the workspace `args` names, finds the run of its
 * target `args.history.run` runs back and hands it to `use`, with the
 * workspace root (what relative paths in the history are relative to); the
 * store is closed after. `io` is where its answer goes (this process's, or a daemon
 * client's). `usage` is a problem with the command's own options, said
 * (once the workspace is found) before anything is opened.
 */
export async function withRun(args: Args, io: QueryIO, usage: string | undefined, use: (store: Store, detail: RunDetail, root: string) => Promise<number> | number): Promise<number> {
  const task = args.targets[0]!;
  const { run } = args.history;
  return withHistoryStore(args, io, usage, async (store, place) => {
    const detail = runDetail(store, task, run);
    if (detail === undefined) {
      const known = await checkTask(store, task, args.directory, io);
      reportSetupFailures(known.ok ? [{ reason: "no-such-run", task, runs: runCount(store, task), asked: run }] : known.error, io.cwd, io.stderr);
      return ExitCode.Usage;
    }
    return use(store, detail, place.root);
  });
}

/** Why `flag DIR` cannot be written into: something there that is not an empty directory. */
export function emptyDirProblem(flag: string, dir: string): string | undefined {
  const stat = statSync(dir, { throwIfNoEntry: false });
  if (stat === undefined) return undefined;
  if (!stat.isDirectory()) return `${flag} ${dir} exists and is not a directory; give a new or empty directory.`;
  if (readdirSync(dir).length > 0) return `${flag} ${dir} is not empty; give a new or empty directory, so that nothing in it is overwritten.`;
  return undefined;
}

export const runName = (d: RunDetail): string => `task "${d.task}" run ${d.run} (build ${d.build})`;

/** A layer of a run's stack: its digest, the task whose own layer it is (null: none now), and its bytes or blob file. */
export interface StackedLayer {
  readonly digest: string;
  readonly task: string | null;
  readonly layer: string | Buffer;
}

/**
 * The layers holding the run's outputs, bottom first (none for a run that
 * stored no files), or why they cannot be had: `doing` is what the command
 * was about to do, as "cannot <doing>: ..." says it.
 */
export function storedStack(store: Store, detail: RunDetail, doing: string): { ok: true; layers: StackedLayer[] } | { ok: false; problem: string } {
  const outputs = detail.outputs;
  if (outputs.state !== "stored") return { ok: false, problem: `cannot ${doing}: ${outputsWhy(outputs.state, detail)}.` };
  if (outputs.layer === null) return { ok: true, layers: [] };
  const layers: StackedLayer[] = [];
  for (const { digest, task } of [...outputs.stack, { digest: outputs.layer, task: detail.task }]) {
    const read = store.readLayer(digest);
    if (read.check !== "ok") return { ok: false, problem: `cannot ${doing}: its layer ${digest} is ${read.check} in the cache (removed or damaged since); rebuild with \`rbuild ${detail.task} --force\`.` };
    layers.push({ digest, task, layer: read.layer });
  }
  return { ok: true, layers };
}

/** Why a run has no outputs to show, extract or export, for each state but `stored`. */
export function outputsWhy(state: Exclude<RunOutputs["state"], "stored">, detail: RunDetail): string {
  switch (state) {
    case "none":
      if (detail.status === "failed") return "it failed, and a failed run stores no outputs";
      if (detail.status === "interrupted") return "it was interrupted before it finished";
      return detail.status === "skipped" ? "it was skipped" : "it stored none";
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
