/**
 * What a build would do, without doing it: `--dry-run` and `rbuild why`.
 * Keys are computed from the workspace as it is; a task whose dep would run
 * cannot know its key yet (the dep's outputs decide it), so it "would run"
 * with the reason `dep-will-run: <dep>`. A context value computed from a
 * cached task's outputs (see context-values.ts) is computed from the outputs
 * in the workspace.
 */
import type { Digest } from "@rbuild/hash";
import type { Graph } from "@rbuild/planner";
import { ContextValues } from "./context-values.js";
import { groupOutputsDigest } from "./fresh-entry.js";
import { TaskCache, type CacheOptions } from "./task-cache.js";

export interface PlannedRun {
  readonly name: string;
  readonly action: "run" | "cached" | "group";
  readonly key: string | null;
  readonly reasons: readonly string[];
}

export function dryRun(graph: Graph, options: CacheOptions, env: Readonly<Record<string, string | undefined>> = process.env): PlannedRun[] {
  const cache = new TaskCache(graph, options, env, () => {});
  const outputs = new Map<string, Digest>();
  const willRun = new Set<string>();
  const context = new ContextValues(graph.root);
  const plan: PlannedRun[] = [];
  for (const task of graph.tasks.values()) {
    const running = task.deps.filter((dep) => willRun.has(dep));
    if (task.run === undefined) {
      if (running.length > 0) willRun.add(task.name);
      else outputs.set(task.name, groupOutputsDigest(task, outputs));
      plan.push({ name: task.name, action: "group", key: null, reasons: running.map((dep) => `dep-will-run: ${dep}`) });
      continue;
    }
    if (running.length > 0) {
      willRun.add(task.name);
      plan.push({ name: task.name, action: "run", key: null, reasons: running.map((dep) => `dep-will-run: ${dep}`) });
      continue;
    }
    const prepared = cache.prepare(task, outputs, context.of(task));
    if (prepared.undecodable.length > 0) {
      // It would fail: its key would leave those files out (see expandGlobs).
      willRun.add(task.name);
      plan.push({ name: task.name, action: "run", key: null, reasons: prepared.undecodable.map((path) => `undecodable-input: ${path}`) });
      continue;
    }
    if (prepared.throughLink !== undefined) {
      // It would fail: the symlink rule refuses one of its globs.
      willRun.add(task.name);
      plan.push({ name: task.name, action: "run", key: null, reasons: [`through-symlink: ${prepared.throughLink.link}`] });
      continue;
    }
    const entry = task.pure && !cache.force ? options.store.lookup(prepared.key) : undefined;
    if (entry !== undefined) {
      outputs.set(task.name, entry.outputsDigest);
      if (task.context.length > 0) context.settle(task);
      plan.push({ name: task.name, action: "cached", key: prepared.key, reasons: [] });
    } else {
      willRun.add(task.name);
      plan.push({ name: task.name, action: "run", key: task.pure ? prepared.key : null, reasons: cache.explain(task, prepared) });
    }
  }
  return plan;
}
